"""In-process locks per key (a learner id), made on demand and dropped when unused.

Serving holds the locks of a batch's learners while it reads, advances and writes their
tracer states, so that answers of one learner arriving at one process at once do not race
each other into compare-and-set conflicts, while other learners' answers go on in parallel.
Across processes the store's compare-and-set is what keeps updates safe; these locks only
spare conflicts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holders and waiters


class KeyedLocks:
    """``async with locks.holding(keys):`` holds one ``asyncio.Lock`` per key, taken in
    sorted order (so two holders of overlapping key sets cannot deadlock)."""

    def __init__(self) -> None:
        #: an entry goes when no one holds or waits for it
        self._locks: dict[str, _Entry] = {}

    def __len__(self) -> int:
        """Keys with a holder or a waiter now."""
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def holding(self, keys: Iterable[str]) -> AsyncIterator[None]:
        wanted = sorted(set(keys))
        joined: list[_Entry] = []
        acquired: list[asyncio.Lock] = []
        try:
            for key in wanted:
                entry = self._locks.get(key)
                if entry is None:
                    entry = self._locks[key] = _Entry()
                entry.users += 1
                joined.append(entry)
                await entry.lock.acquire()
                acquired.append(entry.lock)
            yield
        finally:
            for lock in reversed(acquired):
                lock.release()
            for key, entry in zip(wanted, joined, strict=False):  # joined: a prefix
                entry.users -= 1
                if entry.users == 0:
                    del self._locks[key]
