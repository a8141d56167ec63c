"""Conventions a frontend relies on: closed sets are enums, and ids are global ids while keys
are keys (an `...Id` field holds a global id, a `...Key` field a store key; arguments take
either)."""

from __future__ import annotations

import base64

from api.types.change import ChangeAction, ChangeEntity
from api.types.recommend import ReasonCode, RecommendationKind
from recommender.explain import REASON_CODES
from recommender.next_item import RECOMMENDATION_KINDS
from tests.api.conftest import Api


def gid(type_name: str, key: str) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def test_the_enums_cover_every_value_the_domain_produces() -> None:
    assert {c.value for c in ReasonCode} == REASON_CODES
    assert tuple(k.value for k in RecommendationKind) == RECOMMENDATION_KINDS
    assert {a.value for a in ChangeAction} == {"upsert", "remove"}
    assert {e.value for e in ChangeEntity} == {"skill", "item", "prerequisite"}


async def test_skill_graph_edges_give_ids_and_keys_of_their_nodes(api: Api) -> None:
    body = await api.gql(
        '{ skillGraph(rootIds: ["mul"], depth: 1) { nodes { id key } '
        "edges { sourceId targetId sourceKey targetKey } } }")
    graph = body["data"]["skillGraph"]
    ids = {n["key"]: n["id"] for n in graph["nodes"]}
    assert graph["edges"]
    for e in graph["edges"]:
        assert (e["sourceId"], e["targetId"]) == (ids[e["sourceKey"]], ids[e["targetKey"]])
        assert e["sourceId"] == gid("Skill", e["sourceKey"])


async def test_mutation_payloads_answer_with_global_ids_whatever_was_sent(api: Api) -> None:
    body = await api.gql(
        f'mutation {{ removePrerequisite(sourceId: "count", targetId: "{gid("Skill", "sub")}") '
        "{ ... on RemovePrerequisitePayload { sourceId targetId sourceKey targetKey } } }",
        role="designer")
    assert body["data"]["removePrerequisite"] == {
        "sourceId": gid("Skill", "count"), "targetId": gid("Skill", "sub"),
        "sourceKey": "count", "targetKey": "sub"}


async def test_teacher_ids_take_global_ids_or_keys(api: Api) -> None:
    body = await api.gql(
        f'mutation {{ createGroup(input: {{id: "g9", name: "Nine", teacherIds: '
        f'["{gid("User", "tess")}"]}}) {{ __typename ... on GroupPayload {{ group {{ key '
        "teachers { id } } } ... on Error { message } } }", role="admin")
    assert "errors" not in body, body
    assert body["data"]["createGroup"]["__typename"] == "GroupPayload", body
    wrong = await api.gql(
        f'mutation {{ createGroup(input: {{id: "g8", name: "Eight", teacherIds: '
        f'["{gid("Learner", "ada")}"]}}) {{ __typename ... on ValidationError {{ message }} }} }}',
        role="admin")
    assert wrong["data"]["createGroup"]["__typename"] == "ValidationError"
    assert "not of a User" in wrong["data"]["createGroup"]["message"]


async def test_recommendation_kinds_and_reason_codes_are_enum_values(api: Api) -> None:
    body = await api.gql(
        '{ learner(id: "ada") { recommendations(first: 3) { kind reasons { code } } } }',
        role="learner")
    recs = body["data"]["learner"]["recommendations"]
    assert recs
    for r in recs:
        assert r["kind"] in RecommendationKind.__members__
        assert all(x["code"] in ReasonCode.__members__ for x in r["reasons"])
