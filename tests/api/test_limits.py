"""Every limit is configurable and enforced: depth, aliases, tokens, first, cost, body, time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import parse

from api.errors import ConfigError
from api.limits import Limits, operation_cost
from api.schema import build_schema
from tests.api.conftest import ApiFactory

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
    deep = "{ skill(id: \"mul\") { prerequisites { prerequisites { prerequisites { name } } } } }"
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
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def list_skills(self, **kwargs: Any) -> Any:
        await asyncio.sleep(2)
        return await self._inner.list_skills(**kwargs)


async def test_timeout(make_api: ApiFactory) -> None:
    api = await make_api(Limits(timeout_s=0.2), wrap=SlowStore)
    response = await api.post("{ skills { nodes { key } } }")
    assert response.status_code == 504
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "timeout_s"}
    assert "0.2 s" in error["message"]
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
