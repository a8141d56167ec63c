"""Training a tracer from a store's own attempts, and rebuilding learners' states after a switch.

``learngraph trace train --model gnn --db URL --activate`` runs :func:`train_from_store`:

1. read the curriculum (``prerequisite_graph``, ``list_items`` pages) and every learner's
   attempts (``list_learners`` pages, then ``attempts_of`` pages, reversed to oldest first);
2. build the sequences over a vocabulary of the *whole* curriculum: every item that assesses a
   skill (answered or not, so new items get embeddings through their graph neighbours), every
   skill, every prerequisite edge;
3. fit the model (progress on stderr) and register it with the store URL (password removed)
   and the counts as its ``data``;
4. with ``activate`` (or when the store has no serving model yet):
   :func:`rebuild_states` under the new model version, then make it the store's serving
   model (``GraphStore.set_serving_model``).

Why a rebuild: serving keeps one saved tracer state per learner *and model version*
(``tracing.serving``), so that each new answer is one ``Tracer.update`` with no replay. A new
model has no saved states, so each learner's history is replayed through it once, here, per
model switch; afterwards ``MasteryService.apply`` stays replay-free. The states are written
before the model becomes active, so a server that (re)loads the active model finds them.
Answers recorded while the rebuild runs are missing from the rebuilt state of their learner
until the next rebuild: run it when the store is quiet. A running server notices the switch at
its next answer (``recommender.engine.MasteryUpdater`` reads the store's serving model); the
GraphQL mutation ``activateTracerModel`` does the rebuild and the switch as a background job
(``tracing.activation``, ``tracing.switch``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from graph.models import Attempt, Item, Mastery, PrerequisiteGraph, utcnow
from graph.store import GraphStore
from tracing.base import Interaction, ProgressFn, TracingError
from tracing.data import TraceData, from_store_attempts, vocabulary_from_items
from tracing.evaluate import fit_timed, make_tracer
from tracing.history import attempts_oldest_first, mastery_all, replay_all
from tracing.registry import ModelRecord, Registry
from tracing.serving import MasteryService, encode_state, mastery_uncertainty
from tracing.train import validation_metrics
from tracing.watermark import Watermark, attempt_key

#: rows per store page (learners, items, attempts)
PAGE = 500


def public_url(url: str) -> str:
    """``url`` with any password removed, fit to be written into a model's metadata."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def read_curriculum(store: GraphStore, *, page: int = PAGE
                          ) -> tuple[PrerequisiteGraph, list[Item]]:
    """The whole prerequisite graph and every item (``list_items`` pages)."""
    graph = await store.prerequisite_graph()
    items: list[Item] = []
    after: str | None = None
    while True:
        part = await store.list_items(after=after, limit=page)
        items += part
        if len(part) < page:
            return graph, items
        after = part[-1].id


async def learner_pages(store: GraphStore, *, page: int = PAGE
                        ) -> AsyncIterator[list[str]]:
    """Async iterator over pages of learner ids (``list_learners``), in id order."""
    after: str | None = None
    while True:
        part = await store.list_learners(after=after, limit=page)
        if part:
            yield [lr.id for lr in part]
        if len(part) < page:
            return
        after = part[-1].id


@dataclass(frozen=True)
class StoreData:
    """What :func:`read_store` read: the sequences and the curriculum they index."""

    data: TraceData
    graph: PrerequisiteGraph
    items: list[Item]
    n_learners: int
    n_attempts: int


async def read_store(store: GraphStore, *, page: int = PAGE,
                     progress: ProgressFn | None = None) -> StoreData:
    """Every learner's attempts as sequences over the whole curriculum's vocabulary."""
    graph, items = await read_curriculum(store, page=page)
    vocab = vocabulary_from_items(items, graph.edges, [s.id for s in graph.skills])
    if vocab.n_items == 0:
        raise TracingError("the store has no items tagged with skills, so there is nothing "
                           "to trace; load a curriculum first (`learngraph curriculum load`)")
    total = await store.attempt_count()
    attempts: list[Attempt] = []
    n_learners = 0
    async for ids in learner_pages(store, page=page):
        for lid in ids:
            attempts += await attempts_oldest_first(store, lid, page=page)
            n_learners += 1
            if progress is not None:
                progress(f"read {len(attempts)}/{total} attempts of {n_learners} learners",
                         len(attempts) / total if total else 1.0)
    data = from_store_attempts(attempts, items, graph.edges, vocab=vocab)
    return StoreData(data, graph, items, n_learners, len(attempts))


@dataclass(frozen=True)
class RebuildReport:
    """What :func:`rebuild_states` wrote."""

    model_version: str
    learners: int  # learners given a state (those with an answer the model can place)
    attempts: int  # answers replayed
    mastery_rows: int
    seconds: float


