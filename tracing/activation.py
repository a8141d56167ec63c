"""Switching a store's serving tracer model as a background job (``activateTracerModel``).

A switch rebuilds every learner's state under the new model (``tracing.switch``), which takes
minutes on a real store: far longer than an HTTP request may. :meth:`ActivationJobs.start`
validates the switch at once (an unknown key or a model that cannot serve the curriculum is
refused then, nothing started), records a job in the store (``GraphStore.
save_tracer_activation``) and returns it while the rebuild runs on as a task of the server's
event loop. The job's record is updated as the rebuild goes (progress, at most every
``every_s`` seconds) and when it ends: ``succeeded`` with the rebuild's counts, or ``failed``
with the error (the old model then still serves). The record is in the store, so any server
process of that store answers ``tracerActivation(id)``.

One switch runs at a time per process: starting the same key again while it runs returns the
running job; another key is refused with :class:`SwitchRunningError`. A job whose server
process stopped mid-way stays ``running`` in its record, with ``updatedAt`` telling when it
last moved; nothing was activated then, and starting the switch again redoes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graph.models import ActivationState, TracerActivation, utcnow
from graph.store import GraphStore
from tracing.base import TracingError
from tracing.switch import Activation, prepare_switch, run_switch

if TYPE_CHECKING:
    from tracing.registry import Registry

log = logging.getLogger(__name__)


class SwitchRunningError(TracingError):
    """Another switch of the serving model is running in this process."""

    def __init__(self, job: TracerActivation) -> None:
        self.job = job
        super().__init__(
            f"a switch to {job.key!r} is running (job {job.id}, {job.progress:.0%}); wait for "
            "it to finish (tracerActivation(id)) before starting another"
        )


class ActivationJobs:
    """Serving-model switches of one store, run in the background, recorded in the store.

    Args:
        store: the server's store.
        registry: returns the model registry to switch from (read at each start).
        on_done: called with the :class:`~tracing.switch.Activation` of each switch that
            changed the serving model (the server drops its cached model).
        clock: the time written into the records.
        every_s: the least time between two progress writes of a job's record.
    """

    def __init__(
        self,
        store: GraphStore,
        registry: Callable[[], Registry],
        *,
        on_done: Callable[[Activation], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        every_s: float = 1.0,
    ) -> None:
        self._store = store
        self._registry = registry
        self._on_done = on_done
        self._clock = clock
        self._every_s = every_s
        self._start_lock = asyncio.Lock()
        self._running: TracerActivation | None = None
        self._tasks: dict[str, asyncio.Task[TracerActivation]] = {}

    async def start(self, key: str) -> TracerActivation:
        """Validate the switch to ``key`` and start it; returns its job record (``succeeded``
        and ``changed=False`` at once when ``key`` is served already). Raises what
        ``tracing.switch.prepare_switch`` raises, or :class:`SwitchRunningError`."""
        async with self._start_lock:
            running = self._running
            if running is not None:
                if running.key == key:
                    (stored,) = await self._store.get_tracer_activations([running.id])
                    return stored or running
                raise SwitchRunningError(running)
            prepared = await prepare_switch(self._store, self._registry(), key)
            now = self._clock()
            job = TracerActivation(
                uuid.uuid4().hex,
                key,
                ActivationState.RUNNING,
                now,
                now,
                previous=prepared.previous,
                message="rebuilding states",
            )
            if prepared.service is None:
                job = replace(
                    job,
                    state=ActivationState.SUCCEEDED,
                    progress=1.0,
                    changed=False,
                    finished_at=now,
                    message=f"{key} is served already; nothing to do",
                )
                await self._store.save_tracer_activation(job)
                return job
            await self._store.save_tracer_activation(job)
            self._running = job
            task = asyncio.create_task(self._run(job, prepared), name=f"activation-{job.id}")
            self._tasks[job.id] = task
            task.add_done_callback(lambda t: self._tasks.pop(job.id, None))
            return job

    async def wait(self, job_id: str) -> TracerActivation | None:
        """The job's final record once it ends (None: no such job running here)."""
        task = self._tasks.get(job_id)
        if task is None:
            (rec,) = await self._store.get_tracer_activations([job_id])
            return rec
        return await asyncio.shield(task)

    async def _run(self, job: TracerActivation, prepared: Any) -> TracerActivation:
        loop = asyncio.get_running_loop()
        saving = asyncio.Lock()
        ended = False
        last = [time.monotonic()]

        async def save(record: TracerActivation, final: bool = False) -> None:
            async with saving:
                if ended and not final:
                    return  # a progress write that lost the race with the final one
                try:
                    await self._store.save_tracer_activation(record)
                except Exception:
                    log.exception("tracer activation %s: its record was not saved", job.id)

        def progress(message: str, fraction: float) -> None:  # called on the rebuild thread
            now = time.monotonic()
            if now - last[0] < self._every_s:
                return
            last[0] = now
            record = replace(
                job,
                progress=max(0.0, min(float(fraction), 0.99)),
                message=message,
                updated_at=self._clock(),
            )
            asyncio.run_coroutine_threadsafe(save(record), loop)

        try:
            done = await run_switch(self._store, prepared, progress=progress)
        except Exception as exc:  # the old model still serves: say why in the record
            log.exception("tracer activation %s (%s) failed", job.id, job.key)
            at = self._clock()
            final = replace(
                job,
                state=ActivationState.FAILED,
                updated_at=at,
                finished_at=at,
                error=f"{exc}; the served model is unchanged",
                message="failed; the served model is unchanged",
            )
        else:
            at = self._clock()
            report = done.report
            final = replace(
                job,
                state=ActivationState.SUCCEEDED,
                progress=1.0,
                updated_at=at,
                finished_at=at,
                changed=done.changed,
                passes=done.passes,
                missed=done.missed,
                learners=0 if report is None else report.learners,
                attempts=0 if report is None else report.attempts,
                message=f"serving {done.key}",
            )
            if self._on_done is not None and done.changed:
                self._on_done(done)
        finally:
            self._running = None
        ended = True
        await save(final, final=True)
        return final
