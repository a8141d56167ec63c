"""Recommender fields: next items, learning path, gaps, review queue, the diagnostic test."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ITEMS, Api

ITEM_KEYS = {i.id for i in ITEMS}


async def test_recommendations_for_a_learner(api: Api) -> None:
    body = await api.gql(
        '{ learner(id: "ada") { recommendations(first: 3) { kind predictedSuccess '
        "item { key } skill { key } reasons { code message } } } }",
        role="learner",
    )
    assert "errors" not in body, body
    recs = body["data"]["learner"]["recommendations"]
    assert 1 <= len(recs) <= 3
    for r in recs:
        assert r["item"]["key"] in ITEM_KEYS
        assert r["kind"] in {"learn", "review", "remediate", "easier", "consolidate"}
        assert 0 <= r["predictedSuccess"] <= 1
        assert r["reasons"] and all(x["message"] for x in r["reasons"])
    # ada has mastered counting (0.95), not adding (0.7): nothing needing `mul` first
    assert all(r["skill"]["key"] != "frac" for r in recs)


async def test_learning_path_orders_prerequisites_first(api: Api) -> None:
    body = await api.gql(
        '{ learner(id: "ada") { learningPath(goalIds: ["frac"]) { goals { key } '
        "estimatedItems steps { skill { key } ready mastery } } } }",
        role="learner",
    )
    path = body["data"]["learner"]["learningPath"]
    assert path["goals"] == [{"key": "frac"}]
    order = [s["skill"]["key"] for s in path["steps"]]
    assert order[-1] == "frac"
    assert set(order) <= {"add", "mul", "frac", "count"}
    assert "count" not in order, "counting is mastered"
    assert order.index("mul") < order.index("frac")
    if "add" in order:
        assert order.index("add") < order.index("mul")
    assert path["estimatedItems"] >= len(order)


async def test_gaps_and_unknown_goals(api: Api) -> None:
    body = await api.gql(
        '{ learner(id: "bo") { gaps(goalIds: ["mul"]) { '
        "skill { key } ready rootCauses { key } } } }",
        role="admin",
    )
    gaps = body["data"]["learner"]["gaps"]
    assert gaps, "bo has mastered nothing"
    keys = {g["skill"]["key"] for g in gaps}
    assert keys <= {"count", "add", "mul"}
    causes = {c["key"] for g in gaps for c in g["rootCauses"]}
    assert causes <= {"count", "add", "mul"}
    bad = await api.gql('{ learner(id: "bo") { gaps(goalIds: ["nope"]) { ready } } }', role="admin")
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "nope" in bad["errors"][0]["message"]


async def test_group_gaps_and_review_queue(api: Api) -> None:
    body = await api.gql(
        '{ group(id: "g1") { gaps(goalIds: ["mul"]) { skill { key } meanMastery '
        "learners { key } } } }",
        role="teacher",
    )
    gaps = body["data"]["group"]["gaps"]
    assert gaps
    assert {x["key"] for g in gaps for x in g["learners"]} <= {"ada", "bo"}
    queue = await api.gql(
        '{ learner(id: "ada") { reviewQueue { skill { key } retrievability dueAt } } }',
        role="learner",
    )
    assert "errors" not in queue and isinstance(queue["data"]["learner"]["reviewQueue"], list)


STEP = (
    "__typename ... on Error { message } ... on ValidationError { field } "
    "... on DiagnosticStep { state answered expectedAccuracy "
    "question { item { key } skill { key } } }"
)


async def run_step(api: Api, call: str, role: str = "learner") -> dict[str, Any]:
    body = await api.gql(f"mutation {{ r: {call} {{ {STEP} }} }}", role=role)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["r"]
    return result


async def test_diagnostic_round_trip(api: Api) -> None:
    step = await run_step(api, 'startDiagnostic(learnerId: "ada")')
    assert step["__typename"] == "DiagnosticStep" and step["answered"] == 0
    answered = 0
    while step["question"] is not None and answered < 25:
        q = step["question"]
        correct = "true" if q["skill"]["key"] in {"count", "add"} else "false"
        step = await run_step(
            api,
            f'answerDiagnostic(learnerId: "ada", state: "{step["state"]}", '
            f'itemId: "{q["item"]["key"]}", correct: {correct})',
        )
        answered += 1
        assert step["answered"] == answered
    body = await api.gql(
        f'mutation {{ finishDiagnostic(learnerId: "ada", state: "{step["state"]}") {{ '
        "__typename ... on DiagnosticResult { questions saved mastered { key } "
        "mastery { probability skill { key } } } } }",
        role="learner",
    )
    result = body["data"]["finishDiagnostic"]
    assert result["__typename"] == "DiagnosticResult" and result["saved"] is True
    assert result["questions"] == answered
    assert {m["skill"]["key"] for m in result["mastery"]} == {
        "add",
        "count",
        "frac",
        "mul",
        "shape",
        "sub",
    }
    stored = await api.gql(
        '{ learner(id: "ada") { mastery { modelVersion skill { key } } } }', role="learner"
    )
    assert {m["modelVersion"] for m in stored["data"]["learner"]["mastery"]} == {"diagnostic"}


async def test_diagnostic_state_cannot_be_forged_or_moved(api: Api) -> None:
    step = await run_step(api, 'startDiagnostic(learnerId: "ada")', role="admin")
    state = step["state"]
    forged = state[:-6] + ("AAAAAA" if not state.endswith("AAAAAA") else "BBBBBB")
    bad = await run_step(
        api,
        f'answerDiagnostic(learnerId: "ada", state: "{forged}", itemId: "i-add-1", correct: true)',
        role="admin",
    )
    assert bad["__typename"] == "ValidationError" and bad["field"] == "state"
    moved = await run_step(
        api,
        f'answerDiagnostic(learnerId: "bo", state: "{state}", itemId: "i-add-1", correct: true)',
        role="admin",
    )
    assert moved["__typename"] == "ValidationError" and "this learner" in moved["message"]
    other = await run_step(api, 'startDiagnostic(learnerId: "bo")', role="learner")
    assert other["__typename"] == "ForbiddenError"
