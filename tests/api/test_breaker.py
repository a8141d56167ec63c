"""The store circuit breaker on its own: a hand-moved clock and a scripted ping."""

from __future__ import annotations

import asyncio

import pytest

from api.breaker import StoreBreaker, StoreDown
from graph.store import StoreUnavailableError
from tests.patience import eventually


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Ping:
    """Answers, or fails with ``down`` when set; counts calls."""

    def __init__(self) -> None:
        self.down: str | None = None
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.down is not None:
            raise StoreUnavailableError(self.down)


def breaker(ping: Ping, clock: Clock, **kw: float) -> StoreBreaker:
    return StoreBreaker(ping, cooldown_s=5.0, clock=clock, **kw)


async def test_closed_admits_without_pinging() -> None:
    ping, clock = Ping(), Clock()
    b = breaker(ping, clock)
    assert await b.admit() is None and ping.calls == 0 and not b.is_open


async def test_a_failure_refuses_fast_for_the_cool_down_then_probes_again() -> None:
    ping, clock = Ping(), Clock()
    b = breaker(ping, clock)
    b.trip("connection refused")
    ping.down = "connection refused"
    for _ in range(3):
        assert await b.admit() == "connection refused"
    assert ping.calls == 0, "no ping during the cool-down"
    assert b.retry_after_s() == 5
    clock.now += 4.5
    assert await b.admit() == "connection refused" and ping.calls == 0
    assert b.retry_after_s() == 1
    clock.now += 0.5
    assert await b.admit() == "connection refused" and ping.calls == 1, "probed, still down"
    assert await b.admit() == "connection refused" and ping.calls == 1, "a new cool-down"
    clock.now += 5
    ping.down = None
    assert await b.admit() is None and ping.calls == 2 and not b.is_open
    assert await b.admit() is None and ping.calls == 2


async def test_concurrent_requests_after_the_cool_down_share_one_probe() -> None:
    ping, clock = Ping(), Clock()
    gate = asyncio.Event()

    async def slow_ping() -> None:
        await gate.wait()
        await ping()

    b = StoreBreaker(slow_ping, cooldown_s=5.0, clock=clock)
    b.trip("down")
    clock.now += 6
    waiting = [asyncio.ensure_future(b.admit()) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [None] * 5
    assert ping.calls == 1 and b.probes == 1


async def test_a_slow_request_is_stopped_when_the_probe_fails() -> None:
    ping, clock = Ping(), Clock()
    ping.down = "Neo4j is unavailable: connection refused"
    b = breaker(ping, clock, suspect_after_s=0.0)
    never = asyncio.Event()
    with pytest.raises(StoreDown, match="connection refused"):
        await b.run(never.wait())
    assert b.is_open and ping.calls == 1


async def test_a_slow_request_on_a_live_store_runs_to_its_end() -> None:
    ping, clock = Ping(), Clock()
    b = breaker(ping, clock, suspect_after_s=0.0)
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "done"

    task = asyncio.ensure_future(b.run(slow()))
    await eventually(lambda: ping.calls == 1, "the probe of a slow request")
    assert not task.done()
    gate.set()
    assert await task == "done" and not b.is_open


async def test_a_store_unavailable_error_opens_the_breaker() -> None:
    ping, clock = Ping(), Clock()
    b = breaker(ping, clock)

    async def failing() -> None:
        raise StoreUnavailableError("the SQLite store 'x.db' is closed")

    with pytest.raises(StoreUnavailableError):
        await b.run(failing())
    assert b.is_open and b.reason == "the SQLite store 'x.db' is closed"


async def test_a_ping_that_hangs_counts_as_a_failure() -> None:
    clock = Clock()
    never = asyncio.Event()

    async def hanging() -> None:
        await never.wait()

    b = StoreBreaker(hanging, ping_timeout_s=0.0, clock=clock)
    reason = await b.probe()
    assert reason is not None and "did not answer" in reason and b.is_open
