"""Publish/subscribe for subscriptions, behind a small interface.

:class:`InProcessPubSub` serves one process (the default); several server processes share
their events through Redis (:class:`api.redis_pubsub.RedisPubSub`, ``LEARNGRAPH_REDIS_URL``)
behind the same two methods.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol


class PubSub(Protocol):
    async def publish(self, topic: str, message: Any) -> None: ...

    def subscribe(self, topic: str) -> Any:
        """An async context manager yielding an async iterator of the topic's messages."""
        ...


def mastery_topic(learner_id: str) -> str:
    return f"mastery:{learner_id}"


ALERT_PREFIX = "alerts:"


def alert_topic(group_id: str) -> str:
    return f"{ALERT_PREFIX}{group_id}"


CURRICULUM_TOPIC = "curriculum"


class InProcessPubSub:
    """Fan-out to per-subscriber bounded queues; a slow subscriber loses its oldest messages
    rather than slowing publishers down."""

    def __init__(self, queue_size: int = 100) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[Any]]] = defaultdict(set)

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    def topics(self) -> list[str]:
        """The topics with a subscriber here."""
        return list(self._subscribers)

    def watched(self, prefix: str) -> bool:
        """Whether any topic starting with ``prefix`` has a subscriber."""
        return any(t.startswith(prefix) for t in self._subscribers)

    async def publish(self, topic: str, message: Any) -> None:
        self.publish_nowait(topic, message)

    def publish_nowait(self, topic: str, message: Any) -> None:
        for queue in tuple(self._subscribers.get(topic, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Any]]:
        queue: asyncio.Queue[Any] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(queue)

        async def messages() -> AsyncIterator[Any]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]


async def unique_changes(changes: AsyncIterator[Any], remember: int = 1024) -> AsyncIterator[Any]:
    """``changes`` (curriculum change-log entries) without repeats of a ``seq`` among the
    last ``remember`` delivered: with several processes an entry may be published twice
    (``api.services.ChangeFeed``)."""
    seen: set[int] = set()
    order: deque[int] = deque()
    async for change in changes:
        if change.seq in seen:
            continue
        seen.add(change.seq)
        order.append(change.seq)
        if len(order) > remember:
            seen.discard(order.popleft())
        yield change
