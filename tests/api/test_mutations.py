"""Curriculum and people mutations: payloads, typed errors, nothing written on refusal."""

from __future__ import annotations

import asyncio
from typing import Any

from api.pubsub import CURRICULUM_TOPIC
from tests.api.conftest import Api
from tests.patience import PATIENCE_S

ERRORS = {
    "ValidationError": " ... on ValidationError { field }",
    "NotFoundError": " ... on NotFoundError { entity ids }",
    "CycleError": " ... on CycleError { cycleKeys cycle { key name } }",
}
#: which error types each mutation's union has (beyond ForbiddenError)
UNIONS = {
    "createSkill": ("ValidationError", "NotFoundError"),
    "updateSkill": ("ValidationError", "NotFoundError"),
    "deleteSkill": ("ValidationError", "NotFoundError"),
    "addPrerequisite": ("ValidationError", "NotFoundError", "CycleError"),
    "removePrerequisite": ("ValidationError",),
}


async def mutate(api: Api, call: str, role: str = "designer", extra: str = "") -> dict[str, Any]:
    name = call.split("(")[0]
    errors = "".join(ERRORS[e] for e in UNIONS.get(name, ("ValidationError", "NotFoundError")))
    fields = "{ __typename ... on Error { message }" + errors + extra + " }"
    body = await api.gql(f"mutation {{ r: {call} {fields} }}", role=role)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["r"]
    return result


async def skill_keys(api: Api) -> list[str]:
    body = await api.gql("{ skills { nodes { key } } }")
    return [n["key"] for n in body["data"]["skills"]["nodes"]]


async def test_create_update_delete_skill(api: Api) -> None:
    made = await mutate(
        api,
        'createSkill(input: {id: "div", name: "Dividing", topic: "arithmetic", tags: ["core"]})',
        extra=" ... on SkillPayload { skill { key name topic tags } }",
    )
    assert made["skill"] == {
        "key": "div",
        "name": "Dividing",
        "topic": "arithmetic",
        "tags": ["core"],
    }
    again = await mutate(api, 'createSkill(input: {id: "div", name: "Again"})')
    assert again["__typename"] == "ValidationError" and again["field"] == "id"
    changed = await mutate(
        api,
        'updateSkill(input: {id: "div", name: "Division"})',
        extra=" ... on SkillPayload { skill { name topic } }",
    )
    assert changed["skill"] == {"name": "Division", "topic": "arithmetic"}
    gone = await mutate(api, 'deleteSkill(id: "div")', extra=" ... on DeletePayload { key }")
    assert gone["key"] == "div"
    assert "div" not in await skill_keys(api)
    missing = await mutate(api, 'updateSkill(input: {id: "div", name: "x"})')
    assert missing["__typename"] == "NotFoundError" and missing["ids"] == ["div"]


async def test_invalid_skill_is_refused_before_writing(api: Api) -> None:
    blank = await mutate(api, 'createSkill(input: {id: "x", name: "   "})')
    assert blank == {
        "__typename": "ValidationError",
        "message": "is empty; give some text",
        "field": "name",
    }
    spaced = await mutate(api, 'createSkill(input: {id: " x", name: "X"})')
    assert spaced["field"] == "id" and "spaces" in spaced["message"]
    control = await mutate(api, 'createSkill(input: {id: "a\\u0007b", name: "X"})')
    assert control["field"] == "id" and "unprintable" in control["message"]
    assert await skill_keys(api) == ["add", "count", "frac", "mul", "shape", "sub"]


async def test_cycle_is_refused_and_spelled_out(api: Api) -> None:
    result = await mutate(api, 'addPrerequisite(input: {sourceId: "frac", targetId: "count"})')
    assert result["__typename"] == "CycleError"
    cycle = result["cycleKeys"]
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"frac", "count", "add", "mul"}
    assert [s["key"] for s in result["cycle"]] == cycle
    assert result["cycle"][0]["name"] in {"Fractions", "Counting", "Adding", "Multiplying"}
    body = await api.gql('{ skill(id: "count") { prerequisites { key } } }')
    assert body["data"]["skill"]["prerequisites"] == [], "nothing written"


