"""Practice content over GraphQL: prompt, choices and hints for everyone; the answer key and
explanation for teachers, designers and admins, and for a learner in the check of their own
answer (``recordAttempts`` with ``response``), which the server scores."""

from __future__ import annotations

from typing import Any

import pytest

from graph.models import Item, ItemKind, SkillWeight
from tests.api.conftest import Api, ApiFactory
from tests.api.test_loaders import CountingStore

QUIZ = Item(
    "q-add", ItemKind.EXERCISE, "Adding", (SkillWeight("add"),), prompt="What is 2 + 3?",
    choices=("4", "5", "6"), answers=("5",), hints=("Count on from 2.", "3, 4, 5."),
    explanation="2 + 3 = 5.",
)
FREE = Item(
    "q-half", ItemKind.EXERCISE, "Halves", (SkillWeight("frac"),), prompt="Half of 1?",
    answers=("1/2",), explanation="1 ÷ 2 = 1/2.",
)

ITEM = """query($id: ID!) { item(id: $id) { key prompt choices hints checkable %s } }"""
RECORD = """mutation($input: [AttemptInput!]!) {
  recordAttempts(input: $input) {
    __typename
    ... on Error { message }
    ... on ValidationError { field }
    ... on NotFoundError { entity ids }
    ... on RecordAttemptsPayload {
      storedIds duplicateIds
      attempts { attemptId score }
      checks { attemptId correct score response answers explanation item { key } }
    }
  }
}"""


async def with_quiz(make_api: ApiFactory, wrap: Any = None) -> Api:
    api = await make_api(wrap=wrap)
    await api.services.store.upsert_items([QUIZ, FREE], actor="dee")
    return api


def answer(aid: str, item: str, **fields: Any) -> dict[str, Any]:
    return {"attemptId": aid, "learnerId": "ada", "itemId": item,
            "timestamp": "2024-05-02T10:00:00+00:00", **fields}


async def record(api: Api, *attempts: dict[str, Any]) -> dict[str, Any]:
    body = await api.gql(RECORD, {"input": list(attempts)}, role="learner")
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["recordAttempts"]
    return result


async def test_everyone_sees_what_to_answer(make_api: ApiFactory) -> None:
    api = await with_quiz(make_api)
    body = await api.gql(ITEM % "", {"id": "q-add"})
    assert body["data"]["item"] == {
        "key": "q-add", "prompt": "What is 2 + 3?", "choices": ["4", "5", "6"],
        "hints": ["Count on from 2.", "3, 4, 5."], "checkable": True}
    plain = await api.gql(ITEM % "", {"id": "i-count"})
    assert plain["data"]["item"] == {
        "key": "i-count", "prompt": "", "choices": [], "hints": [], "checkable": False}


@pytest.mark.parametrize("role", ["anonymous", "learner"])
async def test_the_answer_key_is_hidden_before_answering(make_api: ApiFactory, role: str) -> None:
    api = await with_quiz(make_api)
    for field in ("answers", "explanation"):
        body = await api.gql(ITEM % field, {"id": "q-add"}, role=role)
        assert body["data"] == {"item": None}
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert f"an item's {field} is for teachers" in error["message"]
        assert "response" in error["message"]


@pytest.mark.parametrize("role", ["teacher", "designer", "admin"])
async def test_staff_read_the_answer_key(make_api: ApiFactory, role: str) -> None:
    api = await with_quiz(make_api)
    body = await api.gql(ITEM % "answers explanation", {"id": "q-add"}, role=role)
    assert body["data"]["item"]["answers"] == ["5"]
    assert body["data"]["item"]["explanation"] == "2 + 3 = 5."


async def test_a_response_is_checked_scored_and_answered_with_the_key(
    make_api: ApiFactory,
) -> None:
    api = await with_quiz(make_api)
    result = await record(
        api, answer("a1", "q-add", response="6"), answer("a2", "q-half", response=" 0.5 "))
    assert result["__typename"] == "RecordAttemptsPayload"
    assert result["attempts"] == [{"attemptId": "a1", "score": 0.0},
                                  {"attemptId": "a2", "score": 1.0}]
    assert result["checks"] == [
        {"attemptId": "a1", "correct": False, "score": 0.0, "response": "6", "answers": ["5"],
         "explanation": "2 + 3 = 5.", "item": {"key": "q-add"}},
        {"attemptId": "a2", "correct": True, "score": 1.0, "response": " 0.5 ",
         "answers": ["1/2"], "explanation": "1 ÷ 2 = 1/2.", "item": {"key": "q-half"}},
    ]
    page = await api.services.store.attempts_of("ada")
    assert {a.attempt_id: a.score for a in page.attempts} == {"a1": 0.0, "a2": 1.0}
    again = await record(api, answer("a1", "q-add", response="6"))
    assert again["duplicateIds"] == ["a1"] and again["storedIds"] == []
    assert again["checks"][0]["correct"] is False


