"""KeyedLocks: one lock per key, taken in sorted order, dropped when unused."""

from __future__ import annotations

import asyncio

import pytest

from tracing.keyed_locks import KeyedLocks


async def test_same_key_waits_other_keys_do_not() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.holding(["ann"]):
            entered.set()
            await release.wait()
            order.append("first")

    async def same() -> None:
        async with locks.holding(["bob", "ann"]):
            order.append("same")

    async def other() -> None:
        async with locks.holding(["bob"]):
            order.append("other")

    first = asyncio.create_task(holder())
    await entered.wait()
    waiting = asyncio.create_task(same())
    for _ in range(5):
        await asyncio.sleep(0)
    await asyncio.wait_for(other(), 5)  # bob is free: "same" waits on ann before taking bob
    assert order == ["other"] and len(locks) == 1  # ann, held and awaited
    release.set()
    await asyncio.gather(first, waiting)
    assert order == ["other", "first", "same"]
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    locks = KeyedLocks()
    async with locks.holding(["ann"]):
        task = asyncio.create_task(locks.holding(["ann", "zed"]).__aenter__())
        for _ in range(5):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert len(locks) == 0
    async with locks.holding(["ann"]):
        pass
