"""recommendations(strategy: ...) and suggestSkills on both stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from api.limits import Limits
from graph.models import Attempt, Item, ItemKind, SkillWeight
from tests.api.conftest import T0, Api, ApiFactory

# bo: count, add-1, add-2; cy: count, add-1, mul
TAKEN = {"bo": ["i-count", "i-add-1", "i-add-2"], "cy": ["i-count", "i-add-1", "i-mul"]}

RECS = (
    '{ learner(id: "ada") { recommendations(first: %d, strategy: %s%s) { kind item { key } '
    "skill { key } predictedSuccess reasons { code message data } } } }"
)


@pytest.fixture
async def capi(make_api: ApiFactory) -> Api:
    """The app with no request timeout to speak of: the first call of a strategy fits it,
    and the suite runs on loaded shared cores (no test depends on how long a fit takes)."""
    return await make_api(limits=Limits(timeout_s=600.0))


async def take(store: Any, taken: dict[str, list[str]]) -> None:
    rows = [
        Attempt(f"{lr}-{n}", lr, item, 1.0, T0 + timedelta(minutes=n))
        for lr, items in taken.items()
        for n, item in enumerate(items)
    ]
    await store.record_attempts(rows)


async def recs(api: Api, strategy: str, first: int = 1, extra: str = "") -> Any:
    body = await api.gql(RECS % (first, strategy, extra), role="learner")
    return body


async def test_item_knn_recommends_what_co_occurs_and_says_why(capi: Api, store: Any) -> None:
    await take(store, {**TAKEN, "ada": ["i-count"]})
    body = await recs(capi, "ITEM_KNN")
    assert "errors" not in body, body
    [rec] = body["data"]["learner"]["recommendations"]
    # cos(count, add-1) = 2/sqrt(3*2) beats add-2 and mul (1/sqrt(3))
    assert rec["item"]["key"] == "i-add-1" and rec["kind"] == "CATALOGUE"
    assert rec["skill"]["key"] == "add"
    assert 0 <= rec["predictedSuccess"] <= 1
    by = {r["code"]: r for r in rec["reasons"]}
    assert by["COMPLETED"]["message"] == "because you completed Counting to 20"
    assert by["COMPLETED"]["data"]["item"] == "i-count"
    assert by["UNLOCKS"]["message"] == "unlocks Multiplying"
    assert by["STRATEGY"]["data"]["strategy"] == "item-knn"


async def test_popularity_skips_what_the_learner_did(capi: Api, store: Any) -> None:
    await take(store, {**TAKEN, "ada": ["i-add-1"]})
    body = await recs(capi, "POPULARITY", first=4)
    keys = [r["item"]["key"] for r in body["data"]["learner"]["recommendations"]]
    assert keys[0] == "i-count" and "i-add-1" not in keys and len(keys) == 3


async def test_cold_start_from_chosen_items(capi: Api, store: Any) -> None:
    await take(store, TAKEN)  # ada has no attempts: she picks the multiplication item
    body = await recs(capi, "ITEM_KNN", first=2, extra=', seedItemIds: ["i-mul"]')
    assert "errors" not in body, body
    got = body["data"]["learner"]["recommendations"]
    # mul co-occurs (cy) with count and add-1 equally; ties go by item key
    assert [r["item"]["key"] for r in got] == ["i-add-1", "i-count"]
    assert got[0]["reasons"][0]["message"] == "because you completed 6 x 7"
    bad = await recs(capi, "ITEM_KNN", extra=', seedItemIds: ["i-nope"]')
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "i-nope" in bad["errors"][0]["message"]


@pytest.mark.parametrize("strategy", ["EMBEDDING", "NMF", "CONTENT", "USER_KNN", "CLUSTERS"])
async def test_every_catalogue_strategy_answers(capi: Api, store: Any, strategy: str) -> None:
    await take(store, {**TAKEN, "ada": ["i-count"]})
    body = await recs(capi, strategy, first=3)
    assert "errors" not in body, body
    got = body["data"]["learner"]["recommendations"]
    assert len(got) == 3 and "i-count" not in {r["item"]["key"] for r in got}
    assert all(r["kind"] == "CATALOGUE" for r in got)


async def test_default_strategy_is_the_next_item_policy(capi: Api, store: Any) -> None:
    body = await capi.gql(
        '{ learner(id: "ada") { recommendations(first: 2) { kind } } }', role="learner"
    )
    kinds = {r["kind"] for r in body["data"]["learner"]["recommendations"]}
    assert kinds and kinds <= {"LEARN", "REVIEW", "REMEDIATE", "EASIER", "CONSOLIDATE"}


SUGGEST = (
    "query($i: ID, $t: String) { suggestSkills(itemId: $i, text: $t, first: 2) { "
    "skill { key } score evidence { key } } }"
)


async def test_suggest_skills_for_designers(api: Api, store: Any) -> None:
    body = await api.gql(SUGGEST, {"t": "Counting to 30"}, role="designer")
    assert "errors" not in body, body
    top = body["data"]["suggestSkills"][0]
    assert top["skill"]["key"] == "count" and top["evidence"] == [{"key": "i-count"}]
    await store.upsert_items(
        [
            Item("i-tens", ItemKind.EXERCISE, "Tens", (SkillWeight("add"),), body="Adding tens"),
            Item("i-new", ItemKind.EXERCISE, "More tens", body="Adding tens to tens"),
        ],
        actor="test",
    )
    tagged = await api.gql(SUGGEST, {"i": "i-tens"}, role="designer")
    assert tagged["data"]["suggestSkills"][0]["evidence"] == []  # not its own evidence
    new = await api.gql(SUGGEST, {"i": "i-new"}, role="designer")
    first = new["data"]["suggestSkills"][0]
    assert first["skill"]["key"] == "add" and first["evidence"] == [{"key": "i-tens"}]


@pytest.mark.parametrize(
    ("role", "variables", "code"),
    [
        ("learner", {"t": "Counting"}, "FORBIDDEN"),
        ("anonymous", {"t": "Counting"}, "FORBIDDEN"),
        ("designer", {"t": "Counting", "i": "i-add-1"}, "BAD_USER_INPUT"),
        ("designer", {}, "BAD_USER_INPUT"),
        ("designer", {"i": "i-nope"}, "BAD_USER_INPUT"),
        ("designer", {"t": "   "}, "BAD_USER_INPUT"),
    ],
)
async def test_suggest_skills_refusals(
    api: Api, role: str, variables: dict[str, str], code: str
) -> None:
    body = await api.gql(SUGGEST, variables, role=role)
    assert body["errors"][0]["extensions"]["code"] == code, body
