"""Rosters: admins enrol learners and teachers into groups; a teacher reads only the learners of
the groups they teach and can widen that by no mutation.

Seeded (``tests/api/conftest.py``): ``tess`` teaches ``g1`` = {ada, bo}; here ``tom`` also
teaches ``g2`` = {cy}. Every group mutation ``tess`` might use to reach ``cy`` is tried; after
each, every way of reading ``cy`` is still refused and no group changed.
"""

from __future__ import annotations

from typing import Any

import pytest

from api.auth import issue_token
from graph.models import Group, Role
from tests.api.conftest import AUTH, Api

G2 = Group("g2", "Class 2", teacher_ids=("tom",), learner_ids=("cy",))

#: every read of learner cy's data a teacher could try
READS_OF_CY = [
    '{ learner(id: "cy") { key attempts { nodes { attemptId } } } }',
    '{ node(id: "TGVhcm5lcjpjeQ==") { id } }',  # Learner:cy
    '{ skill(id: "count") { mastery(learnerId: "cy") { probability } } }',
    '{ group(id: "g2") { learners { nodes { key } } } }',
    '{ nodes(ids: ["TGVhcm5lcjpjeQ=="]) { id } }',
]

#: (what it tries, the mutation) for teacher tess; each must answer ForbiddenError
ATTEMPTS_TO_REACH_CY = [
    (
        "a new group with cy",
        'createGroup(input: {id: "g3", name: "Mine", teacherIds: ["tess"], learnerIds: ["cy"]})',
    ),
    (
        "an empty group of her own",
        'createGroup(input: {id: "g3", name: "Mine", teacherIds: ["tess"]})',
    ),
    ("adding cy to her group", 'updateGroup(input: {id: "g1", learnerIds: ["ada", "bo", "cy"]})'),
    ("swapping cy in", 'updateGroup(input: {id: "g1", learnerIds: ["cy"]})'),
    ("joining tom's group", 'updateGroup(input: {id: "g2", teacherIds: ["tom", "tess"]})'),
    ("taking tom's group", 'updateGroup(input: {id: "g2", teacherIds: ["tess"]})'),
    ("moving cy out of tom's group", 'updateGroup(input: {id: "g2", learnerIds: []})'),
    ("renaming tom's group", 'updateGroup(input: {id: "g2", name: "Mine now"})'),
    ("deleting tom's group", 'deleteGroup(id: "g2")'),
    ("a co-teacher on her group", 'updateGroup(input: {id: "g1", teacherIds: ["tess", "tom"]})'),
    ("deleting her group", 'deleteGroup(id: "g1")'),
]


async def as_teacher(api: Api, sub: str, query: str) -> dict[str, Any]:
    token = issue_token(AUTH, sub, Role.TEACHER)
    response = await api.client.post(
        "/graphql", json={"query": query}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def groups_now(store: Any) -> list[Group | None]:
    return list(await store.get_groups(["g1", "g2", "g3"]))


async def assert_cy_unreachable(api: Api) -> None:
    for query in READS_OF_CY:
        body = await as_teacher(api, "tess", query)
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        assert codes == ["FORBIDDEN"], (query, body)
        assert "cy" not in str(body["data"]).replace("Learner:cy", ""), body


@pytest.mark.parametrize(
    "what,mutation", ATTEMPTS_TO_REACH_CY, ids=[a[0] for a in ATTEMPTS_TO_REACH_CY]
)
async def test_a_teacher_cannot_reach_a_learner_outside_their_groups(
    api: Api, store: Any, what: str, mutation: str
) -> None:
    await store.upsert_groups([G2])
    before = await groups_now(store)
    await assert_cy_unreachable(api)
    payload = (
        ""
        if mutation.startswith("delete")
        else (
            "... on GroupPayload { group { learners { nodes { key "
            "attempts { nodes { attemptId } } } } } }"
        )
    )
    document = f"mutation {{ r: {mutation} {{ __typename ... on Error {{ message }} {payload} }} }}"
    body = await as_teacher(api, "tess", document)
    assert "errors" not in body, body
    assert body["data"]["r"]["__typename"] == "ForbiddenError", (what, body)
    assert (
        "admin" in body["data"]["r"]["message"] or "does not teach" in body["data"]["r"]["message"]
    ), body
    assert await groups_now(store) == before, "nothing was written"
    await assert_cy_unreachable(api)


async def test_a_teacher_renames_their_group_without_changing_its_roster(
    api: Api, store: Any
) -> None:
    body = await as_teacher(
        api,
        "tess",
        'mutation { r: updateGroup(input: {id: "g1", name: "1A", learnerIds: ["bo", "ada"]}) '
        "{ __typename ... on GroupPayload { group { name learners { nodes { key } } } } } }",
    )
    assert body["data"]["r"] == {
        "__typename": "GroupPayload",
        "group": {"name": "1A", "learners": {"nodes": [{"key": "ada"}, {"key": "bo"}]}},
    }
    (g1,) = await store.get_groups(["g1"])
    assert g1 is not None and g1.name == "1A" and sorted(g1.learner_ids) == ["ada", "bo"]


async def test_an_admin_enrols_and_unenrols_and_the_teacher_follows(api: Api) -> None:
    enrol = await api.gql(
        'mutation { r: updateGroup(input: {id: "g1", learnerIds: ["ada", "bo", "cy"]}) '
        "{ __typename } }",
        role="admin",
    )
    assert enrol["data"]["r"]["__typename"] == "GroupPayload"
    reads = await as_teacher(api, "tess", '{ learner(id: "cy") { key } }')
    assert reads["data"]["learner"] == {"key": "cy"}
    unenrol = await api.gql(
        'mutation { r: updateGroup(input: {id: "g1", learnerIds: ["ada", "bo"]}) { __typename } }',
        role="admin",
    )
    assert unenrol["data"]["r"]["__typename"] == "GroupPayload"
    again = await as_teacher(api, "tess", '{ learner(id: "cy") { key } }')
    assert [e["extensions"]["code"] for e in again["errors"]] == ["FORBIDDEN"]


class AdminActsMidRename:
    """The store, with an admin's unenrolment of ``ada`` from g1 landing between the
    teacher's read of g1 and the teacher's write."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.armed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def get_groups(self, ids: Any) -> Any:
        found = await self._inner.get_groups(ids)
        if self.armed:
            self.armed = False
            await self._inner.upsert_groups([Group("g1", "Class 1", ("tess",), ("bo",))])
        return found


async def test_a_rename_never_undoes_a_concurrent_unenrolment(make_api: Any, store: Any) -> None:
    wrapped: list[AdminActsMidRename] = []

    def wrap(inner: Any) -> AdminActsMidRename:
        wrapped.append(AdminActsMidRename(inner))
        return wrapped[0]

    api = await make_api(wrap=wrap)
    wrapped[0].armed = True
    body = await as_teacher(
        api, "tess", 'mutation { r: updateGroup(input: {id: "g1", name: "1A"}) { __typename } }'
    )
    assert body["data"]["r"]["__typename"] == "GroupPayload"
    (g1,) = await store.get_groups(["g1"])
    assert g1 == Group("g1", "1A", ("tess",), ("bo",)), "ada stays unenrolled"
