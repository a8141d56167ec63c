"""``Recommendation.item``: the recommended items are read in one store call when (and only
when) the query selects ``item``, however it is spelled; an item the store no longer has is
null."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ITEMS, ApiFactory
from tests.api.test_loaders import CountingStore

ITEM_KEYS = {i.id for i in ITEMS}
SPELLINGS = {
    "plain": "recommendations(first: 3) { item { key } kind predictedSuccess }",
    "aliased": "recommendations(first: 3) { thing: item { key } kind predictedSuccess }",
    "fragment": "recommendations(first: 3) { ...R kind predictedSuccess }",
    "inline fragment": (
        "recommendations(first: 3) { ... on Recommendation { item { key } } kind predictedSuccess }"
    ),
    "nested fragments": "recommendations(first: 3) { ...Outer kind predictedSuccess }",
}
FRAGMENTS = {
    "R": " fragment R on Recommendation { item { key } }",
    "Outer": " fragment Outer on Recommendation { ... on Recommendation { ...R } }",
}


def query(selection: str) -> str:
    fragments = "".join(text for name, text in FRAGMENTS.items() if f"...{name}" in selection)
    if "...Outer" in selection:
        fragments = "".join(FRAGMENTS.values())
    return f'{{ learner(id: "ada") {{ {selection} }} }}{fragments}'


class Seeded:
    """The app's rng replaced by a seeded one, so every spelling gets the same decision."""

    @staticmethod
    def rng() -> Any:
        import numpy as np

        return np.random.default_rng(7)


async def _app(make_api: ApiFactory, wrap: Any = None) -> tuple[Any, list[CountingStore]]:
    spies: list[CountingStore] = []

    def counting(inner: Any) -> CountingStore:
        spies.append(CountingStore(wrap(inner) if wrap else inner))
        return spies[-1]

    api = await make_api(wrap=counting)
    api.services.rng = Seeded.rng
    return api, spies


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
async def test_item_is_read_once_however_it_is_selected(
    make_api: ApiFactory, spelling: str
) -> None:
    api, spies = await _app(make_api)
    plain = await api.gql(query(SPELLINGS["plain"]), role="learner")
    assert "errors" not in plain, plain
    expected = [r["item"]["key"] for r in plain["data"]["learner"]["recommendations"]]
    assert expected and set(expected) <= ITEM_KEYS
    spies[0].calls.clear()
    body = await api.gql(query(SPELLINGS[spelling]), role="learner")
    assert "errors" not in body, body
    recs = body["data"]["learner"]["recommendations"]
    name = "thing" if spelling == "aliased" else "item"
    assert [r[name]["key"] for r in recs] == expected
    assert spies[0].calls["get_items"] == 1


async def test_no_item_read_when_item_is_not_selected(make_api: ApiFactory) -> None:
    api, spies = await _app(make_api)
    spies[0].calls.clear()
    body = await api.gql(
        query("recommendations(first: 3) { kind reasons { code } }"), role="learner"
    )
    assert "errors" not in body, body
    assert body["data"]["learner"]["recommendations"]
    assert spies[0].calls["get_items"] == 0


class ForgetsFirstItem:
    """A store whose ``get_items`` no longer has the first id asked for (deleted since the
    recommender's index was built)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.forgotten: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get_items(self, ids: Any) -> list[Any]:
        found = list(await self._inner.get_items(ids))
        if ids and found:
            self.forgotten.append(ids[0])
            found[0] = None
        return found


async def test_an_item_gone_from_the_store_is_null(make_api: ApiFactory) -> None:
    forgetful: list[ForgetsFirstItem] = []

    def wrap(inner: Any) -> ForgetsFirstItem:
        forgetful.append(ForgetsFirstItem(inner))
        return forgetful[-1]

    api, _ = await _app(make_api, wrap)
    body = await api.gql(query("recommendations(first: 3) { item { key } kind }"), role="learner")
    assert "errors" not in body, body
    recs = body["data"]["learner"]["recommendations"]
    assert recs and forgetful[0].forgotten
    assert recs[0]["item"] is None
    assert all(r["item"]["key"] in ITEM_KEYS for r in recs[1:])