async def test_responses_of_a_batch_read_the_items_once(make_api: ApiFactory) -> None:
    spy: list[CountingStore] = []

    def wrap(inner: Any) -> CountingStore:
        spy.append(CountingStore(inner))
        return spy[0]

    api = await with_quiz(make_api, wrap)
    spy[0].calls.clear()
    result = await record(api, *[answer(f"a{k}", "q-add", response="5") for k in range(5)],
                          answer("b", "q-half", response="1/2"), answer("c", "i-add-1", score=1))
    assert result["__typename"] == "RecordAttemptsPayload"
    assert [c["correct"] for c in result["checks"]] == [True] * 6
    assert spy[0].calls["get_items"] == 1


@pytest.mark.parametrize(
    ("sent", "typename", "field", "named"),
    [
        ({"itemId": "q-add", "response": "5", "score": 1}, "ValidationError",
         "input[0].response", "not both"),
        ({"itemId": "q-add"}, "ValidationError", "input[0].score", "missing"),
        ({"itemId": "q-add", "response": "five"}, "ValidationError", "input[0].response",
         "'five' is not one of the choices of item 'q-add': '4', '5', '6'"),
        ({"itemId": "i-add-1", "response": "5"}, "ValidationError", "input[0].response",
         "'i-add-1' has no answer key"),
        ({"itemId": "i-count", "response": "5"}, "ValidationError", "input[0].response",
         "'i-count' is a lesson"),
        ({"itemId": "q-add", "response": "  "}, "ValidationError", "input[0].response",
         "empty"),
        ({"itemId": "nope", "response": "5"}, "NotFoundError", None, "nope"),
    ],
)
async def test_bad_responses_are_typed_errors_naming_the_value(
    make_api: ApiFactory, sent: dict[str, Any], typename: str, field: str | None, named: str
) -> None:
    api = await with_quiz(make_api)
    fields = {k: v for k, v in sent.items() if k != "itemId"}
    result = await record(api, answer("x1", sent["itemId"], **fields))
    assert result["__typename"] == typename
    if field is not None:
        assert result["field"] == field
    assert named in result["message"]
    assert await api.services.store.attempt_count("ada") == 0


async def test_designers_write_the_practice_fields(make_api: ApiFactory) -> None:
    api = await make_api()
    create = await api.gql(
        """mutation { createItem(input: {id: "q-new", kind: EXERCISE, title: "New",
             skills: [{skillId: "add"}], prompt: "1 + 1?", choices: ["1", "2"],
             answers: ["2"], hints: ["Count on."], explanation: "1 + 1 = 2."}) {
           __typename ... on ItemPayload { item { prompt choices hints checkable answers } }
           ... on Error { message } } }""", role="designer")
    assert create["data"]["createItem"] == {"__typename": "ItemPayload", "item": {
        "prompt": "1 + 1?", "choices": ["1", "2"], "hints": ["Count on."], "checkable": True,
        "answers": ["2"]}}
    update = await api.gql(
        """mutation { updateItem(input: {id: "q-new", choices: [], answers: ["2", "two"]}) {
           __typename ... on ItemPayload { item { prompt choices answers explanation } } } }""",
        role="designer")
    assert update["data"]["updateItem"]["item"] == {
        "prompt": "1 + 1?", "choices": [], "answers": ["2", "two"], "explanation": "1 + 1 = 2."}
    bad = await api.gql(
        """mutation { updateItem(input: {id: "q-new", choices: ["3", "4"]}) {
           __typename ... on ValidationError { field message } } }""", role="designer")
    assert bad["data"]["updateItem"]["__typename"] == "ValidationError"
    assert bad["data"]["updateItem"]["field"] == "item.answers"
    assert "'2'" in bad["data"]["updateItem"]["message"]