async def rebuild_states(
    store: GraphStore,
    service: MasteryService,
    *,
    page: int = PAGE,
    progress: ProgressFn | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> RebuildReport:
    """Replay every learner's history through ``service``'s tracer, from the population prior,
    and save the state and the mastery of the skills answered under ``service.model_version``.

    Idempotent: each run starts every learner from ``init_state`` (stored states of this
    version are replaced, not advanced). Writes one ``save_tracer_states`` and one
    ``save_mastery`` call per page of learners. A page's histories are replayed together
    (:func:`replay_all`: one recurrent pass per batch of learners for the neural tracers,
    equal to their ``update`` loop to float tolerance), their mastery likewise
    (:func:`mastery_all`).
    """
    started = time.perf_counter()
    tracer, version = service.tracer, service.model_version
    total = await store.attempt_count()
    seen = replayed = n_learners = n_rows = 0
    async for ids in learner_pages(store, page=page):
        placed: list[tuple[str, list[Attempt], list[Interaction]]] = []
        for lid in ids:
            history = await attempts_oldest_first(store, lid, page=page)
            seen += len(history)
            pairs = [(a, x) for a, x in zip(history, map(service.interaction, history),
                                            strict=True) if x is not None]
            if pairs:
                placed.append((lid, [a for a, _ in pairs], [x for _, x in pairs]))
        if progress is not None:
            progress(f"read {seen}/{total} attempts; replaying {len(placed)} learners under "
                     f"{version}", min(seen / total, 1.0) if total else 1.0)
        now = clock()
        states: list[tuple[str, str, bytes]] = []
        rows: list[Mastery] = []
        replayed_states = replay_all(tracer, [p[2] for p in placed])
        for (lid, answered, xs), state, p in zip(placed, replayed_states,
                                                 mastery_all(tracer, replayed_states),
                                                 strict=True):
            replayed += len(xs)
            # the watermark: every answer replayed is in the state (a retry of an old batch
            # is not traced again)
            mark = Watermark().add((attempt_key(a) for a in answered), service.keep)
            states.append((lid, version, encode_state(state, watermark=mark)))
            unc = mastery_uncertainty(p)
            touched = {k for x in xs for k in x.skills}
            rows += sorted((Mastery(lid, service.vocab.skill_ids[k], float(p[k]),
                                    float(unc[k]), now, version) for k in touched),
                           key=lambda m: m.skill_id)
        if states:
            await store.save_tracer_states(states)
            await store.save_mastery(rows)
        n_learners += len(states)
        n_rows += len(rows)
        if progress is not None:
            progress(f"rebuilt {n_learners} learners under {version} ({seen}/{total} "
                     "attempts)", min(seen / total, 1.0) if total else 1.0)
    if progress is not None:
        progress(f"rebuilt {n_learners} learners under {version} ({seen}/{total} attempts)",
                 1.0)
    return RebuildReport(version, n_learners, replayed, n_rows,
                         time.perf_counter() - started)


async def train_from_store(
    store: GraphStore,
    url: str,
    model: str = "gnn",
    *,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    registry: Registry | None = None,
    name: str | None = None,
    activate: bool = False,
    page: int = PAGE,
    progress: ProgressFn | None = None,
) -> tuple[ModelRecord, RebuildReport | None]:
    """Train ``model`` on every attempt in ``store`` and register it (see the module
    docstring); with ``activate``, rebuild every learner's state under it, then make it the
    store's serving model. A store with no serving model yet adopts the first model trained
    on it even without ``activate``, so it is rebuilt too. Returns the record and the rebuild
    report (None when nothing was rebuilt)."""
    reg = registry if registry is not None else Registry.from_env()
    tracer = make_tracer(model, params)  # bad parameters fail before the store is read
    read_started = time.perf_counter()
    got = await read_store(store, page=page, progress=progress)
    read_seconds = time.perf_counter() - read_started
    data = got.data
    if data.n_interactions == 0:
        raise TracingError(
            f"the store {public_url(url)!r} has no attempts on items tagged with skills "
            f"({got.n_attempts} attempts read, {data.skipped} on untagged items); record "
            "answers first (e.g. `learngraph seed`)")
    seconds = fit_timed(tracer, data, seed=seed, progress=progress)
    vocab = data.vocab
    answered = {x.item for seq in data.sequences for x in seq}
    meta: dict[str, Any] = {
        "db": public_url(url), "format": "store",
        "n_train": data.n_interactions, "n_train_learners": len(data.sequences),
        "n_learners": got.n_learners, "n_attempts": got.n_attempts,
        "n_skipped": data.skipped, "n_items": vocab.n_items,
        "n_items_answered": len(answered), "n_skills": vocab.n_skills,
        "n_prerequisites": len(vocab.prerequisites),
    }
    if params:
        meta["params"] = params
    metrics: dict[str, Any] = {"train_seconds": round(seconds, 3),
                               "read_seconds": round(read_seconds, 3)}
    # AUC on the learners held out of training (early stopping, Elo's calibration fold)
    metrics.update(validation_metrics(tracer))
    rec = reg.register(tracer, name=name, data=meta, metrics=metrics, seed=seed)
    if not activate and await store.serving_model() is not None:
        return rec, None
    _, served = reg.load(rec.key)  # replay through the model exactly as it will be served
    report = await rebuild_states(store, MasteryService(served, rec.key, got.items),
                                  page=page, progress=progress)
    await store.set_serving_model(rec.key)
    return rec, report


async def rebuild_for(
    store: GraphStore,
    *,
    registry: Registry | None = None,
    key: str | None = None,
    page: int = PAGE,
    progress: ProgressFn | None = None,
) -> RebuildReport:
    """:func:`rebuild_states` for model ``key`` of the registry, or (None) for the model the
    server would serve on this store (its ``serving_model``, through
    ``MasteryService.for_curriculum``)."""
    reg = registry if registry is not None else Registry.from_env()
    graph, items = await read_curriculum(store, page=page)
    if key is None:
        service = MasteryService.for_curriculum(graph, items, registry=reg,
                                                active=await store.serving_model())
    else:
        _, tracer = reg.load(key)
        service = MasteryService(tracer, key, items)
    return await rebuild_states(store, service, page=page, progress=progress)

