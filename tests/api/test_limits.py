"""Every limit is configurable and enforced: depth, aliases, tokens, first, cost, body, time."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse
from hypothesis import given
from hypothesis import strategies as st

from api.errors import ConfigError
from api.limits import Limits, operation_cost
from api.query_shape import ListSizes, Shape, ShapeMeter
from api.schema import build_schema
from tests.api.conftest import ApiFactory
from tests.api.deadlines import RequestDeadlines

BENCH_QUERY = "{ skills(first: 50) { edges { node { name prerequisites { name } } } } }"


def cost(query: str, limits: Limits | None = None) -> int:
    limits = limits or Limits()
    schema = build_schema(limits)._schema
    document = parse(query)
    fragments = {d.name.value: d for d in document.definitions if hasattr(d, "type_condition")}
    return operation_cost(document.definitions[0], schema, fragments.get, limits)  # type: ignore[arg-type]


def test_cost_multiplies_nested_sizes() -> None:
    # skills 1, edges 50, node 50, name 50, prerequisites 50, their names 50 x list_size 10
    assert cost(BENCH_QUERY) == 1 + 50 + 50 + 50 + 50 + 500
    assert cost(BENCH_QUERY, Limits(list_size=3)) == 1 + 50 * 4 + 150
    assert cost("{ skills { nodes { key } } }") == 1 + 20 + 20  # default_first 20
    # a variable `first` is assumed to be the cap
    assert cost("query($n: Int) { skills(first: $n) { nodes { key } } }") == 1 + 100 + 100
    with_fragment = "{ skills(first: 10) { nodes { ...F } } } fragment F on Skill { key name }"
    assert cost(with_fragment) == 1 + 10 + 20
    assert cost("{ __schema { types { name fields { name } } } }") == 1


async def test_cost_budget_refuses_expensive_queries(make_api: ApiFactory) -> None:
    api = await make_api(Limits(max_cost=700))
    body = await api.gql(BENCH_QUERY)
    (error,) = body["errors"]
    assert "query cost 701 is above the budget of 700" in error["message"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "max_cost", "cost": 701}
    assert "data" not in body
    ok = await (await make_api(Limits(max_cost=701))).gql(BENCH_QUERY)
    assert "errors" not in ok


async def test_depth_limit(make_api: ApiFactory) -> None:
    deep = '{ skill(id: "mul") { prerequisites { prerequisites { prerequisites { name } } } } }'
    refused = await (await make_api(Limits(max_depth=3))).gql(deep)
    assert "exceeds maximum operation depth of 3" in refused["errors"][0]["message"]
    allowed = await (await make_api(Limits(max_depth=4))).gql(deep)
    assert "errors" not in allowed


async def test_alias_limit(make_api: ApiFactory) -> None:
    query = '{ a: skill(id: "add") { key } b: skill(id: "sub") { key } c: skill(id: "x") { key } }'
    refused = await (await make_api(Limits(max_aliases=2))).gql(query)
    assert "3 aliases found. Allowed: 2" in refused["errors"][0]["message"]
    assert "errors" not in await (await make_api(Limits(max_aliases=3))).gql(query)


async def test_token_limit(make_api: ApiFactory) -> None:
    query = "{ skills { nodes { key name topic area } } }"
    refused = await (await make_api(Limits(max_tokens=10))).gql(query)
    assert "more than 10 tokens" in refused["errors"][0]["message"]
    assert "errors" not in await (await make_api(Limits(max_tokens=20))).gql(query)


@pytest.mark.parametrize(("first", "code"), [(101, "LIMIT_EXCEEDED"), (-1, "BAD_USER_INPUT")])
async def test_first_cap(make_api: ApiFactory, first: int, code: str) -> None:
    api = await make_api()
    body = await api.gql(f"{{ skills(first: {first}) {{ nodes {{ key }} }} }}")
    assert body["errors"][0]["extensions"]["code"] == code
    assert str(first) in body["errors"][0]["message"]


async def test_first_cap_is_configurable(make_api: ApiFactory) -> None:
    api = await make_api(Limits(max_first=2))
    body = await api.gql("{ skills(first: 3) { nodes { key } } }")
    assert "above the cap of 2" in body["errors"][0]["message"]
    nested = await api.gql(
        '{ learner(id: "ada") { attempts(first: 3) { nodes { score } } } }', role="learner"
    )
    assert "above the cap of 2" in nested["errors"][0]["message"]


async def test_body_size_limit(make_api: ApiFactory) -> None:
    api = await make_api(Limits(max_body_bytes=200))
    small = await api.post("{ skills(first: 1) { nodes { key } } }")
    assert small.status_code == 200
    big = await api.post("{ skills(first: 1) { nodes { key } } }" + " " * 300)
    assert big.status_code == 413
    assert "limit of 200" in big.json()["errors"][0]["message"] or "limit is 200" in big.text


class SlowStore:
    """The real store, except that listing skills outlives the request's deadline (which the
    test makes pass right there, so nothing races the machine's speed)."""

    def __init__(self, inner: Any, deadlines: RequestDeadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def list_skills(self, **kwargs: Any) -> Any:
        await self._deadlines.expire_and_hang()
        return await self._inner.list_skills(**kwargs)


async def test_timeout(make_api: ApiFactory, deadlines: RequestDeadlines) -> None:
    api = await make_api(wrap=lambda inner: SlowStore(inner, deadlines))
    response = await api.post("{ skills { nodes { key } } }")
    assert response.status_code == 504
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "timeout_s"}
    assert f"{api.services.limits.timeout_s} s" in error["message"]
    fast = await api.post('{ skill(id: "add") { key } }')
    assert fast.status_code == 200


