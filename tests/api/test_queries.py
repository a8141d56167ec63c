"""Queries on a hand-built curriculum: values, ordering, paging, filters, the graph."""

from __future__ import annotations

import base64

from api.ids import to_global_id
from tests.api.conftest import Api


def gid(type_name: str, key: str) -> str:
    return to_global_id(type_name, key)


async def test_skills_page_with_prerequisites_and_items(api: Api) -> None:
    body = await api.gql(
        "{ skills(first: 3) { edges { cursor node { key name prerequisites { key } "
        "dependents { key } items { key } } } pageInfo { hasNextPage endCursor } } }"
    )
    assert "errors" not in body
    edges = body["data"]["skills"]["edges"]
    assert [e["node"]["key"] for e in edges] == ["add", "count", "frac"]
    add = edges[0]["node"]
    assert add["prerequisites"] == [{"key": "count"}]
    assert add["dependents"] == [{"key": "mul"}]
    assert sorted(i["key"] for i in add["items"]) == ["i-add-1", "i-add-2", "i-mul"]
    assert edges[2]["node"]["prerequisites"] == [{"key": "mul"}]
    info = body["data"]["skills"]["pageInfo"]
    assert info["hasNextPage"] is True
    assert info["endCursor"] == edges[-1]["cursor"]


async def test_skill_pages_are_stable_and_complete(api: Api) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await api.gql(
            "query($after: String) { skills(first: 2, after: $after) { edges { node { key } } "
            "pageInfo { hasNextPage endCursor } } }",
            {"after": after},
        )
        conn = body["data"]["skills"]
        seen += [e["node"]["key"] for e in conn["edges"]]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == ["add", "count", "frac", "mul", "shape", "sub"]
    assert pages == 3


async def test_skill_filters(api: Api) -> None:
    async def keys(args: str) -> list[str]:
        body = await api.gql(f"{{ skills({args}) {{ nodes {{ key }} }} }}")
        assert "errors" not in body, body
        return [n["key"] for n in body["data"]["skills"]["nodes"]]

    assert await keys('topic: "geometry"') == ["shape"]
    assert await keys('area: "number", hasPrerequisite: false') == ["count"]
    assert await keys("hasPrerequisite: true") == ["add", "frac", "mul", "sub"]
    assert await keys('search: "ING"') == ["add", "count", "mul", "sub"]


