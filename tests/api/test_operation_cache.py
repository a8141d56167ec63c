"""The operation cache: each query text is parsed and validated once per schema, while the
checks that depend on the request (operationName, variables) still run on every request."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, ValidationRule

from api.limits import Limits
from api.operation_cache import OperationCache, validation_rules
from api.schema import build_schema

TYPE_QUERY = "query($n: String!) { __type(name: $n) { name } }"
TWO_OPERATIONS = "query A { __typename } query B { __typename }"


def codes(result: Any) -> list[str | None]:
    return [(e.extensions or {}).get("code") for e in result.errors or ()]


async def test_a_text_is_parsed_and_validated_once() -> None:
    schema = build_schema()
    info = schema.operations.prepared.cache_info
    first = await schema.execute(TYPE_QUERY, variable_values={"n": "Skill"})
    second = await schema.execute(TYPE_QUERY, variable_values={"n": "Item"})
    assert first.errors is None and second.errors is None
    assert first.data == {"__type": {"name": "Skill"}}
    assert second.data == {"__type": {"name": "Item"}}
    assert (info().misses, info().hits) == (1, 1)


async def test_validation_errors_come_back_from_the_cache_alike() -> None:
    schema = build_schema()
    bad = "{ noSuchField }"
    results = [await schema.execute(bad) for _ in range(3)]
    messages = [[e.message for e in r.errors or ()] for r in results]
    assert messages[0] and "noSuchField" in messages[0][0]
    assert messages == [messages[0]] * 3
    assert all(r.data is None for r in results)
    assert schema.operations.prepared.cache_info().hits == 2


async def test_limits_hold_on_a_cached_text() -> None:
    schema = build_schema(Limits(max_aliases=1))
    aliased = "{ a: __typename b: __typename }"
    for _ in range(2):
        result = await schema.execute(aliased)
        assert codes(result) == ["LIMIT_EXCEEDED"]
    assert schema.operations.prepared.cache_info().hits == 1


async def test_a_syntax_error_is_not_cached_and_refused_each_time() -> None:
    schema = build_schema(Limits(max_tokens=5))
    for query in ("{ __typename", "{ a: __typename b: __typename c: __typename }"):
        for _ in range(2):
            result = await schema.execute(query)
            assert result.data is None
            assert result.errors and "Syntax Error" in result.errors[0].message
    assert schema.operations.prepared.cache_info().currsize == 0


async def test_operation_choice_is_checked_per_request() -> None:
    schema = build_schema()
    unnamed = await schema.execute(TWO_OPERATIONS)
    assert codes(unnamed) == ["BAD_REQUEST"]
    named = await schema.execute(TWO_OPERATIONS, operation_name="B")
    assert named.errors is None and named.data == {"__typename": "Query"}
    again = await schema.execute(TWO_OPERATIONS)
    assert codes(again) == ["BAD_REQUEST"]
    assert schema.operations.prepared.cache_info().hits == 2


@pytest.mark.parametrize("bad", ["Sk\x00ill", "\ud800"])
async def test_variables_are_checked_per_request(bad: str) -> None:
    schema = build_schema()
    clean = await schema.execute(TYPE_QUERY, variable_values={"n": "Skill"})
    refused = await schema.execute(TYPE_QUERY, variable_values={"n": bad})
    clean_again = await schema.execute(TYPE_QUERY, variable_values={"n": "Skill"})
    assert clean.errors is None and clean_again.errors is None
    assert codes(refused) == ["BAD_USER_INPUT"] and refused.data is None
    assert "$n" in (refused.errors or [GraphQLError("")])[0].message


async def test_each_schema_keeps_its_own_rules() -> None:
    query = "{ __schema { queryType { name } } }"
    closed = build_schema(introspection=False)
    open_ = build_schema()
    for _ in range(2):
        refused = await closed.execute(query)
        answered = await open_.execute(query)
        assert refused.errors and "introspection" in refused.errors[0].message.lower()
        assert answered.errors is None
        assert answered.data == {"__schema": {"queryType": {"name": "Query"}}}


def test_the_cache_is_bounded_and_needs_its_schema() -> None:
    rules: tuple[type[ValidationRule], ...] = validation_rules((), introspection=True)
    cache = OperationCache(rules, max_tokens=100, maxsize=2)
    with pytest.raises(RuntimeError, match="bind"):
        cache.prepared("{ __typename }")
    cache.bind(build_schema()._schema)
    for query in ("{ __typename }", "{ a: __typename }", "{ b: __typename }"):
        document, errors = cache.prepared(query)
        assert errors == [] and document.definitions
    assert cache.prepared.cache_info().currsize == 2
