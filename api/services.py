"""API glue for the app's lifetime: the curriculum change feed to subscribers.

The serving tracer (:class:`MasteryUpdater`, :class:`ServedModel`, :class:`ServingPredictions`)
lives in :mod:`recommender.engine` with the other caches a serving process keeps; it is
re-exported here for the callers that import it from its old home.
"""

from __future__ import annotations

import asyncio
import logging

from api.pubsub import CURRICULUM_TOPIC, PubSub
from graph.store import GraphStore
from recommender.engine.curriculum import PAGE, all_items
from recommender.engine.tracer import MasteryUpdater, ServedModel, ServingPredictions

__all__ = [
    "ChangeFeed",
    "MasteryUpdater",
    "ServedModel",
    "ServingPredictions",
    "all_items",
    "change_log_tail",
]

log = logging.getLogger("learngraph.api")


async def change_log_tail(store: GraphStore, after: int = 0) -> int:
    """The seq of the change log's last entry (``after`` when there is none past it): one
    tiny read, not the log's pages."""
    return max(after, 0, await store.last_change_seq())


class ChangeFeed:
    """Publishes new curriculum change-log entries to ``curriculumChanged`` subscribers.

    After each curriculum edit, :meth:`publish_new` reads the log past the last entry it has
    published. With several processes on a shared broker (``api.redis_pubsub``) each publishes
    its own edits at once; one also publishes, at its next edit, the entries other processes
    made since (already published by them): the subscription drops such repeats by ``seq``
    (``api.pubsub.unique_changes``). Without a shared broker, edits by other processes reach
    this process's subscribers at the next edit made here.
    """

    def __init__(self, store: GraphStore, pubsub: PubSub) -> None:
        self._store = store
        self._pubsub = pubsub
        self._last_seq: int | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Remember where the log ends now, so that older entries are never published."""
        async with self._lock:
            self._last_seq = await change_log_tail(self._store)

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