async def test_bad_cursor_is_a_clear_error(api: Api) -> None:
    body = await api.gql('{ skills(after: "nonsense") { nodes { key } } }')
    assert body["data"] is None
    (error,) = body["errors"]
    assert "not a cursor" in error["message"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_node_and_global_ids(api: Api) -> None:
    body = await api.gql(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id "
        "... on Skill { name } ... on Item { title } } }",
        {"ids": [gid("Skill", "mul"), gid("Item", "i-mul"), gid("Skill", "nope")]},
    )
    assert body["data"]["nodes"] == [
        {"__typename": "Skill", "id": gid("Skill", "mul"), "name": "Multiplying"},
        {"__typename": "Item", "id": gid("Item", "i-mul"), "title": "6 x 7"},
        None,
    ]
    assert base64.b64decode(gid("Skill", "mul")) == b"Skill:mul"


async def test_skill_accepts_key_or_global_id_but_not_another_type(api: Api) -> None:
    by_key = await api.gql('{ skill(id: "add") { id } }')
    by_gid = await api.gql(f'{{ skill(id: "{gid("Skill", "add")}") {{ key }} }}')
    assert by_key["data"]["skill"]["id"] == gid("Skill", "add")
    assert by_gid["data"]["skill"]["key"] == "add"
    wrong = await api.gql(f'{{ skill(id: "{gid("Item", "i-mul")}") {{ key }} }}')
    assert "is the id of a Item" in wrong["errors"][0]["message"]


async def test_item_weights_and_kind_filter(api: Api) -> None:
    body = await api.gql(
        '{ item(id: "i-mul") { kind difficulty skillWeights { weight skill { key } } } '
        "items(kind: LESSON) { nodes { key } } "
        'bySkill: items(skillId: "add") { nodes { key } } }'
    )
    data = body["data"]
    assert data["item"]["kind"] == "EXERCISE"
    assert data["item"]["skillWeights"] == [
        {"weight": 1.0, "skill": {"key": "mul"}},
        {"weight": 0.3, "skill": {"key": "add"}},
    ]
    assert [n["key"] for n in data["items"]["nodes"]] == ["i-count"]
    assert [n["key"] for n in data["bySkill"]["nodes"]] == ["i-add-1", "i-add-2", "i-mul"]


async def test_skill_graph_directions_and_depth(api: Api) -> None:
    async def graph(args: str) -> tuple[list[str], list[tuple[str, str]]]:
        call = f"skillGraph({args})" if args else "skillGraph"
        body = await api.gql(
            f"{{ {call} {{ nodes {{ key }} "
            "edges { strength source { key } target { key } } } }"
        )
        assert "errors" not in body, body
        g = body["data"]["skillGraph"]
        nodes = sorted(n["key"] for n in g["nodes"])
        edges = sorted((e["source"]["key"], e["target"]["key"]) for e in g["edges"])
        return nodes, edges

    assert await graph('rootIds: ["frac"]') == (
        ["add", "count", "frac", "mul"],
        [("add", "mul"), ("count", "add"), ("mul", "frac")],
    )
    assert await graph('rootIds: ["frac"], depth: 1') == (["frac", "mul"], [("mul", "frac")])
    assert await graph('rootIds: ["count"], direction: DEPENDENTS, depth: 1') == (
        ["add", "count", "sub"],
        [("count", "add"), ("count", "sub")],
    )
    assert await graph('rootIds: ["add"], direction: BOTH, depth: 1') == (
        ["add", "count", "mul"],
        [("add", "mul"), ("count", "add")],
    )
    nodes, edges = await graph("")
    assert len(nodes) == 6 and len(edges) == 4


async def test_learner_with_mastery_goals_and_groups(api: Api) -> None:
    body = await api.gql(
        '{ learner(id: "ada") { displayName goals { key } groups { key name } '
        "mastery { probability skill { key } } } }",
        role="learner",
    )
    ada = body["data"]["learner"]
    assert ada["goals"] == [{"key": "mul"}]
    assert ada["groups"] == [{"key": "g1", "name": "Class 1"}]
    assert [(m["skill"]["key"], m["probability"]) for m in ada["mastery"]] == [
        ("add", 0.7),
        ("count", 0.95),
    ]


async def test_skill_mastery_for_a_learner(api: Api) -> None:
    body = await api.gql(
        '{ skills(first: 3) { nodes { key mastery(learnerId: "ada") { probability } } } }',
        role="learner",
    )
    got = {n["key"]: n["mastery"] for n in body["data"]["skills"]["nodes"]}
    assert got == {"add": {"probability": 0.7}, "count": {"probability": 0.95}, "frac": None}


async def test_group_mastery_matrix(api: Api) -> None:
    body = await api.gql(
        '{ group(id: "g1") { name teachers { key } learners { nodes { key } } '
        "masteryMatrix { skills { key } rows { learner { key } probabilities } } "
        'picked: masteryMatrix(skillIds: ["count"]) { rows { probabilities } } } }',
        role="teacher",
    )
    g = body["data"]["group"]
    assert g["teachers"] == [{"key": "tess"}]
    assert g["learners"]["nodes"] == [{"key": "ada"}, {"key": "bo"}]
    assert g["masteryMatrix"]["skills"] == [{"key": "add"}, {"key": "count"}]
    assert g["masteryMatrix"]["rows"] == [
        {"learner": {"key": "ada"}, "probabilities": [0.7, 0.95]},
        {"learner": {"key": "bo"}, "probabilities": [None, 0.4]},
    ]
    assert g["picked"]["rows"] == [{"probabilities": [0.95]}, {"probabilities": [0.4]}]


async def test_viewer(api: Api) -> None:
    assert (await api.gql("{ viewer { subject } }"))["data"]["viewer"] is None
    body = await api.gql(
        "{ viewer { subject role user { displayName } learner { key } groups { key } } }",
        role="learner",
    )
    assert body["data"]["viewer"] == {
        "subject": "ada",
        "role": "LEARNER",
        "user": {"displayName": "Ada"},
        "learner": {"key": "ada"},
        "groups": [{"key": "g1"}],
    }
    teacher = await api.gql("{ viewer { learner { key } groups { key } } }", role="teacher")
    assert teacher["data"]["viewer"] == {"learner": None, "groups": [{"key": "g1"}]}


async def test_empty_pages(api: Api) -> None:
    body = await api.gql(
        '{ skills(first: 0) { nodes { key } pageInfo { hasNextPage } } '
        'learner(id: "ada") { attempts(first: 0) { nodes { attemptId } } } '
        "curriculumChanges(first: 0) { seq } }",
        role="admin",
    )
    assert "errors" not in body, body
    assert body["data"]["skills"] == {"nodes": [], "pageInfo": {"hasNextPage": True}}
    assert body["data"]["learner"]["attempts"]["nodes"] == []
    assert body["data"]["curriculumChanges"] == []


async def test_forged_attempt_cursor_is_a_clear_error(api: Api) -> None:
    from api.types.node import encode_cursor

    forged = encode_cursor('["garbage", 0]')
    body = await api.gql(
        'query($a: String) { learner(id: "ada") { attempts(after: $a) { nodes { score } } } }',
        {"a": forged},
        role="learner",
    )
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "garbage" in error["message"]
