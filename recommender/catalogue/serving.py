"""Serving the catalogue strategies: fitted models per store, and one learner's list.

:class:`CatalogueModels` keeps one fitted strategy per name, fitted on every stored learner's
attempts (:func:`.loaders.read_store`, in a worker thread for the fit). A model is refitted
when the store has moved (its attempt count, or a curriculum change-log entry) and it is older
than ``max_age`` seconds; concurrent callers share one fit. :func:`recommend` ranks the items
outside a learner's history (their attempts, plus any items they chose: cold start) and
explains each one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from graph.store import GraphStore
from recommender.catalogue import explain as ex
from recommender.catalogue import make_strategy
from recommender.catalogue.base import Strategy
from recommender.catalogue.cold_start import place_new_items
from recommender.catalogue.content import tfidf_items
from recommender.catalogue.data import Catalogue, history_matrix, skill_sets
from recommender.catalogue.embedding import EmbeddingBPR
from recommender.catalogue.knn import item_cosine
from recommender.catalogue.loaders import learner_events, read_store
from recommender.catalogue.metrics import top_k
from recommender.catalogue.split import order_matrix
from recommender.errors import InvalidParameterError, UnknownIdError
from recommender.explain import Reason


@dataclass(frozen=True)
class Fitted:
    """A fitted strategy and what explanations need."""

    strategy: Strategy
    catalogue: Catalogue
    co_sim: np.ndarray
    content_sim: np.ndarray
    titles: dict[str, str]
    skill_names: dict[str, str]
    dependents: dict[str, tuple[str, ...]]
    version: tuple[int, int]
    fitted_at: float


@dataclass(frozen=True, slots=True)
class CatalogueRecommendation:
    item: str
    skills: tuple[str, ...]
    score: float
    reasons: tuple[Reason, ...]


async def _version(store: GraphStore) -> tuple[int, int]:
    count = await store.attempt_count()
    seq = 0
    while True:
        page = await store.change_log(after_seq=seq, limit=1000)
        if not page:
            return count, seq
        seq = page[-1].seq


def _fit(
    name: str,
    seed: int,
    epochs: int,
    catalogue: Catalogue,
    rows: list[list[int]],
    version: tuple[int, int],
    graph: tuple[dict[str, str], dict[str, tuple[str, ...]]],
    titles: dict[str, str],
    now: float,
) -> Fitted:
    train = order_matrix(rows, catalogue.n_items)
    strategy = make_strategy(name, seed=seed, epochs=epochs)
    try:
        strategy.fit(train, catalogue)
    except ValueError as exc:  # scikit-learn on data too small for the model
        raise InvalidParameterError("strategy", name, f"more stored attempts ({exc})") from None
    if isinstance(strategy, EmbeddingBPR):
        place_new_items(strategy, catalogue, train)
    x = tfidf_items(catalogue)
    return Fitted(
        strategy=strategy,
        catalogue=catalogue,
        co_sim=item_cosine(train),
        content_sim=np.asarray((x @ x.T).todense()),
        titles=titles,
        skill_names=graph[0],
        dependents=graph[1],
        version=version,
        fitted_at=now,
    )


class CatalogueModels:
    """Args: max_age: seconds a fitted model serves a moved store (default 300); seed (0);
    epochs: embedding training epochs (30); clock (``time.monotonic``).

    A fit runs as its own task, shielded from the request that started it: a request that
    times out while a large model fits leaves the fit running, and the next request for the
    same strategy waits for that fit instead of starting another."""

    def __init__(
        self,
        max_age: float = 300.0,
        seed: int = 0,
        epochs: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_age, self.seed, self.epochs, self.clock = max_age, seed, epochs, clock
        self._fitted: dict[str, Fitted] = {}
        self._tasks: dict[str, asyncio.Task[Fitted]] = {}

    async def get(self, store: GraphStore, name: str) -> Fitted:
        have = self._fitted.get(name)
        now = self.clock()
        if have is not None and now - have.fitted_at < self.max_age:
            return have
        task = self._tasks.get(name)
        if task is None or task.done():
            task = asyncio.create_task(self._refit(store, name, have, now))
            self._tasks[name] = task
        return await asyncio.shield(task)

    async def _refit(self, store: GraphStore, name: str, have: Fitted | None, now: float) -> Fitted:
        version = await _version(store)
        if have is not None and have.version == version:
            fresh = replace(have, fitted_at=now)
            self._fitted[name] = fresh
            return fresh
        catalogue, data = await read_store(store)
        graph = await store.prerequisite_graph()
        items = await store.get_items(list(catalogue.item_ids))
        titles = {i.id: i.title for i in items if i is not None}
        names = {s.id: s.name for s in graph.skills}
        deps: dict[str, list[str]] = {}
        for e in graph.edges:
            deps.setdefault(e.source, []).append(e.target)
        rows: list[list[int]] = [[] for _ in range(data.n_learners)]
        for k in np.lexsort((data.cols, data.times, data.rows)).tolist():
            rows[int(data.rows[k])].append(int(data.cols[k]))
        fitted = await asyncio.to_thread(
            _fit,
            name,
            self.seed,
            self.epochs,
            catalogue,
            rows,
            version,
            (names, {k: tuple(v) for k, v in deps.items()}),
            titles,
            now,
        )
        self._fitted[name] = fitted
        return fitted


async def recommend(
    store: GraphStore,
    learner_id: str,
    strategy: str,
    first: int,
    *,
    models: CatalogueModels,
    chosen: Sequence[str] = (),
) -> list[CatalogueRecommendation]:
    """The ``first`` best catalogue items for a learner under ``strategy``, with reasons.
    ``chosen``: items the learner picked (cold start), added to their attempted items."""
    if first < 0:
        raise InvalidParameterError("first", first, "0 or more")
    [learner] = await store.get_learners([learner_id])
    if learner is None:
        raise UnknownIdError("learner", [learner_id])
    fitted = await models.get(store, strategy)
    cat = fitted.catalogue
    unknown = [i for i in chosen if i not in cat.item_pos]
    if unknown:
        raise UnknownIdError("item", unknown, "choose items of the catalogue")
    events = await learner_events(store, learner_id, cat)
    events.sort(key=lambda e: (e[2], e[1]))
    history = list(
        dict.fromkeys([cat.item_pos[i] for i in chosen] + [cat.item_pos[e[1]] for e in events])
    )
    if first == 0:
        return []
    h = history_matrix([history], cat.n_items)
    scores = (await asyncio.to_thread(fitted.strategy.score, h))[0]
    practised = skill_sets(cat, h)[0]
    out = []
    for pos in top_k(scores, first, exclude=set(history)):
        item = cat.item_ids[pos]
        reasons = [
            r
            for r in (
                ex.completed(
                    pos, history, fitted.co_sim, fitted.content_sim, cat.item_ids, fitted.titles
                ),
                ex.unlocks(cat.skills[pos], fitted.dependents, practised, fitted.skill_names),
            )
            if r is not None
        ]
        reasons.append(ex.ranked_by(strategy, float(scores[pos])))
        out.append(
            CatalogueRecommendation(item, cat.skills[pos], float(scores[pos]), tuple(reasons))
        )
    return out