def test_limits_from_environment() -> None:
    env = {"LEARNGRAPH_LIMIT_MAX_COST": "99", "LEARNGRAPH_LIMIT_TIMEOUT_S": "2.5"}
    limits = Limits.from_env(env)
    assert limits.max_cost == 99 and limits.timeout_s == 2.5 and limits.max_first == 100
    with pytest.raises(ConfigError, match="LEARNGRAPH_LIMIT_MAX_FIRST"):
        Limits.from_env({"LEARNGRAPH_LIMIT_MAX_FIRST": "lots"})
    with pytest.raises(ConfigError, match="positive"):
        Limits.from_env({"LEARNGRAPH_LIMIT_MAX_DEPTH": "0"})


def fan_out(levels: int) -> str:
    """``query{...F0}`` where each fragment spreads the next twice: 2**levels leaves."""
    parts = ["query{...F0}"]
    parts += [f"fragment F{i} on Query{{...F{i + 1} ...F{i + 1}}}" for i in range(levels)]
    parts.append(f"fragment F{levels} on Query{{__typename}}")
    return " ".join(parts)


def measure(query: str, limits: Limits | None = None) -> tuple[Shape, int]:
    """The shape of the document's first operation, and the selections walked to get it."""
    limits = limits or Limits()
    document = parse(query)
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    sizes = ListSizes(limits.max_first, limits.default_first, limits.list_size)
    meter = ShapeMeter(build_schema(limits)._schema, fragments.get, sizes)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return meter.operation(operation), meter.visits


def test_each_fragment_is_walked_once_however_often_it_is_spread() -> None:
    shape, visits = measure(fan_out(20))
    assert shape.spreads == 2**21 - 1  # 1 + 2 + 4 + ... + 2**20 spreads once expanded
    assert shape.cost == 2**20  # one __typename per leaf
    # one visit per selection written in the document: 1 + 2 per fragment + the leaf
    assert visits == 1 + 2 * 20 + 1


