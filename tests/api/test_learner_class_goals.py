"""Learners read the goals their teachers set for their classes (`Learner.classGoals`), on both
stores: who sees which class's goals, who set each, and the learner's progress toward it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.auth import issue_token
from graph.models import Group, GroupGoal, Role, User
from tests.api.conftest import AUTH, T0, Api

CLASS_GOALS = """query($id: ID!) { learner(id: $id) { classGoals {
  group { key name } skill { key } note dueAt probability mastered setBy { key displayName } }
} }"""

SET_GOALS = """mutation($g: ID!, $goals: [ClassGoalInput!]!) { setClassGoals(groupId: $g,
  goals: $goals) { __typename ... on ClassGoalsPayload { goals { skill { key } setBy { key } } }
  ... on Error { message } } }"""


async def as_user(api: Api, sub: str, role: Role, query: str, variables: dict[str, Any]) -> Any:
    token = issue_token(AUTH, sub, role)
    response = await api.client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


async def two_classes(api: Api, store: Any) -> None:
    """g1 (Class 1: ada, bo; taught by tess) gets mul then count from tess through the API;
    g2 (Class 2: ada, cy; taught by tom) gets shape, set by tom, straight in the store."""
    await store.upsert_users([User("tom", "Tom", Role.TEACHER)])
    await store.upsert_groups(
        [Group("g2", "Class 2", teacher_ids=("tom",), learner_ids=("ada", "cy"))]
    )
    due = (T0 + timedelta(days=7)).isoformat()
    goals = [{"skillId": "mul", "dueAt": due, "note": "times tables"}, {"skillId": "count"}]
    got = await api.gql(SET_GOALS, {"g": "g1", "goals": goals}, role="teacher")
    assert got["data"]["setClassGoals"]["__typename"] == "ClassGoalsPayload", got
    await store.set_group_goals("g2", [GroupGoal("shape", note="solids", set_by="tom")])


def summary(body: Any) -> list[tuple[str, str, str | None]]:
    goals = body["data"]["learner"]["classGoals"]
    return [(g["group"]["key"], g["skill"]["key"], (g["setBy"] or {}).get("key")) for g in goals]


async def test_a_learner_reads_the_goals_of_each_of_their_classes(api: Api, store: Any) -> None:
    await two_classes(api, store)
    got = await api.gql(CLASS_GOALS, {"id": "ada"}, role="learner")
    assert "errors" not in got, got
    assert summary(got) == [("g1", "mul", "tess"), ("g1", "count", "tess"), ("g2", "shape", "tom")]
    mul, count, shape = got["data"]["learner"]["classGoals"]
    assert mul["group"]["name"] == "Class 1" and mul["note"] == "times tables"
    assert mul["dueAt"].startswith("2024-05-08T09:00:00")
    assert mul["setBy"] == {"key": "tess", "displayName": "Tess"}
    # progress toward each: ada has no estimate of mul, count at 0.95 (mastered)
    assert (mul["probability"], mul["mastered"]) == (None, False)
    assert (count["probability"], count["mastered"]) == (0.95, True)
    assert shape["group"]["name"] == "Class 2" and shape["setBy"]["displayName"] == "Tom"

    bo = await as_user(api, "bo", Role.LEARNER, CLASS_GOALS, {"id": "bo"})
    assert summary(bo) == [("g1", "mul", "tess"), ("g1", "count", "tess")]
    (_, bo_count) = bo["data"]["learner"]["classGoals"]
    assert (bo_count["probability"], bo_count["mastered"]) == (0.4, False)


async def test_who_reads_which_learners_class_goals(api: Api, store: Any) -> None:
    await two_classes(api, store)
    # a teacher: only the classes they teach, of their own learners
    tess_ada = await api.gql(CLASS_GOALS, {"id": "ada"}, role="teacher")
    assert summary(tess_ada) == [("g1", "mul", "tess"), ("g1", "count", "tess")]
    tom_ada = await as_user(api, "tom", Role.TEACHER, CLASS_GOALS, {"id": "ada"})
    assert summary(tom_ada) == [("g2", "shape", "tom")]
    # an admin: every class of the learner
    admin = await api.gql(CLASS_GOALS, {"id": "ada"}, role="admin")
    assert [g for g, _, _ in summary(admin)] == ["g1", "g1", "g2"]
    # nobody else: another learner, a teacher of none of the learner's classes, a designer
    refused = [
        ("learner", "bo", "a learner may read only their own data"),
        ("teacher", "cy", "teaches no group containing learner 'cy'"),
        ("designer", "ada", "role 'designer' may not read learner 'ada'"),
        ("anonymous", "ada", "needs a token"),
    ]
    for role, learner, message in refused:
        got = await api.gql(CLASS_GOALS, {"id": learner}, role=role)
        assert got["data"]["learner"] is None, (role, got)
        assert message in got["errors"][0]["message"], (role, got)


async def test_a_learner_in_no_class_has_no_class_goals(api: Api, store: Any) -> None:
    await two_classes(api, store)
    await store.upsert_groups([Group("g2", "Class 2", teacher_ids=("tom",), learner_ids=("cy",))])
    got = await api.gql(CLASS_GOALS, {"id": "bo"}, role="admin")
    assert summary(got) == [("g1", "mul", "tess"), ("g1", "count", "tess")]
    await store.set_group_goals("g1", [])
    got = await api.gql(CLASS_GOALS, {"id": "ada"}, role="learner")
    assert got["data"]["learner"]["classGoals"] == []


async def test_resetting_the_list_keeps_the_setter_of_unchanged_goals(api: Api, store: Any) -> None:
    await two_classes(api, store)
    # the admin sends count back unchanged, changes mul's note and adds frac
    goals = [{"skillId": "count"}, {"skillId": "mul", "note": "up to 12"}, {"skillId": "frac"}]
    got = await api.gql(SET_GOALS, {"g": "g1", "goals": goals}, role="admin")
    payload = got["data"]["setClassGoals"]
    assert [(g["skill"]["key"], g["setBy"]["key"]) for g in payload["goals"]] == [
        ("count", "tess"),
        ("mul", "root"),
        ("frac", "root"),
    ]
    (stored,) = await store.group_goals(["g1"])
    assert [(g.skill_id, g.set_by) for g in stored] == [
        ("count", "tess"),
        ("mul", "root"),
        ("frac", "root"),
    ]
