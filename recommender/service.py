"""Async entry points the API calls: a store in, domain results out.

The curriculum index (graph, Q-matrix and derived arrays) lives in an :class:`IndexCache`
owned by the caller (one per app: ``recommender.engine.Engine``, which builds it from the
curriculum read it shares with the serving tracer), rebuilt only when the curriculum change
log has moved past the version it was built from. A recommendation then costs one store call,
``GraphStore.learner_snapshot``: the learner, their mastery, recent attempts, the views within
the recent window and their tracer state, with the serving probe (change-log tail, serving
model) that the index cache and the serving tracer both check against.

Predictions: every function that ranks items takes an optional ``tracer`` (a
:data:`TracerPredictions`: the serving tracer's predictor for a learner; a
:class:`SnapshotTracer` has its state read in the learner's snapshot, any other is called
concurrently with that read) or a fixed ``predict(item_ids) -> P(success)``. The
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
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar, runtime_checkable

import numpy as np

from graph.models import (
    Attempt,
    CurriculumChange,
    Learner,
    Mastery,
    ServingProbe,
    utcnow,
)
from graph.store import GraphStore
from recommender import diagnostic as dg
from recommender import frontier as fr
from recommender import gaps as gp
from recommender import history as hist
from recommender import review as rv
from recommender.errors import InvalidParameterError, UnknownIdError
from recommender.gains import GainCache
from recommender.index import CurriculumIndex, index_from_domain
from recommender.index_update import updated_index
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

log = logging.getLogger("learngraph.recommender")
P = ParamSpec("P")
R = TypeVar("R")

TracerPredictions = Callable[[str], Awaitable[Predictor | None]]
"""``await tracer(learner_id)``: the serving tracer's predictor for that learner, or None when
the learner has no tracer state (the stored-mastery formula is used then). The predictor
answers NaN for an item the tracer cannot place. A tracer that is also a
:class:`SnapshotTracer` has its learner's state read with the learner's snapshot instead."""


class TracerModel(Protocol):
    """The serving tracer as one model version: predictions from a state the caller read."""

    @property
    def model_version(self) -> str: ...

    def predictor(self, learner_id: str, state: bytes) -> Predictor | None:
        """The learner's ``predict(item_ids) -> P(correct)`` from their saved ``state`` (NaN
        for an item the model cannot place); None when the state cannot be used."""
        ...


@runtime_checkable
class SnapshotTracer(Protocol):
    """A :data:`TracerPredictions` whose learner state :func:`recommendations` reads itself,
    in the learner's snapshot (``GraphStore.learner_snapshot``: one store call for the learner,
    mastery, history and tracer state), and whose freshness it checks against that snapshot's
    :class:`graph.models.ServingProbe` (no probe of its own per request)."""

    def __call__(self, learner_id: str) -> Awaitable[Predictor | None]: ...

    def in_hand(self) -> TracerModel | None:
        """The model serving now, without a store read (None before the first load)."""
        ...

    async def checked(self, probe: ServingProbe) -> TracerModel:
        """The model to serve with, given the store's state ``probe``: after a switch of the
        serving model the new one (waited for), after a curriculum edit the one in hand (its
        view of the curriculum is rebuilt in the background), else the one in hand."""
        ...


class IndexCache:
    """The current curriculum index, rebuilt when the change log moves past the version it
    was built from (or after :meth:`invalidate`). Concurrent callers share one rebuild.

    Two ways to ask, for two kinds of caller:

    * :meth:`get`: the index of the curriculum as it is now; waits for a rebuild when the
      change log has moved (scripts, tests, anything that must read its own edits).
    * :meth:`current`: what a request uses. The first call builds the index (the app's
      start-up does it, :meth:`warm`); after that a call never waits for a rebuild: when the
      log has moved it starts one in the background (once) and returns the index it has,
      which keeps serving until the new one is built and swapped in. A request that names a
      skill or item the old index lacks gets the new one from :func:`_fresh_on_unknown`.

    A rebuild after an edit is incremental where the edit allows it: the change log's entries
    since the index in hand are applied to it (:func:`recommender.index_update.updated_index`:
    a renamed skill reuses the index as it is, an edited item is read again alone), else the
    whole curriculum is read again.

    Args:
        build: builds the index from the store (default: the store's whole curriculum, see
            :func:`read_index`); tests pass a gated one.
        update: applies change-log entries to the index in hand, None when it cannot (default:
            :func:`recommender.index_update.updated_index` with the default ``build``, none
            with another: every rebuild is then ``build``).
    """

    def __init__(
        self,
        build: Callable[[GraphStore, str], Awaitable[CurriculumIndex]] | None = None,
        update: IndexUpdate | None = None,
    ) -> None:
        self._build = build or read_index
        self._update = update if update is not None or build is not None else updated_index
        #: how the index in hand was made: "full" or "incremental" (tests, logs)
        self.last_build = ""
        self._index: CurriculumIndex | None = None
        self._seq = -1
        #: newest change-log seq seen (>= ``_seq``); -1 also after :meth:`invalidate`
        self._wanted = -1
        self._lock = asyncio.Lock()
        self._rebuild: asyncio.Task[CurriculumIndex] | None = None

    def invalidate(self) -> None:
        """The next call rebuilds (a curriculum edit made here: :meth:`current` keeps serving
        the index it has meanwhile)."""
        self._wanted = -2

    @property
    def index(self) -> CurriculumIndex | None:
        """The index in hand (None before the first build)."""
        return self._index

    @property
    def rebuilding(self) -> bool:
        """A background rebuild is running."""
        return self._rebuild is not None and not self._rebuild.done()

    def stale(self, index: CurriculumIndex) -> bool:
        """``index`` is older than the curriculum as last seen (a rebuild is due or running)."""
        return index is not self._index or self._wanted != self._seq or self.rebuilding

    async def _last_seq(self, store: GraphStore, after: int) -> int:
        return (await _changes_since(store, after, keep=0))[0]

    async def _probe(self, store: GraphStore, seen: int | None = None) -> int:
        """The change log's last seq: ``seen`` (the caller read it, e.g. in a learner's
        snapshot), else one tiny read. A ``seen`` older than the index in hand (read before a
        rebuild swapped in) counts as the index's own."""
        seq = await self._last_seq(store, self._seq) if seen is None else max(seen, self._seq)
        if self._wanted != -2:
            self._wanted = seq
        return seq

    async def _refresh(self, store: GraphStore) -> CurriculumIndex:
        """Build the index of the curriculum as it is now and swap it in (under the lock:
        concurrent callers share one build)."""
        async with self._lock:
            keep = MAX_ENTRIES if self._index is not None and self._update is not None else 0
            seq, changes = await _changes_since(store, self._seq, keep=keep)
            if self._index is None or seq != self._seq or self._wanted == -2:
                self._wanted = seq
                index = None
                if changes is not None and changes and self._update is not None:
                    assert self._index is not None
                    try:
                        index = await self._update(store, self._index, changes, str(seq))
                    except Exception as exc:  # the full rebuild below decides what is wrong
                        log.info("incremental index update failed (%s); rebuilding", exc)
                self.last_build = "full" if index is None else "incremental"
                if index is None:
                    index = await self._build(store, str(seq))
                self._index, self._seq = index, seq
            assert self._index is not None
            return self._index

    async def get(self, store: GraphStore) -> CurriculumIndex:
        """The index of the curriculum as it is now (waits for a rebuild if one is due)."""
        if self._index is not None and self._wanted != -2:
            seq = await self._probe(store)
            index = self._index  # a background rebuild may have swapped during the probe
            if seq == self._seq and index is not None:
                return index
        return await self._refresh(store)

    async def current(self, store: GraphStore, seen: int | None = None) -> CurriculumIndex:
        """The index to serve a request with now: the first call builds it; later calls never
        wait for a rebuild (one runs in the background when the curriculum moved, and the
        index in hand serves until it is swapped in). ``seen``: the change log's last seq as
        the caller has just read it (then no read is made here)."""
        if self._index is None:
            return await self._refresh(store)
        moved = self._wanted == -2 or await self._probe(store, seen) != self._seq
        if moved and not self.rebuilding:
            self._rebuild = asyncio.create_task(self._refresh(store))
            self._rebuild.add_done_callback(_log_failed_rebuild)
        return self._index

    async def warm(self, store: GraphStore) -> CurriculumIndex:
        """Build the index now (the app's start-up), so the first request does not."""
        return await self.get(store)

    async def settled(self) -> None:
        """Wait for a background rebuild to finish (tests, shutdown)."""
        task = self._rebuild
        if task is not None:
            await asyncio.wait([task])


