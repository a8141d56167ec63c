"""A request's DataLoaders survive a caller cancelled mid-wait (``api.loaders.ShieldedLoader``).

graphql-core cancels a request's other pending fields when one fails; before the shield, the
cancelled caller cancelled the batch's shared future, strawberry then cancelled the batch's
dispatch, and the next ``load`` of the request joined that dead batch and waited forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from api.loaders import _loader


def counting_loader() -> tuple[DataLoader[str, str], list[list[str]]]:
    calls: list[list[str]] = []

    async def fetch(keys: Sequence[str]) -> list[str]:
        calls.append(list(keys))
        return [k.upper() for k in keys]

    return _loader(fetch), calls


async def spin(turns: int = 20) -> None:
    for _ in range(turns):  # the batch is dispatched and answered within a few loop turns
        await asyncio.sleep(0)


async def test_a_load_after_a_cancelled_one_is_still_answered() -> None:
    loader, calls = counting_loader()
    first = loader.load("a")
    await asyncio.sleep(0)  # the batch's dispatch task now exists and has not started
    first.cancel()  # the caller gave up (a sibling field failed)
    second = loader.load("b")
    await spin()
    assert second.done() and second.result() == "B"
    assert calls == [["a", "b"]]  # one batch, run once
    assert await loader.load("a") == "A"  # the cancelled caller's key is cached, not lost
    assert calls == [["a", "b"]]


async def test_a_cancelled_awaiting_task_leaves_other_callers_of_the_key_answered() -> None:
    loader, calls = counting_loader()

    async def caller() -> str:
        return await loader.load("k")

    gone = asyncio.create_task(caller())
    await asyncio.sleep(0)
    gone.cancel()
    kept = asyncio.create_task(caller())
    await spin()
    assert gone.cancelled()
    assert kept.done() and kept.result() == "K"
    assert calls == [["k"]]


async def test_load_many_still_batches_and_keeps_order() -> None:
    loader, calls = counting_loader()
    assert await loader.load_many(["x", "y", "x"]) == ["X", "Y", "X"]
    assert calls == [["x", "y"]]
