"""A circuit breaker between requests and the store: fail fast while the store is down.

Without it, every request to a Neo4j that is down waits: the driver retries a failed
connection for 30 s before it gives up, so each request ran into the request timeout and was
told to "ask for less". The breaker has two states:

* **closed** (the store answers): requests run. A request that has run for
  ``suspect_after_s`` makes the breaker :meth:`probe` the store (``GraphStore.ping``: one
  round trip, no retries); a failed probe opens the breaker and stops the request, which is
  answered 503 with the reason. A store call that fails with ``StoreUnavailableError``
  opens it too (:meth:`trip`).
* **open** (since a failure, for ``cooldown_s``): requests are refused at once with the
  reason. After the cool-down the next request first probes (one probe at a time, shared by
  concurrent requests): success closes the breaker, failure opens it for another cool-down.

The clock is passed in, so tests move time by hand.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from graph.store import StoreUnavailableError

T = TypeVar("T")


class StoreDown(Exception):
    """The store is unavailable: ``reason`` says why (from the failed probe or call)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreBreaker:
    """Fail fast while the store is down (see the module docstring).

    Args:
        ping: the store's ``ping`` (raises ``StoreUnavailableError`` when it is down).
        cooldown_s: how long requests are refused after a failure before the next probe.
        suspect_after_s: how long a request runs before the store is probed.
        ping_timeout_s: a probe that takes longer counts as a failure.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        ping: Callable[[], Awaitable[None]],
        *,
        cooldown_s: float = 5.0,
        suspect_after_s: float = 1.0,
        ping_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ping = ping
        self.cooldown_s = cooldown_s
        self.suspect_after_s = suspect_after_s
        self.ping_timeout_s = ping_timeout_s
        self._clock = clock
        self._opened_at: float | None = None
        self.reason = ""
        self._probe: asyncio.Task[str | None] | None = None
        #: probes run so far (tests and logs)
        self.probes = 0
        #: tasks inside :meth:`run`, and those of them a failed probe is stopping
        self._running: set[asyncio.Task[Any]] = set()
        self._stopping: set[asyncio.Task[Any]] = set()

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def retry_after_s(self) -> int:
        """Whole seconds until the next probe (at least 1)."""
        if self._opened_at is None:
            return 1
        left = self.cooldown_s - (self._clock() - self._opened_at)
        return max(1, int(left + 0.999))

    def trip(self, reason: str) -> None:
        """Open the breaker now (a call or probe failed with ``reason``)."""
        self._opened_at = self._clock()
        self.reason = reason

    def _close(self) -> None:
        self._opened_at = None
        self.reason = ""

    async def probe(self) -> str | None:
        """Ping the store (one ping shared by concurrent callers): None when it answered
        (the breaker closes), else the reason (the breaker opens)."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._ping_once())
        return await asyncio.shield(self._probe)

    async def _ping_once(self) -> str | None:
        self.probes += 1
        try:
            async with asyncio.timeout(self.ping_timeout_s):
                await self._ping()
        except StoreUnavailableError as exc:
            reason = str(exc)
        except TimeoutError:
            reason = f"the store did not answer a ping within {self.ping_timeout_s} s"
        except Exception as exc:  # an unexpected failure of the ping is a failure too
            reason = f"the store's ping failed: {type(exc).__name__}: {exc}"
        else:
            self._close()
            return None
        self.trip(reason)
        return reason

    async def admit(self) -> str | None:
        """None when a request may run; else why the store is unavailable. Refuses at once
        during the cool-down; after it, probes first."""
        if self._opened_at is None:
            return None
        if self._clock() - self._opened_at < self.cooldown_s:
            return self.reason
        return await self.probe()

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Await ``work`` (a request) in the calling task; if it takes longer than
        ``suspect_after_s``, probe the store, and when the probe fails stop ``work`` (the
        calling task is cancelled, as a timeout does) and raise :class:`StoreDown`. A
        ``StoreUnavailableError`` out of ``work`` opens the breaker and propagates. A request
        that ends in time costs one timer, no task."""
        task = asyncio.current_task()
        assert task is not None, "run() needs a task"
        self._running.add(task)
        timer = asyncio.get_running_loop().call_later(self.suspect_after_s, self._suspect, task)
        try:
            return await work
        except StoreUnavailableError as exc:
            self.trip(str(exc))
            raise
        except asyncio.CancelledError:
            if task not in self._stopping:
                raise
            self._stopping.discard(task)
            task.uncancel()
            raise StoreDown(self.reason) from None
        finally:
            timer.cancel()
            self._running.discard(task)
            self._stopping.discard(task)

    def _suspect(self, task: asyncio.Task[Any]) -> None:
        """``task`` has run for ``suspect_after_s``: probe, and stop it if the store is down."""
        if task not in self._running:
            return
        probe = asyncio.ensure_future(self.probe())
        probe.add_done_callback(lambda done: self._probed(done, task))

    def _probed(self, probe: asyncio.Future[str | None], task: asyncio.Task[Any]) -> None:
        if probe.cancelled() or probe.exception() is not None or probe.result() is None:
            return
        if task in self._running and not task.done():
            self._stopping.add(task)
            task.cancel()
