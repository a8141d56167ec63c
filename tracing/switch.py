"""Switching the serving tracer model: validate, rebuild every learner's state, activate
(the ``activateTracerModel`` mutation and ``learngraph trace activate``).

Over HTTP the switch is a background job (``tracing.activation``): step 1 answers at once,
steps 2 and 3 run on and report their progress in the store. The order makes a switch
all-or-nothing for serving:

1. **validate**: the key is registered (or is ``bkt-default``, BKT with population defaults,
   served when no registered model is active), and the model knows at least half of the
   curriculum's graded items, the rule ``tracing.serving.MasteryService.for_curriculum``
   applies when it loads the active model (a model that fails it would not be served);
2. **rebuild**: every learner's history is replayed into tracer state and mastery under the
   new model version (``tracing.store_train.rebuild_states``), in a worker thread so that the
   replay's CPU work does not stall other requests; its store calls are sent back to the
   server's event loop, which owns the store's connections (:class:`LoopBridge`);
3. **activate**: the store's serving model (``GraphStore.set_serving_model``) becomes the key;
   servers of that store notice it at their next answer. Other stores served from the same
   registry keep their own model.

A failure before step 3 leaves the old model active and serving; the states already written
under the new version are never read until that version is active, and a retry rebuilds them
from the prior again (the rebuild is idempotent). Activating the model already active is a
no-op.

Answers recorded while the rebuild runs are traced by the old model only. The store's attempt
count is compared before and after each pass: when it moved, the rebuild runs again (at most
:data:`MAX_PASSES` passes in all), so a switch on a store taking a few answers still serves
every answer under the new version. What remains is the moment between the last count and
the activation (a store write); on a store that keeps answering through every pass, the
switch goes ahead after the last pass and logs how many answers the new states lack (a
``learngraph trace rebuild`` when the store is quieter adds them).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from graph.models import Item
from graph.store import GraphStore
from tracing.base import TracingError, Vocabulary

if TYPE_CHECKING:
    from tracing.registry import ModelRecord, Registry
    from tracing.serving import MasteryService
    from tracing.store_train import RebuildReport

log = logging.getLogger(__name__)

#: the model version of BKT with population defaults (``tracing.serving.DEFAULT_VERSION``)
DEFAULT_KEY = "bkt-default"
#: rebuild passes at most, while answers keep arriving during them
MAX_PASSES = 3


class UnknownModelError(TracingError):
    """The key names no registered model."""

    def __init__(self, key: str, known: Sequence[str]) -> None:
        self.key = key
        self.known = tuple(known)
        listed = ", ".join(self.known) or "none"
        super().__init__(
            f"no tracer model {key!r} in the registry; registered: {listed} (or {DEFAULT_KEY!r} "
            "for BKT with population defaults); list them with the tracerModels query"
        )


class ModelCoverageError(TracingError):
    """The model knows too few of the curriculum's graded items to serve it."""

    def __init__(self, key: str, known: int, graded: int) -> None:
        self.key, self.known, self.graded = key, known, graded
        need = (graded + 1) // 2
        super().__init__(
            f"tracer model {key!r} knows {known} of the curriculum's {graded} graded items; "
            f"serving needs at least half ({need}); train one on this store "
            "(`learngraph trace train --db URL --model M`) and activate that"
            if graded
            else f"the curriculum has no graded items (items with skills), so tracer model "
            f"{key!r} has nothing to serve; add items with skills first"
        )


def coverage(vocab: Vocabulary, items: Sequence[Item]) -> tuple[int, int]:
    """(known, graded): how many of the items with skills the model's vocabulary holds."""
    graded = [it for it in items if it.skills]
    return sum(1 for it in graded if vocab.item_index(it.id) is not None), len(graded)


def can_serve(known: int, graded: int) -> bool:
    """The serving rule of ``MasteryService.for_curriculum``: at least half the graded items."""
    return graded > 0 and known * 2 >= graded


@dataclass(frozen=True)
class Activation:
    """What :func:`switch_model` did."""

    key: str  # the model version now served
    record: ModelRecord | None  # None for ``bkt-default``
    previous: str  # the version served before (``bkt-default`` when none was active)
    changed: bool  # False: it was already active, nothing was done
    report: RebuildReport | None  # the last pass; None when nothing was rebuilt
    passes: int = 0  # rebuild passes run
    missed: int = 0  # answers recorded during the last pass, so missing from the new states


