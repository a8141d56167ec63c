"""Async entry points the API calls: a store in, domain results out.

The curriculum index (graph, Q-matrix and derived arrays) lives in an :class:`IndexCache`
owned by the caller (one per app), rebuilt only when the curriculum change log has moved past
the version it was built from; a call then costs one read of the learner (mastery and recent
attempts, read concurrently) plus one tiny change-log probe.

Predictions: every function that ranks items takes an optional ``tracer`` (a
:data:`TracerPredictions`: the serving tracer's predictor for a learner, read concurrently with
the learner's mastery and attempts) or a fixed ``predict(item_ids) -> P(success)``. The
tracer's P(correct) ranks the candidate items (one batched call for all of them) and is the
``predicted_success`` answered. Only for a learner with no tracer state (and for an item the
tracer cannot place) does P(success) come from the stored mastery with the two-state answer
model of BKT: ``p (1 - slip) + (1 - p) guess`` for the item's weakest skill
(:func:`mastery_predictor`).

Exploration: among near-equal items one is drawn by Thompson sampling over the items'
observed learning gains: ``gains`` as given, else those of ``gain_cache`` (a
:class:`recommender.gains.GainCache`, derived from the stored attempts, at most its
``max_age`` behind), else none (uniform draws); ``rng`` makes the draws reproducible.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from graph.models import Attempt, Learner, Mastery, utcnow
from graph.store import GraphStore
from recommender import diagnostic as dg
from recommender import frontier as fr
from recommender import gaps as gp
from recommender import history as hist
from recommender import review as rv
from recommender.errors import InvalidParameterError, UnknownIdError
from recommender.gains import GainCache
from recommender.index import CurriculumIndex, index_from_domain
from recommender.next_item import (
    GainStats,
    Predictor,
    Recommendation,
    RecommenderConfig,
    recommend,
)
from recommender.paths import LearningPath, learning_path

PAGE = 1000
DIAGNOSTIC_MODEL = "diagnostic"

TracerPredictions = Callable[[str], Awaitable[Predictor | None]]
"""``await tracer(learner_id)``: the serving tracer's predictor for that learner, or None when
the learner has no tracer state (the stored-mastery formula is used then). The predictor
answers NaN for an item the tracer cannot place."""


class IndexCache:
    """The current curriculum index, rebuilt when the change log moves (or on
    :meth:`invalidate`). Concurrent callers share one rebuild."""

    def __init__(self) -> None:
        self._index: CurriculumIndex | None = None
        self._seq = -1
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._index = None

    async def _last_seq(self, store: GraphStore, after: int) -> int:
        seq = max(after, 0)
        while True:
            page = await store.change_log(after_seq=seq, limit=PAGE)
            if not page:
                return seq
            seq = page[-1].seq

    async def get(self, store: GraphStore) -> CurriculumIndex:
        index = self._index
        if index is not None and await self._last_seq(store, self._seq) == self._seq:
            return index
        async with self._lock:
            seq = await self._last_seq(store, self._seq)
            if self._index is None or seq != self._seq:
                graph = await store.prerequisite_graph()
                items = []
                after: str | None = None
                while True:
                    page = await store.list_items(after=after, limit=PAGE)
                    items.extend(page)
                    if len(page) < PAGE:
                        break
                    after = page[-1].id
                self._index = await asyncio.to_thread(
                    index_from_domain, graph, items, version=str(seq)
                )
                self._seq = seq
            assert self._index is not None
            return self._index


def mastery_predictor(
    index: CurriculumIndex, mastery: np.ndarray, guess: float = 0.2, slip: float = 0.1
) -> Predictor:
    """P(success) of items from a mastery vector (BKT answer model, weakest skill)."""

    def predict(item_ids: Sequence[str]) -> np.ndarray:
        out = np.empty(len(item_ids))
        for k, pos in enumerate(index.item_positions(item_ids).tolist()):
            sk = index.skills_of_item(pos)
            p = float(mastery[sk].min()) if sk.size else 0.5
            out[k] = p * (1 - slip) + (1 - p) * guess
        return out

    return predict


def with_fallback(predict: Predictor, fallback: Predictor) -> Predictor:
    """``predict``, with ``fallback`` for the items it answers NaN (cannot place); one call
    of each, the fallback only when needed."""

    def combined(item_ids: Sequence[str]) -> np.ndarray:
        p = np.array(predict(item_ids), dtype=np.float64)
        if p.shape != (len(item_ids),):
            raise InvalidParameterError(
                "predict",
                f"returned shape {p.shape}",
                f"one probability per item ({len(item_ids)})",
            )
        missing = np.flatnonzero(np.isnan(p))
        if missing.size:
            p[missing] = fallback([item_ids[k] for k in missing.tolist()])
        return p

    return combined


async def _no_predictor(learner_id: str) -> Predictor | None:
    return None


@dataclass(frozen=True, slots=True)
class LearnerSnapshot:
    mastery: np.ndarray
    attempts: tuple[Attempt, ...]  # newest first


async def _snapshot(
    store: GraphStore, index: CurriculumIndex, learner_id: str, history: int
) -> LearnerSnapshot:
    rows, page = await asyncio.gather(
        store.mastery_of([learner_id]), store.attempts_of(learner_id, limit=history)
    )
    m = index.mastery_array({r.skill_id: r.probability for r in rows[0]})
    return LearnerSnapshot(m, page.attempts)


def _review_states(index: CurriculumIndex, attempts: Sequence[Attempt]) -> list[rv.ReviewState]:
    practices: list[tuple[str, bool, float]] = []
    for a in reversed(attempts):  # oldest first
        pos = index.item_pos.get(a.item_id)
        if pos is None:
            continue
        t = a.timestamp.timestamp()
        practices.extend(
            (index.skill_ids[s], a.correct, t) for s in index.skills_of_item(pos).tolist()
        )
    return list(rv.replay(practices).values())


async def _learner(store: GraphStore, learner_id: str) -> Learner:
    [learner] = await store.get_learners([learner_id])
    if learner is None:
        raise UnknownIdError("learner", [learner_id])
    return learner


async def _goals(store: GraphStore, learner_id: str, goals: Sequence[str] | None) -> list[str]:
    if goals is not None:
        return list(goals)
    return list((await _learner(store, learner_id)).goals)


async def _goals_and_retention(
    store: GraphStore,
    learner_id: str,
    goals: Sequence[str] | None,
    target_retention: float | None,
) -> tuple[list[str], float]:
    """The goals and target retention to use: the caller's, else the learner's stored ones
    (read once, only when one of them is missing)."""
    if target_retention is not None:
        rv.check_retention(target_retention)
        if goals is not None:
            return list(goals), target_retention
    learner = await _learner(store, learner_id)
    return (
        list(learner.goals) if goals is None else list(goals),
        learner.effective_target_retention if target_retention is None else target_retention,
    )


async def recommendations(
    store: GraphStore,
    learner_id: str,
    goals: Sequence[str] | None = None,
    first: int = 5,
    *,
    cache: IndexCache,
    tracer: TracerPredictions | None = None,
    predict: Predictor | None = None,
    config: RecommenderConfig | None = None,
    target_retention: float | None = None,
    gains: GainStats | None = None,
    gain_cache: GainCache | None = None,
    rng: np.random.Generator | None = None,
    now: datetime | None = None,
    history: int = 200,
) -> list[Recommendation]:
    """The next ``first`` items for a learner toward ``goals`` (None: the learner's own
    goals; empty: the whole frontier), each with its reasons. Reviews are due at
    ``target_retention`` (None: the learner's stored setting, default 0.9), at ``now`` if
    given, else on the learner's own clock: the timestamp of their latest attempt (a client
    replaying a timeline with past timestamps gets the reviews of that timeline; a learner back
    after a long gap gets the reviews that gap made due from their next answer on). Items are
    ranked by ``predict`` if given, else by ``tracer``'s predictions for the learner, else (no
    tracer, or no tracer state) by the stored-mastery formula (see the module docstring)."""
    cfg = config or RecommenderConfig()
    index = await cache.get(store)
    if gains is None and gain_cache is not None:
        gains = await gain_cache.get(store, index.version)
    (goal_ids, target_retention), snap, traced = await asyncio.gather(
        _goals_and_retention(store, learner_id, goals, target_retention),
        _snapshot(store, index, learner_id, history),
        (tracer if tracer is not None and predict is None else _no_predictor)(learner_id),
    )
    if predict is None:
        predict = mastery_predictor(index, snap.mastery)
        if traced is not None:
            predict = with_fallback(traced, predict)
    # reviews are timed on the learner's own clock (their latest attempt), not the server's
    view = hist.build_view(
        index,
        snap.mastery,
        hist.from_attempts(snap.attempts),
        target_retention=target_retention,
        threshold=cfg.threshold,
        now=None if now is None else now.timestamp(),
    )
    return recommend(
        index,
        view,
        predict,
        goals=goal_ids,
        first=first,
        config=cfg,
        gains=gains,
        rng=rng or np.random.default_rng(),
    )


async def learner_path(
    store: GraphStore,
    learner_id: str,
    goals: Sequence[str] | None = None,
    *,
    cache: IndexCache,
    threshold: float = 0.8,
) -> LearningPath:
    """The learner's remaining path to ``goals`` (None: the learner's own goals)."""
    index = await cache.get(store)
    goal_ids, rows = await asyncio.gather(
        _goals(store, learner_id, goals), store.mastery_of([learner_id])
    )
    m = index.mastery_array({r.skill_id: r.probability for r in rows[0]})
    return learning_path(index, m, goal_ids, threshold=threshold)


@dataclass(frozen=True, slots=True)
class Fringes:
    """KST fringes of a learner: ``outer`` ready to learn (curriculum order), ``inner`` the
    most recently acquired mastered skills (newest first, by the mastery row's time)."""

    outer: tuple[str, ...]
    inner: tuple[str, ...]


async def learner_fringes(
    store: GraphStore, learner_id: str, *, cache: IndexCache, threshold: float = 0.8
) -> Fringes:
    index = await cache.get(store)
    [rows] = await store.mastery_of([learner_id])
    m = index.mastery_array({r.skill_id: r.probability for r in rows})
    acquired = np.full(index.n_skills, np.nan)
    for r in rows:
        pos = index.skill_pos.get(r.skill_id)
        if pos is not None:
            acquired[pos] = r.updated_at.timestamp()
    outer = fr.outer_fringe(index, m, threshold)
    outer = outer[np.argsort(index.topo_rank[outer], kind="stable")]
    inner = fr.inner_fringe(index, m, threshold, acquired_at=acquired)
    return Fringes(
        tuple(index.skill_ids[i] for i in outer.tolist()),
        tuple(index.skill_ids[i] for i in inner.tolist()),
    )


async def learner_gaps(
    store: GraphStore,
    learner_id: str,
    goals: Sequence[str] | None = None,
    *,
    cache: IndexCache,
    threshold: float = 0.8,
) -> list[gp.Gap]:
    index = await cache.get(store)
    goal_ids, rows = await asyncio.gather(
        _goals(store, learner_id, goals), store.mastery_of([learner_id])
    )
    m = index.mastery_array({r.skill_id: r.probability for r in rows[0]})
    return gp.learner_gaps(index, m, goal_ids, threshold)


async def group_gaps(
    store: GraphStore,
    group_id: str,
    goals: Sequence[str],
    *,
    cache: IndexCache,
    threshold: float = 0.8,
) -> list[gp.GroupGap]:
    """The group's root-cause skills toward ``goals`` with the learners stuck on each."""
    index = await cache.get(store)
    [group] = await store.get_groups([group_id])
    if group is None:
        raise UnknownIdError("group", [group_id])
    rows = await store.mastery_of_group(group_id)
    masteries = {
        learner: index.mastery_array({r.skill_id: r.probability for r in rows.get(learner, [])})
        for learner in group.learner_ids
    }
    return gp.group_gaps(index, masteries, goals, threshold)


async def _retention_and_states(
    store: GraphStore,
    learner_id: str,
    target_retention: float | None,
    cache: IndexCache,
    history: int,
) -> tuple[float, list[rv.ReviewState]]:
    """The retention to use (the caller's, else the learner's) and the learner's review states
    from the last ``history`` attempts, read concurrently."""
    if target_retention is not None:
        rv.check_retention(target_retention)
    index = await cache.get(store)
    learner, page = await asyncio.gather(
        _learner(store, learner_id), store.attempts_of(learner_id, limit=history)
    )
    retention = (
        learner.effective_target_retention if target_retention is None else target_retention
    )
    return retention, _review_states(index, page.attempts)


async def review_queue(
    store: GraphStore,
    learner_id: str,
    *,
    cache: IndexCache,
    target_retention: float | None = None,
    now: datetime | None = None,
    limit: int = 20,
    history: int = 500,
) -> list[rv.DueReview]:
    """Skills due for review now (least recalled first), from the last ``history`` attempts,
    at ``target_retention`` (None: the learner's stored setting)."""
    retention, states = await _retention_and_states(
        store, learner_id, target_retention, cache, history
    )
    when = (now or utcnow()).timestamp()
    return rv.due_reviews(states, when, retention, limit=limit)


#: Retentions a forecast compares when the caller names none (plus the learner's own).
FORECAST_RETENTIONS = (0.8, 0.85, 0.9, 0.95)


@dataclass(frozen=True, slots=True)
class ForecastRow:
    """Reviews expected over the horizon if reviews were scheduled at ``target_retention``,
    and the mean recall of the learner's skills meanwhile (None without skills in review);
    ``current`` marks the learner's own (effective) setting."""

    target_retention: float
    expected_reviews: int
    mean_recall: float | None
    current: bool


async def review_forecast(
    store: GraphStore,
    learner_id: str,
    *,
    cache: IndexCache,
    days: int = 30,
    retentions: Sequence[float] | None = None,
    now: datetime | None = None,
    history: int = 500,
) -> list[ForecastRow]:
    """The learner's review workload over the next ``days`` days at each of ``retentions``
    (None: :data:`FORECAST_RETENTIONS` plus the learner's own, ascending), one row each, in
    the order asked (see :func:`recommender.review.forecast` for the model)."""
    for r in retentions or ():
        rv.check_retention(r)
    rv.check_horizon(days)
    own, states = await _retention_and_states(store, learner_id, None, cache, history)
    if retentions is None:
        asked = sorted({*FORECAST_RETENTIONS, own})
    else:
        asked = list(dict.fromkeys(retentions))
    when = (now or utcnow()).timestamp()
    rows = []
    for r in asked:
        f = rv.forecast(states, when, r, days)
        rows.append(ForecastRow(r, f.reviews, f.mean_recall, r == own))
    return rows


# -- diagnostic ---------------------------------------------------------------------------------
async def start_diagnostic(
    store: GraphStore, *, cache: IndexCache, config: dg.DiagnosticConfig | None = None
) -> tuple[dg.DiagnosticState, dg.Question | None]:
    """A new diagnostic and its first question. Keep the state (``to_dict``) between calls."""
    index = await cache.get(store)
    state = await asyncio.to_thread(dg.start, index, config)
    return state, await asyncio.to_thread(dg.next_question, index, state)


async def answer_diagnostic(
    store: GraphStore,
    state: dg.DiagnosticState,
    item_id: str,
    correct: bool,
    *,
    cache: IndexCache,
    skill_id: str | None = None,
) -> tuple[dg.DiagnosticState, dg.Question | None]:
    """Record one answer; returns the new state and the next question (None when done).
    ``skill_id`` defaults to the item's first skill."""
    index = await cache.get(store)
    if skill_id is None:
        pos = index.item_positions([item_id])[0]
        sk = index.skills_of_item(int(pos))
        if sk.size == 0:
            raise InvalidParameterError("item_id", item_id, "an item that assesses a skill")
        skill_id = index.skill_ids[int(sk[0])]
    new = await asyncio.to_thread(dg.answer, index, state, skill_id, item_id, correct)
    return new, await asyncio.to_thread(dg.next_question, index, new)


async def finish_diagnostic(
    store: GraphStore,
    learner_id: str,
    state: dg.DiagnosticState,
    *,
    save: bool = True,
    now: datetime | None = None,
) -> dg.DiagnosticResult:
    """The placement; with ``save`` it is stored as the learner's mastery (one write)."""
    result = dg.finish(state)
    if save:
        when = now or utcnow()
        await store.save_mastery(
            [
                Mastery(learner_id, s, p, float(p * (1 - p)), when, DIAGNOSTIC_MODEL)
                for s, p in result.mastery.items()
            ]
        )
    return result
