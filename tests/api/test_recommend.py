"""Recommender fields: next items, learning path, gaps, review queue, the diagnostic test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.conftest import ITEMS, Api, ApiFactory

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
        assert r["kind"] in {"LEARN", "REVIEW", "REMEDIATE", "EASIER", "CONSOLIDATE"}
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


async def test_diagnostic_continues_on_another_process_with_the_same_state_key(
    make_api: ApiFactory,
) -> None:
    """Two apps stand for two server processes (or one before and after a restart)."""
    key = bytes(range(32))
    first, second = await make_api(state_key=key), await make_api(state_key=key)
    stranger = await make_api()  # no configured key: its own random one
    step = await run_step(first, 'startDiagnostic(learnerId: "ada")', role="admin")
    item = step["question"]["item"]["key"]
    answer = (
        f'answerDiagnostic(learnerId: "ada", state: "{step["state"]}", itemId: "{item}", '
        "correct: true)"
    )
    assert (await run_step(second, answer, role="admin"))["__typename"] == "DiagnosticStep"
    refused = await run_step(stranger, answer, role="admin")
    assert refused["__typename"] == "ValidationError" and refused["field"] == "state"


# -- the learner's target retention (review setting) ---------------------------------------------
SET_RETENTION = (
    "mutation($id: ID!, $r: Float) { setLearnerTargetRetention(learnerId: $id, "
    "targetRetention: $r) { __typename ... on Error { message } "
    "... on ValidationError { field } "
    "... on LearnerPayload { learner { targetRetention targetRetentionIsDefault } } } }"
)
SETTING = '{ learner(id: "ada") { targetRetention targetRetentionIsDefault goals { key } } }'


async def set_retention(api: Api, value: float | None, learner: str = "ada") -> dict[str, Any]:
    body = await api.gql(SET_RETENTION, {"id": learner, "r": value}, role="learner")
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["setLearnerTargetRetention"]
    return result


async def test_target_retention_round_trips_and_survives_a_goal_change(api: Api) -> None:
    before = await api.gql(SETTING, role="learner")
    assert before["data"]["learner"] == {
        "targetRetention": 0.9, "targetRetentionIsDefault": True, "goals": [{"key": "mul"}]}
    result = await set_retention(api, 0.8)
    assert result == {"__typename": "LearnerPayload",
                      "learner": {"targetRetention": 0.8, "targetRetentionIsDefault": False}}
    goals = await api.gql(
        'mutation { setLearnerGoals(learnerId: "ada", skillIds: ["frac"]) { __typename } }',
        role="learner",
    )
    assert goals["data"]["setLearnerGoals"]["__typename"] == "LearnerPayload"
    after = await api.gql(SETTING, role="learner")
    assert after["data"]["learner"] == {
        "targetRetention": 0.8, "targetRetentionIsDefault": False, "goals": [{"key": "frac"}]}
    reset = await set_retention(api, None)
    assert reset["learner"] == {"targetRetention": 0.9, "targetRetentionIsDefault": True}
    assert (await api.gql(SETTING, role="learner"))["data"]["learner"]["goals"] == [
        {"key": "frac"}]


async def test_bad_target_retention_is_a_validation_error_naming_it(api: Api) -> None:
    await set_retention(api, 0.85)
    for bad in (0.5, 0.99, 1.5):
        result = await set_retention(api, bad)
        assert result["__typename"] == "ValidationError", result
        assert result["field"] == "targetRetention"
        assert repr(bad) in result["message"] and "[0.7, 0.97]" in result["message"]
    body = await api.gql(SETTING, role="learner")
    assert body["data"]["learner"]["targetRetention"] == 0.85, "nothing was written"
    missing = await api.gql(SET_RETENTION, {"id": "ghost", "r": 0.8}, role="admin")
    assert missing["data"]["setLearnerTargetRetention"]["__typename"] == "NotFoundError"


QUEUE = '{ learner(id: "ada") { reviewQueue { skill { key } retrievability } } }'
FORECAST = (
    'query($r: [Float!]) { learner(id: "ada") { reviewForecast(days: 30, targetRetentions: $r) '
    "{ targetRetention expectedReviews meanRecall current } } }"
)


async def practise(api: Api, days_ago: dict[str, float]) -> None:
    """One right answer per item, ``days_ago`` before now (stability 2 days each)."""
    now = datetime.now(UTC)
    attempts = ", ".join(
        f'{{attemptId: "rv-{item}", learnerId: "ada", itemId: "{item}", score: 1, '
        f'timestamp: "{(now - timedelta(days=d)).isoformat()}"}}'
        for item, d in days_ago.items()
    )
    body = await api.gql(
        f"mutation {{ recordAttempts(input: [{attempts}]) {{ __typename }} }}", role="learner"
    )
    assert body["data"]["recordAttempts"]["__typename"] == "RecordAttemptsPayload", body


async def test_review_queue_shrinks_when_retention_is_lowered(api: Api) -> None:
    # count practised 3 days ago (recall 0.860 at stability 2), add 1.25 days ago (0.934)
    await practise(api, {"i-count": 3.0, "i-add-1": 1.25})

    async def due() -> list[str]:
        body = await api.gql(QUEUE, role="learner")
        assert "errors" not in body, body
        return [d["skill"]["key"] for d in body["data"]["learner"]["reviewQueue"]]

    assert await due() == ["count"]  # the default 0.9
    await set_retention(api, 0.95)
    assert await due() == ["count", "add"]
    await set_retention(api, 0.8)
    assert await due() == []


async def test_review_forecast_rows_and_their_order(api: Api) -> None:
    await practise(api, {"i-count": 3.0, "i-add-1": 1.25})
    await set_retention(api, 0.87)
    body = await api.gql(FORECAST, {"r": None}, role="learner")
    assert "errors" not in body, body
    rows = body["data"]["learner"]["reviewForecast"]
    assert [r["targetRetention"] for r in rows] == [0.8, 0.85, 0.87, 0.9, 0.95]
    assert [r["current"] for r in rows] == [False, False, True, False, False]
    reviews = [r["expectedReviews"] for r in rows]
    assert reviews == sorted(reviews) and reviews[0] < reviews[-1] and reviews[0] >= 2
    assert all(r["targetRetention"] <= r["meanRecall"] <= 1 for r in rows)
    bo = await api.gql(FORECAST.replace('"ada"', '"bo"'), {"r": [0.9]}, role="admin")
    assert bo["data"]["learner"]["reviewForecast"] == [
        {"targetRetention": 0.9, "expectedReviews": 0, "meanRecall": None, "current": True}]
    asked = await api.gql(FORECAST, {"r": [0.95, 0.7]}, role="learner")
    assert [r["targetRetention"] for r in asked["data"]["learner"]["reviewForecast"]] == [
        0.95, 0.7]
    for query, word in ((FORECAST, "target_retention=0.99"),
                        (FORECAST.replace("days: 30", "days: 0"), "days=0")):
        bad = await api.gql(query, {"r": [0.99]} if "0.99" in word else {"r": None},
                            role="learner")
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", bad
        assert word in bad["errors"][0]["message"]