IndexUpdate = Callable[
    [GraphStore, CurriculumIndex, Sequence[CurriculumChange], str],
    Awaitable[CurriculumIndex | None],
]
"""``await update(store, index, changes, version)``: ``index`` after the change-log entries
``changes``, or None when they cannot be applied (a full rebuild is made)."""

#: Most change-log entries applied incrementally; past this a full rebuild is cheaper.
MAX_ENTRIES = 2000


async def _changes_since(
    store: GraphStore, after: int, *, keep: int
) -> tuple[int, list[CurriculumChange] | None]:
    """The change log's last seq past ``after`` (``after`` when nothing is past it) and its
    entries past ``after`` when there are at most ``keep`` of them (else None). With ``keep``
    0 only the seq is read (one tiny read, not the log's pages)."""
    seq = max(after, 0)
    if keep == 0:
        return max(seq, await store.last_change_seq()), None
    kept: list[CurriculumChange] | None = []
    while True:
        page = await store.change_log(after_seq=seq, limit=PAGE)
        if not page:
            return seq, kept
        if kept is not None:
            kept.extend(page)
            if len(kept) > keep:
                kept = None
        seq = page[-1].seq


def _log_failed_rebuild(task: asyncio.Task[CurriculumIndex]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # the old index keeps serving; the next request starts another rebuild
        log.warning("curriculum index rebuild failed: %s", task.exception())


async def read_index(store: GraphStore, version: str) -> CurriculumIndex:
    """The index of the store's whole curriculum: the graph and every item (paged), compiled
    off the event loop."""
    graph = await store.prerequisite_graph()
    items = []
    after: str | None = None
    while True:
        page = await store.list_items(after=after, limit=PAGE)
        items.extend(page)
        if len(page) < PAGE:
            break
        after = page[-1].id
    # in id order as Python compares strings, whatever the store's collation: the order an
    # incremental update (``recommender.index_update``) keeps, so both give the same index
    items.sort(key=lambda it: it.id)
    return await asyncio.to_thread(index_from_domain, graph, items, version=version)


def _fresh_on_unknown(call: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """A request served from a stale index (see :meth:`IndexCache.current`) that names a skill
    or item only the newer curriculum has waits for the rebuild and runs again, so it never
    fails for an id that exists. The wrapped calls only read, so running again is safe."""

    @functools.wraps(call)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        cache = kwargs["cache"]
        assert isinstance(cache, IndexCache)
        served = cache.index
        try:
            return await call(*args, **kwargs)
        except UnknownIdError:
            if served is None or not cache.stale(served):
                raise
        store: GraphStore = args[0]  # type: ignore[assignment]
        await cache.get(store)
        return await call(*args, **kwargs)

    return run


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


async def _traced(
    store: GraphStore,
    tracer: SnapshotTracer,
    served: TracerModel,
    learner_id: str,
    state: bytes | None,
    probe: ServingProbe,
) -> Predictor | None:
    """The tracer's predictor from the state read for ``served`` in the snapshot whose probe
    is ``probe``; after a model switch (the probe names another model) the state of the new
    model is read (one more store call, only then)."""
    model = await tracer.checked(probe)
    if model.model_version != served.model_version:
        [state] = await store.load_tracer_states([learner_id], model.model_version)
    return None if state is None else model.predictor(learner_id, state)


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


def _goals_and_retention(
    learner_id: str,
    goals: Sequence[str] | None,
    target_retention: float | None,
    learner: Learner | None,
) -> tuple[list[str], float]:
    """The goals and target retention to use: the caller's, else those of ``learner`` (the
    learner as read; None: no such learner, an error only when one of them is missing)."""
    if target_retention is not None:
        rv.check_retention(target_retention)
        if goals is not None:
            return list(goals), target_retention
    if learner is None:
        raise UnknownIdError("learner", [learner_id])
    return (
        list(learner.goals) if goals is None else list(goals),
        learner.effective_target_retention if target_retention is None else target_retention,
    )


@_fresh_on_unknown
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
    learner: Learner | None = None,
) -> list[Recommendation]:
    """The next ``first`` items for a learner toward ``goals`` (None: the learner's own
    goals; empty: the whole frontier), each with its reasons. Reviews are due at
    ``target_retention`` (None: the learner's stored setting, default 0.9), at ``now`` if
    given, else on the learner's own clock: the timestamp of their latest attempt (a client
    replaying a timeline with past timestamps gets the reviews of that timeline; a learner back
    after a long gap gets the reviews that gap made due from their next answer on). Items are
    ranked by ``predict`` if given, else by ``tracer``'s predictions for the learner, else (no
    tracer, or no tracer state) by the stored-mastery formula (see the module docstring).
    ``learner``: the learner as the caller has just read it (the API's ``learner`` field),
    whose goals and retention are then used without reading the learner again.
    Views (lessons, videos, readings studied) count toward the ``recent_window`` items not
    offered again, and a skill studied since its last answer gets an exercise first
    (:mod:`recommender.history`, rule 5 of :mod:`recommender.next_item`)."""
    cfg = config or RecommenderConfig()
    if cache.index is None:
        await cache.current(store)  # the first call builds the index
    if tracer is None or predict is not None:
        tracer = _no_predictor
    own = tracer if isinstance(tracer, SnapshotTracer) else None
    # the model in hand names the tracer state to read (the first use loads the model)
    served = (
        None if own is None else own.in_hand() or await own.checked(await store.serving_probe())
    )
    # one store call: the learner, mastery, history, tracer state and the serving probe
    read = store.learner_snapshot(
        learner_id,
        attempts=history,
        views=cfg.recent_window,
        tracer_model=None if served is None else served.model_version,
    )
    traced: Predictor | None = None
    if own is None:
        snap, traced = await asyncio.gather(read, tracer(learner_id))
    else:
        snap = await read
    # the probe read with the learner serves both caches: no read of their own
    index = await cache.current(store, snap.probe.change_seq)
    if gains is None and gain_cache is not None:
        gains = await gain_cache.get(store, index.version)
    if own is not None and served is not None:
        traced = await _traced(store, own, served, learner_id, snap.tracer_state, snap.probe)
    if learner is None or learner.id != learner_id:
        learner = snap.learner
    goal_ids, target_retention = _goals_and_retention(learner_id, goals, target_retention, learner)
    mastery = index.mastery_array(snap.mastery)
    if predict is None:
        predict = mastery_predictor(index, mastery)
        if traced is not None:
            predict = with_fallback(traced, predict)
    # reviews are timed on the learner's own clock (their latest attempt), not the server's
    view = hist.build_view(
        index,
        mastery,
        hist.from_attempts(snap.attempts),
        target_retention=target_retention,
        threshold=cfg.threshold,
        now=None if now is None else now.timestamp(),
        studies=hist.from_views(snap.views),
        window=cfg.recent_window,
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


@_fresh_on_unknown
async def learner_path(
    store: GraphStore,
    learner_id: str,
    goals: Sequence[str] | None = None,
    *,
    cache: IndexCache,
    threshold: float = 0.8,
) -> LearningPath:
    """The learner's remaining path to ``goals`` (None: the learner's own goals)."""
    index = await cache.current(store)
    goal_ids, probabilities = await asyncio.gather(
        _goals(store, learner_id, goals), store.mastery_probabilities(learner_id)
    )
    m = index.mastery_array(probabilities)
    return learning_path(index, m, goal_ids, threshold=threshold)


@dataclass(frozen=True, slots=True)
class Fringes:
    """KST fringes of a learner: ``outer`` ready to learn (curriculum order), ``inner`` the
    most recently acquired mastered skills (newest first, by the mastery row's time)."""

    outer: tuple[str, ...]
    inner: tuple[str, ...]


@_fresh_on_unknown
async def learner_fringes(
    store: GraphStore, learner_id: str, *, cache: IndexCache, threshold: float = 0.8
) -> Fringes:
    index = await cache.current(store)
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


@_fresh_on_unknown
async def learner_gaps(
    store: GraphStore,
    learner_id: str,
    goals: Sequence[str] | None = None,
    *,
    cache: IndexCache,
    threshold: float = 0.8,
) -> list[gp.Gap]:
    index = await cache.current(store)
    goal_ids, probabilities = await asyncio.gather(
        _goals(store, learner_id, goals), store.mastery_probabilities(learner_id)
    )
    m = index.mastery_array(probabilities)
    return gp.learner_gaps(index, m, goal_ids, threshold)


@_fresh_on_unknown
async def group_gaps(
    store: GraphStore,
    group_id: str,
    goals: Sequence[str],
    *,
    cache: IndexCache,
    threshold: float = 0.8,
) -> list[gp.GroupGap]:
    """The group's root-cause skills toward ``goals`` with the learners stuck on each."""
    index = await cache.current(store)
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
    index = await cache.current(store)
    learner, page = await asyncio.gather(
        _learner(store, learner_id), store.attempts_of(learner_id, limit=history)
    )
    retention = learner.effective_target_retention if target_retention is None else target_retention
    return retention, _review_states(index, page.attempts)


@_fresh_on_unknown
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


@_fresh_on_unknown
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
@_fresh_on_unknown
async def start_diagnostic(
    store: GraphStore, *, cache: IndexCache, config: dg.DiagnosticConfig | None = None
) -> tuple[dg.DiagnosticState, dg.Question | None]:
    """A new diagnostic and its first question. Keep the state (``to_dict``) between calls."""
    index = await cache.current(store)
    state = await asyncio.to_thread(dg.start, index, config)
    return state, await asyncio.to_thread(dg.next_question, index, state)


@_fresh_on_unknown
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
    index = await cache.current(store)
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
