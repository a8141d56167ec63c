"""App-lifetime helpers: the serving tracer and the curriculum change feed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from api.pubsub import CURRICULUM_TOPIC, PubSub
from graph.models import Attempt, Item, Mastery
from graph.store import GraphStore

PAGE = 1000


async def all_items(store: GraphStore) -> list[Item]:
    items: list[Item] = []
    after: str | None = None
    while True:
        page = await store.list_items(after=after, limit=PAGE)
        items.extend(page)
        if len(page) < PAGE:
            return items
        after = page[-1].id


class MasteryUpdater:
    """Updates mastery after new attempts with the serving tracer (``tracing.serving``).

    The tracer's view of the curriculum (graph and Q-matrix) is built on first use and rebuilt
    after a curriculum edit (:meth:`invalidate`), never per request.
    """

    def __init__(self, store: GraphStore, service: Any | None = None) -> None:
        self._store = store
        self._service = service
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._service = None

    async def _current(self) -> Any:
        service = self._service
        if service is not None:
            return service
        async with self._lock:
            if self._service is None:
                from tracing.serving import MasteryService

                graph = await self._store.prerequisite_graph()
                items = await all_items(self._store)
                # may load a saved model from disk: keep it off the event loop
                self._service = await asyncio.to_thread(
                    MasteryService.for_curriculum, graph, items
                )
            return self._service

    async def apply(self, attempts: Sequence[Attempt]) -> dict[str, list[Mastery]]:
        """Update and save the mastery of the attempts' learners; returns the changed rows."""
        if not attempts:
            return {}
        service = await self._current()
        result: dict[str, list[Mastery]] = await service.apply(self._store, list(attempts))
        return result


class ChangeFeed:
    """Publishes new curriculum change-log entries to ``curriculumChanged`` subscribers.

    After each curriculum edit, :meth:`publish_new` reads the log past the last entry it has
    published (edits by other processes show up at the next edit made here).
    """

    def __init__(self, store: GraphStore, pubsub: PubSub) -> None:
        self._store = store
        self._pubsub = pubsub
        self._last_seq: int | None = None
        self._lock = asyncio.Lock()

    async def _tail_seq(self) -> int:
        seq = 0
        while True:
            page = await self._store.change_log(after_seq=seq, limit=PAGE)
            if not page:
                return seq
            seq = page[-1].seq

    async def start(self) -> None:
        """Remember where the log ends now, so that older entries are never published."""
        async with self._lock:
            self._last_seq = await self._tail_seq()

    async def publish_new(self) -> None:
        async with self._lock:
            if self._last_seq is None:
                self._last_seq = 0
            while True:
                page = await self._store.change_log(after_seq=self._last_seq, limit=PAGE)
                for change in page:
                    await self._pubsub.publish(CURRICULUM_TOPIC, change)
                if not page:
                    return
                self._last_seq = page[-1].seq
