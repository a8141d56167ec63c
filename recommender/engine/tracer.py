"""The serving tracer in a serving process: its model and its view of the curriculum.

Moved here from ``api.services`` (which re-exports these names) so that the orchestration of
store, caches and serving model has one home below the API (:mod:`recommender.engine`). The
tracer's view of the curriculum is built from the engine's shared read
(:class:`recommender.engine.curriculum.CurriculumReads`), the one the recommender's index is
built from at the same change-log seq.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np

from graph.models import Attempt, Mastery, ServingProbe
from graph.store import GraphStore
from recommender.engine.curriculum import PAGE, CurriculumReads
from recommender.index_update import only_skill_updates
from recommender.next_item import Predictor

log = logging.getLogger("learngraph.engine")


class MasteryUpdater:
    """Updates mastery after new attempts with the serving tracer (``tracing.serving``).

    The tracer's view of the curriculum (graph and Q-matrix) is built on first use and rebuilt
    after a curriculum edit, never per request: after this process's own edits
    (:meth:`invalidate`) and, whichever process (or ``learngraph curriculum import``) made
    the edit, when the store's change log has moved past the entry it was built at. The
    serving model is the store's own (``GraphStore.serving_model``): a switch is noticed at
    the next use, whichever process made it (this server's :meth:`activate`, ``learngraph
    trace activate``, another server of the same store). Both are checked with one
    ``GraphStore.serving_probe`` read per use; a recommendation makes none, it hands over the
    probe its learner's snapshot read (:attr:`predictor`). Other stores served from the same
    model registry keep their own model.

    Args:
        store: the app's store.
        service: a fixed serving model (tests); the store's serving model is then not watched.
        registry: the model registry (default: ``Registry.from_env()`` at each use).
        reads: where the curriculum is read from (the engine's, shared with the index;
            default: one of its own).
        on_moved: called with the change-log seq each time the view moves to a newer one
            (the engine brings the index along).
    """

    def __init__(
        self,
        store: GraphStore,
        service: Any | None = None,
        *,
        registry: Any | None = None,
        reads: CurriculumReads | None = None,
        on_moved: Callable[[int], None] | None = None,
    ) -> None:
        from tracing.activation import ActivationJobs

        self._store = store
        self._reads = reads if reads is not None else CurriculumReads()
        self._on_moved = on_moved
        self._service = service
        self._registry = registry
        self._lock = asyncio.Lock()
        #: the store's serving model key when the service was built (None: not watched)
        self._seen: tuple[str | None] | None = None
        #: the change log's last seq when the service was built
        self._log_seq = 0
        self._loaded_once = service is not None
        #: the skill ids of the curriculum the view was built from
        self._skills: frozenset[str] = frozenset()
        #: the view before a curriculum edit, serving predictions until the new one is built
        self._previous: Any | None = None
        self._refresh: asyncio.Task[Any] | None = None
        #: (serving service, the BKT service analytics replay with while it serves)
        self._history: tuple[Any, Any] | None = None
        #: the model in hand as a ``recommender.service.TracerModel`` (kept per service)
        self._served: ServedModel | None = None
        self.jobs = ActivationJobs(store, self.registry, on_done=lambda _: self.invalidate())
        #: the serving tracer's predictions for the recommender (``predictor(learner_id)``,
        #: and a ``recommender.service.SnapshotTracer``: its state read with the learner)
        self.predictor = ServingPredictions(self)

    def registry(self) -> Any:
        from tracing.registry import Registry

        return self._registry if self._registry is not None else Registry.from_env()

    @property
    def loaded(self) -> bool:
        """Whether a serving model has been loaded (:meth:`load`, or a first use)."""
        return self._loaded_once

    async def load(self) -> str:
        """Load the serving model now and return its version: the app's start-up calls
        this, so that the first answers do not wait for the model (or time out on it)."""
        service = await self._current()
        return str(service.model_version)

    def invalidate(self) -> None:
        """Rebuild the serving model at the next use (a model switch): every use waits."""
        self._service = None
        self._previous = None

    def invalidate_curriculum(self) -> None:
        """A curriculum edit made here: the tracer's view of the curriculum is rebuilt. Answers
        (:meth:`apply`) wait for the new view; predictions (:meth:`predictor`, on the
        recommendation path) keep using the current one while the new one is built in the
        background, then the new one (an item only the new curriculum has is NaN meanwhile:
        the recommender's stored-mastery formula places it). An edit by another process is
        found in the change log and handled the same way."""
        if self._service is not None:
            self._previous = self._service
        self._service = None

    async def _for_predictions(self, probe: ServingProbe | None = None) -> Any:
        """The service predictions use: after a curriculum edit (made here or by any other
        process) the view in hand, while one background rebuild makes the new one; after a
        model switch (or before the first load) the new service, waited for. ``probe``: the
        store's serving model and change-log tail as the caller has just read them (else one
        ``serving_probe`` read here)."""
        service = self._service or self._previous
        seen = self._seen
        if service is None or seen is None:
            return await self._current(probe)
        if probe is None:
            probe = await self._store.serving_probe()
        if probe.serving_model != seen[0]:
            return await self._current(probe)
        moved = self._service is None or probe.change_seq > self._log_seq
        if moved and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.create_task(self._current())
            self._refresh.add_done_callback(_log_failed_refresh)
        return service

    def _in_hand(self) -> ServedModel | None:
        """The model predictions would use now without a store read (None before a load)."""
        service = self._service or self._previous
        return None if service is None else self._model(service)

    def _model(self, service: Any) -> ServedModel:
        held = self._served
        if held is None or held.service is not service:
            held = self._served = ServedModel(service)
        return held

    async def service(self) -> Any:
        """The serving ``MasteryService`` now (loaded on first use, reloaded after a
        switch)."""
        return await self._current()

    async def history_service(self) -> Any:
        """What the teacher analytics replay answers with (``analytics.timeline``): the
        serving model when its update is cheap (BKT, Elo), else BKT with population defaults
        over the same curriculum. A neural model's update (the demo's GNN: ~5 ms an answer,
        one at a time) made a class's first dashboard read take ~20 s and the at-risk fit at
        start-up four minutes (``benchmarks/bench_risk.py --store``)."""
        service = await self._current()
        # a neural tracer's module is imported by then: torch stays unimported without one
        recurrent = sys.modules.get("tracing.gnn_recurrent")
        if recurrent is None or not isinstance(service.tracer, recurrent.RecurrentTracer):
            return service
        cached = self._history
        if cached is not None and cached[0] is service:
            return cached[1]
        from tracing.serving import MasteryService

        snapshot = await self._reads.at(self._store, self._log_seq)
        history = MasteryService.for_curriculum(snapshot.graph, list(snapshot.items))
        self._history = (service, history)
        return history

    async def _stale(self, probe: ServingProbe | None = None) -> bool:
        """Whether the store's serving model changed, or the curriculum was edited (by any
        process), since the service was built (one ``serving_probe`` read, or ``probe``)."""
        seen = self._seen
        if seen is None:
            return False
        if probe is None:
            probe = await self._store.serving_probe()
        return probe.serving_model != seen[0] or probe.change_seq > self._log_seq

    async def _current(self, probe: ServingProbe | None = None) -> Any:
        service = self._service
        if service is not None and not await self._stale(probe):
            # a background rebuild may have swapped in a newer one during the check
            current = self._service
            if current is not None:
                return current
        async with self._lock:
            if self._service is None or self._service is service:
                if await self._keep_view():
                    assert self._service is not None
                    return self._service
                from tracing.serving import MasteryService

                registry = self.registry()
                # read before the model: a switch during the load is noticed at the next use
                fresh = await self._store.serving_probe()
                active, log_seq = fresh.serving_model, max(fresh.change_seq, self._log_seq)
                # the engine's read at this seq: the index is built from the same one
                snapshot = await self._reads.at(self._store, log_seq)
                graph = snapshot.graph
                # may load a saved model from disk: keep it off the event loop
                self._service = await asyncio.to_thread(
                    MasteryService.for_curriculum,
                    graph,
                    list(snapshot.items),
                    registry=registry,
                    active=active,
                )
                self._seen = (active,)
                self._moved_to(log_seq)
                self._skills = frozenset(s.id for s in graph.skills)
                self._loaded_once = True
                self._previous = None
            return self._service

    async def _keep_view(self) -> bool:
        """After a curriculum edit that only updated skills the view has (a rename), the view
        in hand stays: it holds skill ids, edges and items, none of which moved. Then it
        serves again at the change log's tail and True is returned; False when the model was
        switched or the edit touched items, edges or the skill set (a rebuild is due)."""
        held = self._service or self._previous
        seen = self._seen
        if held is None or seen is None or await self._store.serving_model() != seen[0]:
            return False
        seq, changes = self._log_seq, []
        while page := await self._store.change_log(after_seq=seq, limit=PAGE):
            changes.extend(page)
            if len(changes) > PAGE or not only_skill_updates(page, self._skills):
                return False
            seq = page[-1].seq
        self._service, self._previous = held, None
        self._moved_to(seq)
        return True

    def _moved_to(self, seq: int) -> None:
        moved = seq > self._log_seq
        self._log_seq = max(seq, self._log_seq)
        if moved and self._on_moved is not None:
            self._on_moved(self._log_seq)

    @property
    def view_seq(self) -> int | None:
        """The change-log seq the view in hand was built (or kept) at; None before a load."""
        return None if self._seen is None else self._log_seq

    def follow(self, seq: int) -> None:
        """The curriculum is at change-log seq ``seq`` (the index moved there): when the view
        is older, rebuild it in the background (answers wait for it as after any edit found
        in the log; predictions keep the view in hand until it is swapped in)."""
        if self._seen is None or seq <= self._log_seq:
            return
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._current())
            self._refresh.add_done_callback(_log_failed_refresh)

    @property
    def rebuilding(self) -> bool:
        """A background rebuild of the view is running."""
        return self._refresh is not None and not self._refresh.done()

    async def settled(self) -> None:
        """Wait for a background rebuild of the view to finish (tests, shutdown)."""
        task = self._refresh
        if task is not None:
            await asyncio.wait([task])

    async def activate(self, key: str) -> Any:
        """Start switching the store's serving model to registry model ``key`` (or
        ``bkt-default``) as a background job (``tracing.activation``): validated now (an
        unknown key or a model that cannot serve the curriculum raises, nothing started),
        rebuilt and activated in the background; returns the job's ``TracerActivation``
        record. When it succeeds, this server serves the new model at its next use."""
        return await self.jobs.start(key)

    async def apply(
        self, attempts: Sequence[Attempt], fresh: Collection[str] | None = None
    ) -> dict[str, list[Mastery]]:
        """Update and save the mastery of the attempts' learners; returns the changed rows.
        ``fresh``: the ids stored just now (None: all); the others are retried duplicates,
        traced only if an earlier try did not finish (``MasteryService.apply``)."""
        if not attempts:
            return {}
        service = await self._current()
        result: dict[str, list[Mastery]] = await service.apply(self._store, list(attempts), fresh)
        return result


class ServedModel:
    """A serving ``MasteryService`` as one model version: predictions for a learner from the
    state the caller read (``recommender.service.TracerModel``)."""

    __slots__ = ("service",)

    def __init__(self, service: Any) -> None:
        self.service = service

    @property
    def model_version(self) -> str:
        return str(self.service.model_version)

    def predictor(self, learner_id: str, state: bytes) -> Predictor | None:
        """``predict(item_ids) -> P(correct)`` from the learner's saved state (every call in
        memory and batched), NaN for an item the model cannot place; None when the state
        cannot be decoded (the recommender then ranks by the stored mastery)."""
        from tracing.base import TracingError

        service = self.service
        try:
            decoded = service.state_of(state)
        except TracingError as exc:
            log.warning(
                "tracer state of learner %s not usable (%s); ranking by mastery", learner_id, exc
            )
            return None

        def predict(item_ids: Sequence[str]) -> np.ndarray:
            got = service.predict(decoded, item_ids)
            return np.array([got.get(i, np.nan) for i in item_ids], dtype=np.float64)

        return predict


class ServingPredictions:
    """The serving tracer's predictions for one learner (``MasteryUpdater.predictor``).

    Called, ``await predictions(learner_id)`` reads the learner's state itself (one probe of
    the serving model and change log, one state read). The recommender instead reads the state
    with the learner's snapshot (``recommender.service.SnapshotTracer``): :meth:`in_hand`
    names the model version to read it for, :meth:`checked` takes the snapshot's probe (no
    read here), and the state then becomes a predictor (``ServedModel.predictor``)."""

    def __init__(self, updater: MasteryUpdater) -> None:
        self._updater = updater

    async def __call__(self, learner_id: str) -> Predictor | None:
        """The learner's predictor, or None when they have no state under the serving model
        (or it cannot be decoded): the recommender then uses its stored-mastery formula."""
        updater = self._updater
        model = updater._model(await updater._for_predictions())
        (blob,) = await updater._store.load_tracer_states([learner_id], model.model_version)
        return None if blob is None else model.predictor(learner_id, blob)

    def in_hand(self) -> ServedModel | None:
        return self._updater._in_hand()

    async def checked(self, probe: ServingProbe) -> ServedModel:
        updater = self._updater
        return updater._model(await updater._for_predictions(probe))


def _log_failed_refresh(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # predictions keep the old view; the next answer or prediction tries again
        log.warning("serving tracer rebuild after a curriculum edit failed: %s", task.exception())