class LoopBridge:
    """A store whose coroutine methods, awaited on another thread's event loop, run on
    ``loop`` (the one that owns the store's connections) and hand back their results."""

    def __init__(self, store: GraphStore, loop: asyncio.AbstractEventLoop) -> None:
        self._store = store
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._store, name)
        if not inspect.iscoroutinefunction(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(target(*args, **kwargs), self._loop)
            return await asyncio.wrap_future(future)

        return call


def _log_progress(every: float = 5.0) -> Callable[[str, float], None]:
    last = [0.0]

    def progress(message: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - last[0] >= every:
            last[0] = now
            log.info("model switch: %s (%.0f%%)", message, 100 * fraction)

    return progress


async def rebuild_off_loop(store: GraphStore, service: MasteryService,
                           progress: Callable[[str, float], None] | None = None
                           ) -> RebuildReport:
    """``rebuild_states(store, service)`` on a worker thread's own event loop; the store is
    used through a :class:`LoopBridge` to the calling loop. ``progress`` (called on the worker
    thread) defaults to log lines every 5 s."""
    from tracing.store_train import rebuild_states

    bridge = cast(GraphStore, LoopBridge(store, asyncio.get_running_loop()))
    report: RebuildReport = await asyncio.to_thread(
        asyncio.run, rebuild_states(bridge, service, progress=progress or _log_progress())
    )
    return report


def _service_for(
    registry: Registry, record: ModelRecord | None, graph: Any, items: list[Item]
) -> MasteryService:
    """Load the model (file I/O: call it in a thread) and check it can serve ``items``."""
    from tracing.serving import MasteryService

    if record is None:
        return MasteryService.for_curriculum(graph, items, registry=registry, active=None)
    _, tracer = registry.load(record.key)
    vocab = getattr(tracer, "vocab", None)
    if vocab is None:
        raise TracingError(f"tracer model {record.key!r} has no vocabulary; retrain it")
    known, graded = coverage(vocab, items)
    if not can_serve(known, graded):
        raise ModelCoverageError(record.key, known, graded)
    return MasteryService(tracer, record.key, items)


@dataclass(frozen=True)
class PreparedSwitch:
    """A validated switch (:func:`prepare_switch`), ready to rebuild and activate."""

    key: str
    record: ModelRecord | None  # None for ``bkt-default``
    previous: str
    service: MasteryService | None  # None: ``key`` is served already, nothing to do


async def prepare_switch(store: GraphStore, registry: Registry, key: str) -> PreparedSwitch:
    """Step 1 (validate): the key is known and the model can serve the store's curriculum.
    Raises :class:`UnknownModelError`, :class:`ModelCoverageError`, or another
    ``TracingError`` (an unreadable model file); quick: one registry read, the curriculum, one
    model load (in a thread)."""
    from tracing.store_train import read_curriculum

    records = await asyncio.to_thread(registry.list)
    previous = await store.serving_model() or DEFAULT_KEY
    record: ModelRecord | None = None
    if key != DEFAULT_KEY:
        record = next((r for r in records if r.key == key), None)
        if record is None:
            raise UnknownModelError(key, [r.key for r in records])
    if key == previous:
        return PreparedSwitch(key, record, previous, None)
    graph, items = await read_curriculum(store)
    service = await asyncio.to_thread(_service_for, registry, record, graph, items)
    return PreparedSwitch(key, record, previous, service)


async def run_switch(store: GraphStore, prepared: PreparedSwitch, *,
                     progress: Callable[[str, float], None] | None = None) -> Activation:
    """Steps 2 and 3: rebuild every learner's state under the prepared model (passes while
    answers arrive), then make it the store's serving model."""
    key, record, previous, service = (prepared.key, prepared.record, prepared.previous,
                                      prepared.service)
    if service is None:
        return Activation(key, record, previous, False, None)
    started = time.perf_counter()
    passes = missed = 0
    count = await store.attempt_count()
    while True:
        report = await rebuild_off_loop(store, service, progress)
        passes += 1
        seen, count = count, await store.attempt_count()
        missed = count - seen
        if missed == 0 or passes == MAX_PASSES:
            break
        log.info("model switch: %d answers arrived during rebuild pass %d; rebuilding again",
                 missed, passes)
    if missed:
        log.warning("model switch: %d answers arrived during the last rebuild pass; their "
                    "learners' %s states lack them until `learngraph trace rebuild`",
                    missed, key)
    await store.set_serving_model(None if record is None else key)
    log.info("model switch: %s -> %s (%d learners rebuilt, %d passes, %.1f s)", previous, key,
             report.learners, passes, time.perf_counter() - started)
    return Activation(key, record, previous, True, report, passes, missed)


async def switch_model(store: GraphStore, registry: Registry, key: str, *,
                       progress: Callable[[str, float], None] | None = None) -> Activation:
    """Validate, rebuild every learner's state under ``key``, then make it the store's serving
    model (see the module docstring; :func:`prepare_switch` then :func:`run_switch`). Raises
    what :func:`prepare_switch` raises, the old model staying active."""
    prepared = await prepare_switch(store, registry, key)
    return await run_switch(store, prepared, progress=progress)
