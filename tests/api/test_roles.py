"""The role matrix: every query and mutation, for every role, allowed or denied.

Rules: unauthenticated callers see the public curriculum; a learner reads and writes only
their own data; a teacher reads the learners of the groups they teach and may rename those
groups, while rosters (who is in a group, learners and teachers) are set by admins; a
designer edits the curriculum; an admin does everything. In the seeded data learner ``ada``
and ``bo`` are in group ``g1`` taught by ``tess``; ``cy`` is in no group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import Api

ROLES = ("anonymous", "learner", "teacher", "designer", "admin")
ALL = frozenset(ROLES)


@dataclass(frozen=True)
class Case:
    name: str
    document: str
    allowed: frozenset[str]
    field: str
    mutation: bool = False


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


CASES = [
    Case("skills", "{ skills(first: 2) { nodes { key } } }", ALL, "skills"),
    Case("skill", '{ skill(id: "add") { key } }', ALL, "skill"),
    Case("items", "{ items { nodes { key } } }", ALL, "items"),
    Case("item", '{ item(id: "i-mul") { key } }', ALL, "item"),
    Case("skillGraph", '{ skillGraph(rootIds: ["mul"]) { nodes { key } } }', ALL, "skillGraph"),
    Case("node(Skill)", '{ node(id: "U2tpbGw6YWRk") { id } }', ALL, "node"),
    Case("viewer", "{ viewer { role } }", ALL, "viewer"),
    Case(
        "learner(own)",
        '{ learner(id: "ada") { key attempts { nodes { attemptId } } mastery { probability } } }',
        roles("learner", "teacher", "admin"),
        "learner",
    ),
    Case(
        "learner.recommendations",
        '{ learner(id: "ada") { recommendations { kind } learningPath { estimatedItems } '
        "gaps { ready } reviewQueue { retrievability } } }",
        roles("learner", "teacher", "admin"),
        "learner",
    ),
    Case(
        "group.gaps",
        '{ group(id: "g1") { gaps(goalIds: ["mul"]) { meanMastery } } }',
        roles("teacher", "admin"),
        "group",
    ),
    Case("learner(other)", '{ learner(id: "cy") { key } }', roles("admin"), "learner"),
    Case(
        "learner.reviewForecast",
        '{ learner(id: "ada") { targetRetention reviewForecast(days: 7) { expectedReviews } } }',
        roles("learner", "teacher", "admin"),
        "learner",
    ),
    Case(
        "node(Learner)",
        '{ node(id: "TGVhcm5lcjphZGE=") { id } }',
        roles("learner", "teacher", "admin"),
        "node",
    ),
    Case(
        "skill.mastery",
        '{ skill(id: "add") { mastery(learnerId: "ada") { probability } } }',
        roles("learner", "teacher", "admin"),
        "skill",
    ),
    Case(
        "group",
        '{ group(id: "g1") { learners { nodes { key } } '
        "masteryMatrix { rows { probabilities } } } }",
        roles("teacher", "admin"),
        "group",
    ),
    Case(
        "curriculumChanges",
        "{ curriculumChanges(first: 3) { seq action } }",
        roles("designer", "admin"),
        "curriculumChanges",
    ),
    Case("node(User)", '{ node(id: "VXNlcjpkZWU=") { id } }', roles("designer", "admin"), "node"),
    Case(
        "item.learningGain",
        '{ item(id: "i-mul") { learningGain { observations mean } } }',
        roles("teacher", "designer", "admin"),
        "item",
    ),
]

CURRICULUM = roles("designer", "admin")
ATTEMPT = '{attemptId: "t1", learnerId: "%s", itemId: "i-add-1", score: 1}'
MUTATIONS = [
    Case(
        "recordAttempts(own)",
        f"recordAttempts(input: [{ATTEMPT % 'ada'}])",
        roles("learner", "admin"),
        "",
    ),
    Case("recordAttempts(other)", f"recordAttempts(input: [{ATTEMPT % 'bo'}])", roles("admin"), ""),
    Case("createSkill", 'createSkill(input: {id: "div", name: "Dividing"})', CURRICULUM, ""),
    Case("updateSkill", 'updateSkill(input: {id: "add", name: "Addition"})', CURRICULUM, ""),
    Case("deleteSkill", 'deleteSkill(id: "shape")', CURRICULUM, ""),
    Case(
        "addPrerequisite",
        'addPrerequisite(input: {sourceId: "sub", targetId: "frac"})',
        CURRICULUM,
        "",
    ),
    Case(
        "removePrerequisite", 'removePrerequisite(sourceId: "add", targetId: "mul")', CURRICULUM, ""
    ),
    Case(
        "createItem",
        'createItem(input: {id: "i-new", kind: VIDEO, title: "Intro", skills: [{skillId: "sub"}]})',
        CURRICULUM,
        "",
    ),
    Case("updateItem", 'updateItem(input: {id: "i-mul", difficulty: 0.9})', CURRICULUM, ""),
    Case(
        "setItemSkills",
        'setItemSkills(itemId: "i-mul", skills: [{skillId: "mul", weight: 0.5}])',
        CURRICULUM,
        "",
    ),
    Case("deleteItem", 'deleteItem(id: "i-count")', CURRICULUM, ""),
    Case(
        "setLearnerGoals(own)",
        'setLearnerGoals(learnerId: "ada", skillIds: ["frac"])',
        roles("learner", "admin"),
        "",
    ),
    Case(
        "setLearnerGoals(other)",
        'setLearnerGoals(learnerId: "bo", skillIds: ["frac"])',
        roles("admin"),
        "",
    ),
    Case(
        "setLearnerTargetRetention(own)",
        'setLearnerTargetRetention(learnerId: "ada", targetRetention: 0.8)',
        roles("learner", "admin"),
        "",
    ),
    Case(
        "setLearnerTargetRetention(other)",
        'setLearnerTargetRetention(learnerId: "bo", targetRetention: 0.8)',
        roles("admin"),
        "",
    ),
    Case(
        "createLearner", 'createLearner(input: {id: "dan", displayName: "Dan"})', roles("admin"), ""
    ),
    Case(
        "startDiagnostic(own)", 'startDiagnostic(learnerId: "ada")', roles("learner", "admin"), ""
    ),
    Case("startDiagnostic(other)", 'startDiagnostic(learnerId: "bo")', roles("admin"), ""),
    # rosters are the admins': a teacher only renames a group they teach
    Case(
        "createGroup",
        'createGroup(input: {id: "g2", name: "Class 2", teacherIds: ["tess"], learnerIds: ["cy"]})',
        roles("admin"),
        "",
    ),
    Case(
        "createGroup(no learners)",
        'createGroup(input: {id: "g2", name: "Class 2", teacherIds: ["tess"]})',
        roles("admin"),
        "",
    ),
    Case(
        "updateGroup(learners)",
        'updateGroup(input: {id: "g1", learnerIds: ["ada", "bo", "cy"]})',
        roles("admin"),
        "",
    ),
    Case(
        "updateGroup(teachers)",
        'updateGroup(input: {id: "g1", teacherIds: ["tess", "root"]})',
        roles("admin"),
        "",
    ),
    Case(
        "updateGroup(rename)",
        'updateGroup(input: {id: "g1", name: "1A"})',
        roles("teacher", "admin"),
        "",
    ),
    Case(
        "updateGroup(same members)",
        'updateGroup(input: {id: "g1", name: "1A", teacherIds: ["tess"], '
        'learnerIds: ["bo", "ada"]})',
        roles("teacher", "admin"),
        "",
    ),
    Case("deleteGroup", 'deleteGroup(id: "g1")', roles("admin"), ""),
    # the registry is empty: the population-default BKT is served, so this is a no-op success
    Case("activateTracerModel", 'activateTracerModel(key: "bkt-default")', roles("admin"), ""),
]


def at_path(data: Any, path: list[str | int]) -> Any:
    for step in path:
        if data is None:
            return None
        data = data[step]
    return data


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_query_access(api: Api, case: Case, role: str) -> None:
    body = await api.gql(case.document, role=role)
    errors = body.get("errors", [])
    if role in case.allowed:
        assert errors == [], errors
        if case.name != "viewer" or role != "anonymous":
            assert body["data"][case.field] is not None
    else:
        assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], body
        assert errors[0]["path"][0] == case.field
        assert at_path(body["data"], errors[0]["path"]) is None, "nothing of it is returned"
        assert errors[0]["message"], "a denial says why"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", MUTATIONS, ids=lambda c: c.name)
async def test_mutation_access(api: Api, case: Case, role: str) -> None:
    document = f"mutation {{ result: {case.document} {{ __typename ... on Error {{ message }} }} }}"
    body = await api.gql(document, role=role)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["result"]
    if role in case.allowed:
        assert not result["__typename"].endswith("Error"), result
    else:
        assert result["__typename"] == "ForbiddenError", result
        assert result["message"]
