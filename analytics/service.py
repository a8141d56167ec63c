"""Class analytics over a store: the orchestration of timelines, the risk model, alerts,
segments and export for one app (``api.context.Services.analytics``).

Args of :class:`ClassAnalytics`:
    store: the app's store.
    serving: returns the tracer timelines replay answers with (``MasteryUpdater.
        history_service``: the serving model when its update is cheap, so history ends where
        the stored mastery is; BKT with population defaults beside a neural one).
    index: returns the recommender's curriculum index (``IndexCache.get``).
    max_age: seconds a fitted risk model serves a store that has moved (default 300).
    max_train_learners: learners read to fit the risk model (default 300, spread evenly over
        the learners by id: the fit replays each one's answers, ~10 s for 300 on the demo).
    cache_size: learners whose timelines are kept between reads (default 5,000).
    fresh_s: seconds a learner's timeline is served without looking at the store again
        (default 2: the fields of one dashboard read share one look; alerts after new answers
        always look).
    clock: ``time.monotonic`` by default.

The risk model is fitted on the store's own history on first use, as its own task shielded
from the request that started it (a request that times out leaves the fit running for the
next one), and refitted when the store's answer count moved and the fit is ``max_age`` old.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from analytics import alerts as al
from analytics import risk as rk
from analytics.features import features_at, labelled_rows
from analytics.segments import Segment, segment
from analytics.timeline import MAX_ANSWERS, ProgressPoint, Replayer, Timeline, progress, replay
from graph.models import Attempt
from graph.store import GraphStore
from recommender.index import CurriculumIndex

PAGE = 500
#: learners whose attempts one store read fetches (each up to MAX_ANSWERS)
LEARNER_BATCH = 100
log = logging.getLogger("learngraph.analytics")


@dataclass(frozen=True, slots=True)
class FittedRisk:
    model: rk.RiskModel
    answers: int
    fitted_at: float


@dataclass(frozen=True, slots=True)
class LearnerRisk:
    learner_id: str
    risk: rk.Risk
    last_answer: datetime | None


class ClassAnalytics:
    def __init__(
        self,
        store: GraphStore,
        serving: Callable[[], Awaitable[Replayer]],
        index: Callable[[], Awaitable[CurriculumIndex]],
        *,
        max_age: float = 300.0,
        max_train_learners: int = 300,
        cache_size: int = 5000,
        fresh_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._serving = serving
        self._index = index
        self.max_age = max_age
        self.max_train_learners = max_train_learners
        self._clock = clock
        self._fitted: FittedRisk | None = None
        self._task: asyncio.Task[FittedRisk] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self.cache_size = cache_size
        self.fresh_s = fresh_s
        self._timelines: dict[str, tuple[tuple[object, ...], Timeline, float]] = {}

    # -- timelines ---------------------------------------------------------------------------
    async def attempts(self, learner_id: str) -> list[Attempt]:
        out: list[Attempt] = []
        cursor: str | None = None
        while len(out) < MAX_ANSWERS:
            page = await self._store.attempts_of(learner_id, limit=PAGE, cursor=cursor)
            out.extend(page.attempts)
            cursor = page.next_cursor
            if cursor is None:
                break
        return out

    async def timelines(
        self, learner_ids: Sequence[str], *, max_age_s: float | None = None
    ) -> dict[str, Timeline]:
        """Each learner's timeline under the serving model. A learner checked less than
        ``max_age_s`` ago (default :attr:`fresh_s`; 0: always check) is served from the
        cache as it is, so the several fields of one dashboard read share one look at the
        store; the others are checked with one attempts read for all of them (per
        :data:`LEARNER_BATCH`) and replayed (off the event loop) only when their answers or
        the serving model changed (an LRU of ``cache_size``)."""
        model = await self._serving()
        version = str(getattr(model, "model_version", id(model)))
        age = self.fresh_s if max_age_s is None else max_age_s
        now = self._clock()
        out: dict[str, Timeline] = {}
        got: dict[str, list[Attempt]] = {}
        marks: dict[str, tuple[object, ...]] = {}
        stamps: dict[str, float] = {}
        look: list[str] = []
        for lid in dict.fromkeys(learner_ids):
            have = self._timelines.get(lid)
            if have is not None and have[0][0] == version and now - have[2] < age:
                out[lid], marks[lid], stamps[lid] = have[1], have[0], have[2]
                continue
            look.append(lid)
        # one store read per LEARNER_BATCH learners to look at (a class: one), not one a learner
        histories: list[tuple[Attempt, ...]] = []
        for k in range(0, len(look), LEARNER_BATCH):
            part = look[k : k + LEARNER_BATCH]
            histories.extend(await self._store.latest_attempts(part, limit=MAX_ANSWERS))
        for lid, page in zip(look, histories, strict=True):
            have = self._timelines.get(lid)
            stamps[lid] = now
            attempts = list(page)
            newest = max(attempts, key=lambda a: (a.timestamp, a.attempt_id), default=None)
            marks[lid] = (version, len(attempts), newest)
            if have is not None and have[0] == marks[lid]:
                out[lid] = have[1]
            else:
                got[lid] = attempts

        def run() -> dict[str, Timeline]:
            return {lid: replay(lid, a, model) for lid, a in got.items()}

        async def replay_and_keep() -> dict[str, Timeline]:
            done = await asyncio.to_thread(run)
            for lid, tl in done.items():  # kept even if the caller stopped waiting
                self._timelines.pop(lid, None)
                self._timelines[lid] = (marks[lid], tl, stamps[lid])
            return done

        if got:
            # shielded: a request stopped by its timeout leaves the replay running, and the
            # next read of these learners finds it done
            out.update(await asyncio.shield(asyncio.create_task(replay_and_keep())))
        for lid in marks:  # most recently used last
            self._timelines.pop(lid, None)
            self._timelines[lid] = (marks[lid], out[lid], stamps[lid])
        while len(self._timelines) > self.cache_size:
            self._timelines.pop(next(iter(self._timelines)))
        return {lid: out[lid] for lid in marks}

    # -- the risk model ----------------------------------------------------------------------
    async def model(self) -> rk.RiskModel:
        have = self._fitted
        now = self._clock()
        if have is not None and now - have.fitted_at < self.max_age:
            return have.model
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._refit(have, now))
        return (await asyncio.shield(self._task)).model

    async def _refit(self, have: FittedRisk | None, now: float) -> FittedRisk:
        answers = await self._store.attempt_count()
        if have is not None and have.answers == answers:
            self._fitted = FittedRisk(have.model, answers, now)
            return self._fitted
        ids: list[str] = []
        after: str | None = None
        while True:
            page = await self._store.list_learners(after=after, limit=PAGE)
            ids.extend(x.id for x in page)
            if len(page) < PAGE:
                break
            after = page[-1].id
        step = max(1, -(-len(ids) // self.max_train_learners))  # ceil: every step-th learner
        timelines = list((await self.timelines(ids[::step])).values())
        ends = [t.answers[-1].at for t in timelines if t.answers]

        def fit() -> rk.RiskModel:
            if not ends:
                return rk.prior_model()
            return rk.fit(labelled_rows(timelines, max(ends)))

        self._fitted = FittedRisk(await asyncio.to_thread(fit), answers, now)
        return self._fitted

    # -- reads for a class -------------------------------------------------------------------
    @staticmethod
    def class_clock(timelines: Mapping[str, Timeline]) -> datetime | None:
        """The class's latest answer: risk is assessed as of it, so a class that paused
        (holidays, or a demo store of past answers) is not flagged whole for inactivity."""
        ends = [t.answers[-1].at for t in timelines.values() if t.answers]
        return max(ends) if ends else None

    async def risks(
        self, learner_ids: Sequence[str], as_of: datetime | None = None
    ) -> list[LearnerRisk]:
        """Each learner's risk as of ``as_of`` (default: the class clock), riskiest first."""
        tls = await self.timelines(learner_ids)
        model = await self.model()
        moment = as_of or self.class_clock(tls)
        out = []
        for lid, tl in tls.items():
            if moment is None or not tl.answers:
                continue
            r = model.assess(features_at(tl, moment))
            out.append(LearnerRisk(lid, r, tl.answers[-1].at))
        out.sort(key=lambda x: (-x.risk.probability, x.learner_id))
        return out

    async def alerts(
        self, learner_ids: Sequence[str], as_of: datetime | None = None
    ) -> list[al.Alert]:
        """Every alert that holds now for these learners, newest first."""
        tls = await self.timelines(learner_ids)
        model = await self.model()
        index = await self._index()
        moment = as_of or self.class_clock(tls)
        if moment is None:
            return []
        found = [
            a for tl in tls.values() if tl.answers for a in al.current(tl, model, index, moment)
        ]
        found.sort(key=lambda a: (a.since, a.learner_id, a.kind.value), reverse=True)
        return found

    async def raised(self, learner_id: str, new_attempt_ids: Sequence[str]) -> list[al.Alert]:
        """Alerts that the answers ``new_attempt_ids`` (just stored) raised for the learner."""
        tl = (await self.timelines([learner_id], max_age_s=0.0))[learner_id]
        new = set(new_attempt_ids)
        positions = [k for k, a in enumerate(tl.answers) if a.attempt_id in new]
        if not positions:
            return []
        return al.raised(tl, await self.model(), await self._index(), min(positions))

    async def progress(
        self, learner_ids: Sequence[str], ends: Sequence[datetime]
    ) -> dict[str, list[ProgressPoint]]:
        tls = await self.timelines(learner_ids)
        return {lid: progress(tl, ends) for lid, tl in tls.items()}

    async def segments(
        self, mastery: Mapping[str, Mapping[str, float]], *, k: int, goals: Sequence[str]
    ) -> list[Segment]:
        index = await self._index()
        return await asyncio.to_thread(segment, index, mastery, k=k, goals=goals)

    async def warm(self) -> None:
        """Fit the risk model now (the app's start-up runs this in the background, so the
        first dashboard does not wait for the fit)."""
        try:
            await self.model()
        except Exception:
            log.exception("the at-risk model was not fitted at start-up; the first read will")

    # -- background work -----------------------------------------------------------------------
    def spawn(self, work: Awaitable[Any]) -> None:
        """Run ``work`` after the request (alert checks): kept referenced until done."""

        async def run() -> None:
            await work

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for the background work started so far (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*tuple(self._background), return_exceptions=True)
