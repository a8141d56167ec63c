"""recordViews: lessons, videos and readings studied, idempotent on viewId, never traced."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, ApiFactory

RECORD = """mutation($input: [ViewInput!]!) {
  recordViews(input: $input) {
    __typename
    ... on Error { message }
    ... on ValidationError { field }
    ... on NotFoundError { entity ids }
    ... on ViewConflictError { viewIds }
    ... on RecordViewsPayload {
      storedIds duplicateIds views { viewId seconds progress timestamp item { key kind } }
    }
  }
}"""
VIEWS = """query($first: Int, $after: String) { learner(id: "ada") {
  views(first: $first, after: $after) {
    nodes { viewId item { key } }
    pageInfo { hasNextPage endCursor } }
  attempts(first: 5) { nodes { attemptId } }
  mastery { skill { key } probability } } }"""


def view(vid: str, item: str = "i-count", minute: int = 0, **fields: Any) -> dict[str, Any]:
    return {"viewId": vid, "learnerId": "ada", "itemId": item,
            "timestamp": f"2024-05-02T10:{minute:02d}:00+00:00", **fields}


async def record(api: Api, *views: dict[str, Any], role: str = "learner") -> dict[str, Any]:
    body = await api.gql(RECORD, {"input": list(views)}, role=role)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordViews"]
    return result


async def test_views_are_stored_once_listed_and_move_no_mastery(api: Api) -> None:
    before = (await api.gql(VIEWS, role="learner"))["data"]["learner"]["mastery"]
    first = await record(api, view("v1", seconds=240), view("v2", minute=3, progress=0.5))
    assert first["__typename"] == "RecordViewsPayload"
    assert first["storedIds"] == ["v1", "v2"]
    assert first["views"][0] == {"viewId": "v1", "seconds": 240, "progress": 1.0,
                                 "timestamp": "2024-05-02T10:00:00+00:00",
                                 "item": {"key": "i-count", "kind": "LESSON"}}
    again = await record(api, view("v1", seconds=240))
    assert (again["storedIds"], again["duplicateIds"]) == ([], ["v1"])
    page = (await api.gql(VIEWS, {"first": 1}, role="learner"))["data"]["learner"]
    assert page["views"]["nodes"] == [{"viewId": "v2", "item": {"key": "i-count"}}]
    assert page["views"]["pageInfo"]["hasNextPage"] is True
    rest = (await api.gql(VIEWS, {"first": 5, "after": page["views"]["pageInfo"]["endCursor"]},
                          role="learner"))["data"]["learner"]["views"]
    assert [n["viewId"] for n in rest["nodes"]] == ["v1"]
    assert page["attempts"]["nodes"] == []  # not answers
    assert page["mastery"] == before


async def test_an_untimed_retry_is_a_duplicate(api: Api) -> None:
    sent = {"viewId": "u1", "learnerId": "ada", "itemId": "i-count"}
    first = await record(api, sent)
    again = await record(api, sent)
    assert again["duplicateIds"] == ["u1"]
    assert again["views"][0]["timestamp"] == first["views"][0]["timestamp"]


@pytest.mark.parametrize(
    ("sent", "typename", "named"),
    [
        (view("x", "i-add-1"), "ValidationError", "'i-add-1' is an exercise"),
        (view("x", "nope"), "NotFoundError", "nope"),
        (view("x", progress=1.5), "ValidationError", "1.5"),
        (view("x", seconds=-1), "ValidationError", "-1"),
        ({**view("x"), "learnerId": "bo"}, "ForbiddenError", ""),
    ],
)
async def test_bad_views_are_typed_errors_naming_the_value(
    api: Api, sent: dict[str, Any], typename: str, named: str
) -> None:
    result = await record(api, sent)
    assert result["__typename"] == typename
    assert named in result["message"]
    assert await api.services.store.view_count() == 0


async def test_a_reused_id_with_other_content_is_a_conflict(api: Api) -> None:
    await record(api, view("v1"))
    result = await record(api, view("v1", progress=0.2))
    assert result == {"__typename": "ViewConflictError", "viewIds": ["v1"],
                      "message": result["message"]}
    assert "'v1'" in result["message"]


async def test_views_need_a_token(make_api: ApiFactory) -> None:
    api = await make_api()
    result = await record(api, view("v1"), role="anonymous")
    assert result["__typename"] == "ForbiddenError"
