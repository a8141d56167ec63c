"""Relay paging: first/after forward, last/before backward, totalCount; errors name the bad
argument."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
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


HISTORY = """query($first: Int, $after: String, $last: Int, $before: String) {
  learner(id: "ada") {
    attempts(first: $first, after: $after, last: $last, before: $before) {
      totalCount edges { cursor node { attemptId } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
    views(first: $first, after: $after, last: $last, before: $before) {
      totalCount edges { cursor node { viewId } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""


async def seed_history(api: Api) -> list[str]:
    """Seven attempts and views of ada (minutes 0..5, two at minute 3), ids newest first."""
    from datetime import UTC, datetime, timedelta

    from graph.models import Attempt, View

    store = api.services.store
    minutes = [0, 1, 2, 3, 3, 4, 5]
    if await store.attempt_count("ada") == 0:
        t0 = datetime(2024, 5, 2, 10, tzinfo=UTC)
        await store.record_attempts([Attempt(f"h{n}", "ada", "i-add-1", 1.0,
                                             t0 + timedelta(minutes=m))
                                     for n, m in enumerate(minutes)])
        await store.record_views([View(f"h{n}", "ada", "i-count", t0 + timedelta(minutes=m))
                                  for n, m in enumerate(minutes)])
    return ["h6", "h5", "h4", "h3", "h2", "h1", "h0"]


async def history_page(api: Api, connection: str, **args: Any) -> dict[str, Any]:
    body = await api.gql(HISTORY, args, role="learner")
    assert "errors" not in body, body
    conn: dict[str, Any] = body["data"]["learner"][connection]
    return conn


def node_ids(conn: dict[str, Any]) -> list[str]:
    return [next(iter(e["node"].values())) for e in conn["edges"]]


@pytest.mark.parametrize("connection", ["attempts", "views"])
async def test_attempts_and_views_page_backward(api: Api, connection: str) -> None:
    order = await seed_history(api)
    last = await history_page(api, connection, last=3)
    assert node_ids(last) == order[-3:] and last["totalCount"] == 7
    info = last["pageInfo"]
    assert (info["hasPreviousPage"], info["hasNextPage"]) == (True, False)
    assert info["startCursor"] == last["edges"][0]["cursor"]
    back = await history_page(api, connection, last=3, before=info["startCursor"])
    assert node_ids(back) == order[1:4]
    assert (back["pageInfo"]["hasPreviousPage"], back["pageInfo"]["hasNextPage"]) == (True, True)
    # forward from a backward page's end continues where it stopped, and flags the way back
    on = await history_page(api, connection, first=2, after=back["pageInfo"]["endCursor"])
    assert node_ids(on) == order[4:6]
    assert (on["pageInfo"]["hasPreviousPage"], on["pageInfo"]["hasNextPage"]) == (True, True)
    first = await history_page(api, connection, first=2)
    assert (first["pageInfo"]["hasPreviousPage"], first["pageInfo"]["hasNextPage"]) == (
        False, True)
    empty = await history_page(api, connection, last=0)
    assert empty["edges"] == [] and empty["pageInfo"]["hasPreviousPage"] is True


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"first": 1, "last": 1}, "first=1 and last=1"),
        ({"last": -2}, "last=-2"),
        ({"last": 101}, "last=101"),
        ({"last": 1, "before": "bm9wZQ=="}, "before='bm9wZQ=='"),
        # a cursor of this API whose key the store never issued
        ({"last": 1, "before": encode_cursor("forged")}, f"before={encode_cursor('forged')!r}"),
        ({"first": 1, "after": encode_cursor("forged")}, f"after={encode_cursor('forged')!r}"),
    ],
)
async def test_bad_history_paging_is_refused_naming_the_value(
    api: Api, args: dict[str, Any], named: str
) -> None:
    body = await api.gql(HISTORY, args, role="learner")
    messages = [e["message"] for e in body["errors"]]
    assert messages and all(named in m for m in messages), messages
    assert all(e["extensions"]["code"] in ("BAD_USER_INPUT", "LIMIT_EXCEEDED")
               for e in body["errors"])


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(1, 8), connection=st.sampled_from(["attempts", "views"]))
async def test_paging_backward_is_paging_forward_reversed(
    api: Api, size: int, connection: str
) -> None:
    order = await seed_history(api)
    forward: list[str] = []
    after = None
    while True:
        conn = await history_page(api, connection, first=size, after=after)
        assert conn["totalCount"] == len(order)
        forward += node_ids(conn)
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    backward: list[str] = []
    before = None
    while True:
        conn = await history_page(api, connection, last=size, before=before)
        assert conn["totalCount"] == len(order)
        backward = node_ids(conn) + backward
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
    assert forward == backward == order