@given(levels=st.integers(0, 12), width=st.integers(1, 3))
def test_memoised_shape_matches_the_expanded_operation(levels: int, width: int) -> None:
    """Counting each fragment once gives the numbers of the operation written out in full."""
    spreads = " ".join("...F{next}" for _ in range(width))
    parts = ["query{...F0}"]
    parts += [
        f"fragment F{i} on Query{{a{i}: __typename " + spreads.format(next=i + 1) + "}"
        for i in range(levels)
    ]
    parts.append(f'fragment F{levels} on Query{{skill(id: "x") {{ key }}}}')
    shape, visits = measure(" ".join(parts))
    copies = [width**i for i in range(levels + 1)]  # how often fragment Fi is expanded
    assert shape.aliases == sum(copies[:-1])
    assert shape.spreads == sum(copies)
    assert shape.cost == sum(copies[:-1]) + 2 * copies[-1]
    assert shape.depth == 1
    assert visits == 1 + levels * (1 + width) + 2  # the last fragment selects skill { key }


async def test_fragment_fan_out_is_refused_with_a_typed_error(make_api: ApiFactory) -> None:
    api = await make_api()
    query = fan_out(20)
    assert len(query.encode()) < 800
    response = await api.post(query)
    assert response.status_code == 200
    body = response.json()
    assert "data" not in body
    limits = {e["extensions"]["limit"]: e for e in body["errors"]}
    assert set(limits) == {"max_fragment_spreads", "max_cost"}
    spreads = limits["max_fragment_spreads"]
    assert spreads["extensions"] == {
        "code": "LIMIT_EXCEEDED",
        "limit": "max_fragment_spreads",
        "spreads": 2**21 - 1,
    }
    assert "spreads fragments 2097151 times" in spreads["message"]
    assert "the limit is 500" in spreads["message"]


async def test_fragment_spread_limit_is_configurable(make_api: ApiFactory) -> None:
    query = fan_out(3)  # 1 + 2 + 4 + 8 = 15 spreads
    refused = await (await make_api(Limits(max_fragment_spreads=14))).gql(query)
    assert refused["errors"][0]["extensions"]["spreads"] == 15
    allowed = await (await make_api(Limits(max_fragment_spreads=15))).gql(query)
    assert allowed == {"data": {"__typename": "Query"}}


async def test_queries_with_fragments_still_work(make_api: ApiFactory) -> None:
    api = await make_api()
    query = """
      query Page { skills(first: 2) { nodes { ...SkillCard prerequisites { ...SkillName } } }
                   skill(id: "mul") { ...SkillCard ... on Skill { prerequisites { key } } } }
      fragment SkillName on Skill { name }
      fragment SkillCard on Skill { key ...SkillName }
    """
    body = await api.gql(query)
    assert "errors" not in body, body
    assert body["data"]["skills"]["nodes"] == [
        {"key": "add", "name": "Adding", "prerequisites": [{"name": "Counting"}]},
        {"key": "count", "name": "Counting", "prerequisites": []},
    ]
    assert body["data"]["skill"] == {
        "key": "mul",
        "name": "Multiplying",
        "prerequisites": [{"key": "add"}],
    }


async def test_depth_and_aliases_count_through_fragments(make_api: ApiFactory) -> None:
    deep = (
        '{ skill(id: "mul") { ...P } } fragment P on Skill { prerequisites { ...Q } } '
        "fragment Q on Skill { prerequisites { prerequisites { name } } }"
    )
    refused = await (await make_api(Limits(max_depth=3))).gql(deep)
    assert "exceeds maximum operation depth of 3" in refused["errors"][0]["message"]
    assert refused["errors"][0]["extensions"]["depth"] == 4
    assert "errors" not in await (await make_api(Limits(max_depth=4))).gql(deep)
    aliased = "{ ...A ...A } fragment A on Query { a: __typename b: __typename }"
    refused = await (await make_api(Limits(max_aliases=3))).gql(aliased)
    assert "4 aliases found. Allowed: 3" in refused["errors"][0]["message"]


async def test_an_unknown_or_cyclic_fragment_is_a_validation_error(make_api: ApiFactory) -> None:
    api = await make_api()
    unknown = await api.gql("{ ...Nope }")
    assert unknown["errors"][0]["message"] == "Unknown fragment 'Nope'."
    cyclic = await api.gql("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
    assert "Cannot spread fragment 'A' within itself" in cyclic["errors"][0]["message"]
    assert all(e["extensions"]["code"] != "INTERNAL" for e in cyclic["errors"] if "extensions" in e)
