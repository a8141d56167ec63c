"""The serving state of one process: store, curriculum read, index, gains and serving tracer.

One :class:`Engine` per app, built at the composition root (``api.app.build_services``); the
resolvers use the caches it owns. Per change-log seq the curriculum is read once
(:class:`recommender.engine.curriculum.CurriculumReads`) and both the recommender's index and
the serving tracer's view of the curriculum are built from that read. Whichever of the two
notices that the curriculum moved (an edit by this process, or by another process or
``learngraph curriculum import`` found in the change log), the other is brought to the same
seq in the background: a curriculum imported elsewhere no longer updates one and not the other.

* The index keeps its incremental update (``recommender.index_update``): a rename reuses the
  index as it is; any other edit is applied from the shared read instead of the store, because
  the tracer's view needs that read anyway (it is rebuilt for every edit but a rename).
* The tracer keeps its own checks of the serving model (``GraphStore.serving_probe``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from graph.models import CurriculumChange
from graph.store import GraphStore
from recommender.engine.curriculum import CurriculumReads
from recommender.engine.tracer import MasteryUpdater
from recommender.gains import GainCache
from recommender.index import CurriculumIndex, index_from_domain
from recommender.index_update import CurriculumSource, only_skill_updates, updated_index
from recommender.service import IndexCache

log = logging.getLogger("learngraph.engine")


class Engine:
    """The caches a serving process keeps for one store, kept at one curriculum.

    Args:
        store: the app's store.
        service: a fixed serving model (tests); the store's serving model is then not watched.
        registry: the model registry (default: ``Registry.from_env()`` at each use).
        gains: the items' learning-gain cache (default: a fresh ``GainCache()``).
    """

    def __init__(
        self,
        store: GraphStore,
        service: Any | None = None,
        *,
        registry: Any | None = None,
        gains: GainCache | None = None,
    ) -> None:
        self.store = store
        #: one curriculum read per change-log seq, shared by the index and the tracer
        self.reads = CurriculumReads()
        #: the recommender's curriculum index
        self.index = IndexCache(self._build_index, self._update_index)
        #: the items' observed learning gains
        self.gains = gains if gains is not None else GainCache()
        #: the serving tracer (model and view of the curriculum)
        self.mastery = MasteryUpdater(
            store, service, registry=registry, reads=self.reads, on_moved=self._tracer_moved
        )
        self._kicks: set[asyncio.Task[Any]] = set()

    async def warm(self) -> tuple[str, CurriculumIndex]:
        """Before the first request (the app's start-up): load the serving model, build the
        index (from the same curriculum read) and read the items' gains. Returns the model
        version and the index."""
        version = await self.mastery.load()
        index = await self.index.warm(self.store)
        await self.gains.get(self.store, index.version)
        return version, index

    def invalidate_curriculum(self) -> None:
        """A curriculum edit made by this process: both the index and the tracer's view are
        rebuilt (each serves the one in hand meanwhile, see their classes)."""
        self.mastery.invalidate_curriculum()
        self.index.invalidate()

    async def settled(self) -> None:
        """Wait until no rebuild is running in the background (tests, shutdown)."""
        while True:
            pending = [t for t in self._kicks if not t.done()]
            if pending:
                await asyncio.wait(pending)
            await self.index.settled()
            await self.mastery.settled()
            busy = any(not t.done() for t in self._kicks)
            if not (busy or self.index.rebuilding or self.mastery.rebuilding):
                return

    async def _build_index(self, store: GraphStore, version: str) -> CurriculumIndex:
        snapshot = await self.reads.at(store, int(version))
        # in id order as Python compares strings, whatever the store's collation: the order
        # the incremental update keeps, so both give the same index
        items = sorted(snapshot.items, key=lambda it: it.id)
        index = await asyncio.to_thread(index_from_domain, snapshot.graph, items, version=version)
        self.mastery.follow(int(version))
        return index

    async def _update_index(
        self,
        store: GraphStore,
        index: CurriculumIndex,
        changes: Sequence[CurriculumChange],
        version: str,
    ) -> CurriculumIndex | None:
        source: CurriculumSource = store
        if not only_skill_updates(changes, index.skill_pos):
            # the tracer's view is rebuilt from this read: the index is updated from it too
            source = await self.reads.at(store, int(version))
        updated = await updated_index(source, index, changes, version)
        self.mastery.follow(int(version))
        return updated

    def _tracer_moved(self, seq: int) -> None:
        """The tracer's view moved to ``seq``: start moving the index there too (it keeps
        serving the one in hand until the new one is swapped in)."""
        if self.index.index is None:
            return  # not built yet: its first build reads the curriculum as it is then
        self._spawn(self.index.current(self.store, seq))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._kicks.add(task)
        task.add_done_callback(self._kicks.discard)
        task.add_done_callback(_log_failed)


def _log_failed(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("bringing the index to the tracer's curriculum failed: %s", task.exception())