async def test_prerequisite_errors(api: Api) -> None:
    unknown = await mutate(api, 'addPrerequisite(input: {sourceId: "nope", targetId: "add"})')
    assert unknown["__typename"] == "NotFoundError" and unknown["ids"] == ["nope"]
    loop = await mutate(api, 'addPrerequisite(input: {sourceId: "add", targetId: "add"})')
    assert loop["__typename"] == "ValidationError" and loop["field"] == "targetId"
    strong = await mutate(
        api, 'addPrerequisite(input: {sourceId: "sub", targetId: "frac", strength: 1.5})'
    )
    assert strong["__typename"] == "ValidationError" and strong["field"] == "strength"
    wrong_type = await mutate(
        api, 'addPrerequisite(input: {sourceId: "SXRlbTppLW11bA==", targetId: "frac"})'
    )
    assert wrong_type["__typename"] == "ValidationError"
    assert "is the id of a Item" in wrong_type["message"]


async def test_add_and_remove_prerequisite(api: Api) -> None:
    added = await mutate(
        api,
        'addPrerequisite(input: {sourceId: "sub", targetId: "frac", strength: 0.25})',
        extra=" ... on PrerequisitePayload { edge { strength source { key } target { key } } }",
    )
    assert added["edge"] == {"strength": 0.25, "source": {"key": "sub"}, "target": {"key": "frac"}}
    body = await api.gql('{ skill(id: "frac") { prerequisites { key } } }')
    assert sorted(p["key"] for p in body["data"]["skill"]["prerequisites"]) == ["mul", "sub"]
    await mutate(api, 'removePrerequisite(sourceId: "sub", targetId: "frac")')
    body = await api.gql('{ skill(id: "frac") { prerequisites { key } } }')
    assert body["data"]["skill"]["prerequisites"] == [{"key": "mul"}]


async def test_items(api: Api) -> None:
    made = await mutate(
        api,
        'createItem(input: {id: "i-sub", kind: EXERCISE, title: "9 - 4", difficulty: 0.3, '
        'skills: [{skillId: "sub"}, {skillId: "count", weight: 0.5}]})',
        extra=" ... on ItemPayload { item { key skillWeights { weight skill { key } } } }",
    )
    assert made["item"]["skillWeights"] == [
        {"weight": 1.0, "skill": {"key": "sub"}},
        {"weight": 0.5, "skill": {"key": "count"}},
    ]
    bad_weight = await mutate(
        api,
        'createItem(input: {id: "i-x", kind: EXERCISE, title: "x", '
        'skills: [{skillId: "sub", weight: 0}]})',
    )
    assert bad_weight["__typename"] == "ValidationError" and bad_weight["field"] == "skills.weight"
    unknown = await mutate(
        api, 'createItem(input: {id: "i-x", kind: EXERCISE, title: "x", skills: [{skillId: "zz"}]})'
    )
    assert unknown["__typename"] == "NotFoundError" and unknown["ids"] == ["zz"]
    moved = await mutate(
        api,
        'setItemSkills(itemId: "i-sub", skills: [{skillId: "frac", weight: 0.7}])',
        extra=" ... on ItemPayload { item { title skills { key } } }",
    )
    assert moved["item"] == {"title": "9 - 4", "skills": [{"key": "frac"}]}
    body = await api.gql('{ skill(id: "frac") { items { key } } }')
    assert body["data"]["skill"]["items"] == [{"key": "i-sub"}]
    hard = await mutate(api, 'updateItem(input: {id: "i-sub", difficulty: 2})')
    assert hard["field"] == "difficulty"
    await mutate(api, 'deleteItem(id: "i-sub")')
    assert (await api.gql('{ item(id: "i-sub") { key } }'))["data"]["item"] is None


