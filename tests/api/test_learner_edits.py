"""Concurrent edits of one learner through the API: `setLearnerGoals` and
`setLearnerTargetRetention` each change only their own field (one partial update in the
store), so edits sent at the same time all stay."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from tests.api.conftest import Api

GOALS = (
    "mutation($id: ID!, $s: [ID!]!) { setLearnerGoals(learnerId: $id, skillIds: $s) { "
    "__typename ... on Error { message } "
    "... on LearnerPayload { learner { goals { key } targetRetention } } } }"
)
RETENTION = (
    "mutation($id: ID!, $r: Float) { setLearnerTargetRetention(learnerId: $id, "
    "targetRetention: $r) { __typename ... on Error { message } "
    "... on LearnerPayload { learner { goals { key } targetRetention } } } }"
)
READ = '{ learner(id: "ada") { goals { key } targetRetention } }'


async def send(api: Api, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await api.gql(query, {"id": "ada", **variables}, role="learner")
    assert "errors" not in body, body
    (result,) = body["data"].values()
    assert result["__typename"] == "LearnerPayload", result
    learner: dict[str, Any] = result["learner"]
    return learner


async def test_goal_and_retention_edits_sent_together_both_stay(api: Api) -> None:
    """Two lanes at once, one setting goals, one the target retention, each in sequence with
    values never repeated. Besides the final learner having both lanes' last values, the
    answers must fit one order of all the edits: for goal edit i and retention edit j, either
    i saw j (i came later) or j saw i. A read-then-upsert edit breaks this when neither saw
    the other: the later one wrote back the other field as it was before the earlier one."""
    skills = ["add", "count", "frac", "mul", "shape", "sub"]
    goal_values = [[a, b] for a in skills for b in skills if a != b][:16]
    retentions = [round(0.7 + 0.01 * i, 2) for i in range(16)]

    async def goals_lane() -> list[dict[str, Any]]:
        return [await send(api, GOALS, {"s": g}) for g in goal_values]

    async def retention_lane() -> list[dict[str, Any]]:
        return [await send(api, RETENTION, {"r": r}) for r in retentions]

    by_goals, by_retention = await asyncio.gather(goals_lane(), retention_lane())
    assert [[s["key"] for s in lr["goals"]] for lr in by_goals] == goal_values
    assert [lr["targetRetention"] for lr in by_retention] == retentions
    final = (await api.gql(READ, role="learner"))["data"]["learner"]
    assert final == {"goals": [{"key": k} for k in goal_values[-1]],
                     "targetRetention": retentions[-1]}
    # the index of the other lane's edit each answer saw (-1: the seeded value)
    saw_retention = [retentions.index(lr["targetRetention"])
                     if lr["targetRetention"] in retentions else -1 for lr in by_goals]
    goal_keys = [[s["key"] for s in lr["goals"]] for lr in by_retention]
    saw_goals = [goal_values.index(g) if g in goal_values else -1 for g in goal_keys]
    for i, j in itertools.product(range(len(goal_values)), range(len(retentions))):
        assert saw_retention[i] >= j or saw_goals[j] >= i, (
            f"goal edit {i} and retention edit {j} each missed the other: one was lost")


async def test_each_answer_is_the_learner_as_stored(api: Api) -> None:
    """The payload carries the other field as stored, not as the mutation assumed it."""
    await send(api, RETENTION, {"r": 0.8})
    assert await send(api, GOALS, {"s": ["frac"]}) == {
        "goals": [{"key": "frac"}], "targetRetention": 0.8}
    assert await send(api, RETENTION, {"r": None}) == {
        "goals": [{"key": "frac"}], "targetRetention": 0.9}
    unknown = await api.gql(GOALS, {"id": "ada", "s": ["nope"]}, role="learner")
    assert unknown["data"]["setLearnerGoals"]["__typename"] == "NotFoundError"
    assert "'nope'" in unknown["data"]["setLearnerGoals"]["message"]
    assert (await api.gql(READ, role="learner"))["data"]["learner"] == {
        "goals": [{"key": "frac"}], "targetRetention": 0.9}
