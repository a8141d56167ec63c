"""Relay paging: first/after forward, last/before backward, totalCount; errors name the bad
argument."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.errors import BadInputError, LimitExceededError
from api.limits import Limits
from api.types.node import encode_cursor
from api.types.paging import page_size, window
from graph.models import Group, Learner
from tests.api.conftest import Api

KEYS = st.lists(st.text("abcdef", min_size=1, max_size=3), unique=True).map(sorted)


@given(KEYS, st.integers(0, 8), st.booleans(), st.text("abcdef", max_size=3),
       st.text("abcdef", max_size=3), st.booleans(), st.booleans())
def test_a_window_is_the_slice_between_the_cursors(
    keys: list[str], size: int, backward: bool, after: str, before: str, use_after: bool,
    use_before: bool,
) -> None:
    a = after if use_after else None
    b = before if use_before else None
    request = page_size(None if backward else size, size if backward else None,
                        None if a is None else encode_cursor(a),
                        None if b is None else encode_cursor(b), Limits())
    page, info = window(keys, request)
    between = [k for k in keys if (a is None or k > a) and (b is None or k < b)]
    assert page == (between[-size:] if backward and size else [] if backward else between[:size])
    if page:
        assert info.has_previous_page == (keys.index(page[0]) > 0)
        assert info.has_next_page == (keys.index(page[-1]) < len(keys) - 1)
        assert info.start_cursor == encode_cursor(page[0])


@pytest.mark.parametrize(
    ("args", "error", "named"),
    [
        ({"first": 2, "last": 2}, BadInputError, "first=2 and last=2"),
        ({"last": -1}, BadInputError, "last=-1"),
        ({"last": 101}, LimitExceededError, "last=101"),
        ({"before": "nope"}, BadInputError, "before='nope'"),
    ],
)
def test_bad_arguments_are_named(args: dict[str, Any], error: type, named: str) -> None:
    with pytest.raises(error) as caught:
        page_size(args.get("first"), args.get("last"), args.get("after"), args.get("before"),
                  Limits())
    assert named in caught.value.message


GROUP = """query($first: Int, $after: String, $last: Int, $before: String) { group(id: "g5") {
  learners(first: $first, after: $after, last: $last, before: $before) {
    totalCount nodes { key } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
  masteryMatrix(skillIds: ["count"], first: $first, after: $after, last: $last,
                before: $before) {
    totalCount rows { learner { key } probabilities } pageInfo { hasNextPage endCursor } } } }"""


async def test_group_learners_and_matrix_rows_page_both_ways(api: Api) -> None:
    keys = [f"p{i}" for i in range(5)]
    await api.services.store.upsert_learners([Learner(k, k.upper()) for k in keys])
    await api.services.store.upsert_groups([Group("g5", "Five", ("tess",), tuple(keys))])

    async def page(**args: Any) -> dict[str, Any]:
        body = await api.gql(GROUP, args, role="teacher")
        assert "errors" not in body, body
        group: dict[str, Any] = body["data"]["group"]
        return group

    first = await page(first=2)
    assert [n["key"] for n in first["learners"]["nodes"]] == ["p0", "p1"]
    assert first["learners"]["totalCount"] == 5 and first["masteryMatrix"]["totalCount"] == 5
    assert first["learners"]["pageInfo"]["hasNextPage"] is True
    assert first["learners"]["pageInfo"]["hasPreviousPage"] is False
    assert [r["learner"]["key"] for r in first["masteryMatrix"]["rows"]] == ["p0", "p1"]
    after = await page(first=2, after=first["learners"]["pageInfo"]["endCursor"])
    assert [n["key"] for n in after["learners"]["nodes"]] == ["p2", "p3"]
    last = await page(last=2)
    assert [n["key"] for n in last["learners"]["nodes"]] == ["p3", "p4"]
    assert last["learners"]["pageInfo"]["hasNextPage"] is False
    back = await page(last=2, before=last["learners"]["pageInfo"]["startCursor"])
    assert [n["key"] for n in back["learners"]["nodes"]] == ["p1", "p2"]
    assert [r["learner"]["key"] for r in back["masteryMatrix"]["rows"]] == ["p1", "p2"]
    everyone = await page()
    assert len(everyone["learners"]["nodes"]) == 5  # a class fits one page by default


SKILLS = """query($first: Int, $after: String, $last: Int, $before: String) {
  skills(first: $first, after: $after, last: $last, before: $before, topic: "arithmetic") {
    totalCount nodes { key } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
  items(last: 2, kind: EXERCISE) { totalCount nodes { key } pageInfo { hasPreviousPage } } }"""


async def test_skills_and_items_page_backward_with_a_total(api: Api) -> None:
    async def page(**args: Any) -> dict[str, Any]:
        body = await api.gql(SKILLS, args)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    everything = await page(first=10)
    assert [n["key"] for n in everything["skills"]["nodes"]] == ["add", "count", "mul", "sub"]
    assert everything["skills"]["totalCount"] == 4
    assert everything["items"] == {"totalCount": 3, "nodes": [{"key": "i-add-2"},
                                   {"key": "i-mul"}], "pageInfo": {"hasPreviousPage": True}}
    last = await page(last=2)
    assert [n["key"] for n in last["skills"]["nodes"]] == ["mul", "sub"]
    assert last["skills"]["pageInfo"]["hasPreviousPage"] is True
    back = await page(last=2, before=last["skills"]["pageInfo"]["startCursor"])
    assert [n["key"] for n in back["skills"]["nodes"]] == ["add", "count"]
    assert back["skills"]["pageInfo"] | {"startCursor": None, "endCursor": None} == {
        "hasNextPage": True, "hasPreviousPage": False, "startCursor": None, "endCursor": None}
    bad = await api.gql(SKILLS, {"first": 1, "last": 1})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "first=1 and last=1" in bad["errors"][0]["message"]


async def test_attempt_and_view_connections_count_everything(api: Api) -> None:
    body = await api.gql(
        '{ learner(id: "ada") { attempts(first: 1) { totalCount } '
        "views(first: 1) { totalCount } } }",
        role="learner")
    assert body["data"]["learner"] == {"attempts": {"totalCount": 0}, "views": {"totalCount": 0}}