async def test_curriculum_edits_are_logged_and_published(api: Api) -> None:
    async with api.services.pubsub.subscribe(CURRICULUM_TOPIC) as messages:
        await mutate(api, 'createSkill(input: {id: "div", name: "Dividing"})')
        change = await asyncio.wait_for(anext(messages), PATIENCE_S)
    assert change.entity_id == "div" and change.actor == "dee"
    body = await api.gql(
        f"{{ curriculumChanges(afterSeq: {change.seq - 1}) "
        "{ seq actor action entity entityKey entityId } }",
        role="admin",
    )
    assert body["data"]["curriculumChanges"] == [
        {"seq": change.seq, "actor": "dee", "action": "UPSERT", "entity": "SKILL",
         "entityKey": "div", "entityId": "div"}
    ]
    await mutate(api, 'removePrerequisite(sourceId: "count", targetId: "U2tpbGw6c3Vi")')
    body = await api.gql(
        f"{{ curriculumChanges(afterSeq: {change.seq}) {{ action entity entityKey }} }}",
        role="admin",
    )
    assert body["data"]["curriculumChanges"] == [
        {"action": "REMOVE", "entity": "PREREQUISITE", "entityKey": "count->sub"}
    ]


async def test_learner_goals_and_creation(api: Api) -> None:
    set_goals = await mutate(
        api,
        'setLearnerGoals(learnerId: "ada", skillIds: ["frac", "sub"])',
        role="learner",
        extra=" ... on LearnerPayload { learner { goals { key } } }",
    )
    assert set_goals["learner"]["goals"] == [{"key": "frac"}, {"key": "sub"}]
    unknown = await mutate(
        api, 'setLearnerGoals(learnerId: "ada", skillIds: ["zz"])', role="learner"
    )
    assert unknown["__typename"] == "NotFoundError"
    twice = await mutate(
        api, 'setLearnerGoals(learnerId: "ada", skillIds: ["sub", "sub"])', role="learner"
    )
    assert twice["__typename"] == "ValidationError" and twice["field"] == "skillIds"
    made = await mutate(
        api,
        'createLearner(input: {id: "dan", displayName: "Dan", goals: ["mul"]})',
        role="admin",
        extra=" ... on LearnerPayload { learner { key goals { key } } }",
    )
    assert made["learner"] == {"key": "dan", "goals": [{"key": "mul"}]}


async def test_groups(api: Api) -> None:
    made = await mutate(
        api,
        'createGroup(input: {id: "g2", name: "Class 2", teacherIds: ["tess"], learnerIds: ["cy"]})',
        role="admin",
        extra=" ... on GroupPayload { group { key learners { nodes { key } } } }",
    )
    assert made["group"] == {"key": "g2", "learners": {"nodes": [{"key": "cy"}]}}
    body = await api.gql('{ learner(id: "cy") { key } }', role="teacher")
    assert body["data"]["learner"] == {"key": "cy"}, "the teacher now reads cy"
    again = await mutate(api, 'createGroup(input: {id: "g2", name: "Again"})', role="admin")
    assert again["__typename"] == "ValidationError" and again["field"] == "id"
    unknown = await mutate(
        api, 'updateGroup(input: {id: "g2", learnerIds: ["ghost"]})', role="admin"
    )
    assert unknown["__typename"] == "NotFoundError" and unknown["ids"] == ["ghost"]
    no_group = await mutate(api, 'updateGroup(input: {id: "gx", name: "X"})', role="teacher")
    assert no_group["__typename"] == "NotFoundError" and no_group["ids"] == ["gx"]
    renamed = await mutate(
        api,
        'updateGroup(input: {id: "g2", name: "Class 2b"})',
        role="teacher",
        extra=" ... on GroupPayload { group { name learners { nodes { key } } } }",
    )
    assert renamed["group"] == {"name": "Class 2b", "learners": {"nodes": [{"key": "cy"}]}}
    await mutate(api, 'deleteGroup(id: "g2")', role="admin")
    body = await api.gql('{ learner(id: "cy") { key } }', role="teacher")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
