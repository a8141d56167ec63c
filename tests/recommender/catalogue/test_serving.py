"""CatalogueModels on both stores: one fit shared, refitted only when the store moved and the
fit is older than max_age."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from graph.models import Attempt
from recommender.catalogue.serving import CatalogueModels, recommend
from recommender.errors import UnknownIdError
from tests.api.conftest import T0, seed


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def attempts(store: Any, learner: str, items: list[str], tag: str) -> None:
    await store.record_attempts(
        [
            Attempt(f"{tag}-{n}", learner, item, 1.0, T0 + timedelta(minutes=n))
            for n, item in enumerate(items)
        ]
    )


async def test_refit_only_when_moved_and_old(store: Any) -> None:
    await seed(store)
    await attempts(store, "bo", ["i-count", "i-add-1"], "a")
    clock = Clock()
    models = CatalogueModels(max_age=60, clock=clock)
    first, again = await asyncio.gather(
        models.get(store, "item-knn"), models.get(store, "item-knn")
    )
    assert first is again  # concurrent callers share one fit
    await attempts(store, "cy", ["i-count", "i-mul"], "b")
    assert await models.get(store, "item-knn") is first  # young: served as is
    clock.now = 61
    moved = await models.get(store, "item-knn")
    assert moved is not first and moved.version[0] == 4
    clock.now = 200
    same = await models.get(store, "item-knn")
    assert same.strategy is moved.strategy  # old but the store did not move: no refit


async def test_recommend_for_an_unknown_learner_or_item(store: Any) -> None:
    await seed(store)
    await attempts(store, "bo", ["i-count", "i-add-1"], "a")
    models = CatalogueModels()
    with pytest.raises(UnknownIdError, match="'nobody'"):
        await recommend(store, "nobody", "popularity", 3, models=models)
    with pytest.raises(UnknownIdError, match="'i-x'"):
        await recommend(store, "ada", "popularity", 3, models=models, chosen=["i-x"])
    got = await recommend(store, "ada", "popularity", 3, models=models, chosen=["i-count"])
    assert got[0].item == "i-add-1" and "i-count" not in {r.item for r in got}


async def test_a_cancelled_caller_leaves_the_fit_running(
    store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request stopped by its timeout must not waste the fit it started: the next caller
    gets that same fit (one fit in all)."""
    from recommender.catalogue import serving

    await seed(store)
    await attempts(store, "bo", ["i-count", "i-add-1"], "a")
    refits: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()
    real = serving._version

    async def gated(store: Any) -> Any:
        refits.append("version")  # each refit starts by reading the store's version
        started.set()
        await release.wait()
        return await real(store)

    monkeypatch.setattr(serving, "_version", gated)
    models = CatalogueModels()
    caller = asyncio.create_task(models.get(store, "item-knn"))
    await started.wait()  # the fit is under way
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    got = await models.get(store, "item-knn")
    assert refits == ["version"] and got.catalogue.n_items == 4
