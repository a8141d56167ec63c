"""Bad input gets a clear client error, never a masked internal one: nested JSON, unknown or
missing operation names, absurd cursors, NUL and lone surrogates, introspection off, token
lifetimes. Through the real app, on both stores."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from api.http import GRAPHQL_RESPONSE
from api.types.node import encode_cursor
from tests.api.conftest import Api, ApiFactory, token_for

STRICT = {"content-type": "application/json", "accept": GRAPHQL_RESPONSE}


async def send(api: Api, body: str | bytes, role: str = "admin") -> tuple[int, dict[str, Any]]:
    headers = dict(STRICT)
    token = token_for(role)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    response = await api.client.post("/graphql", content=body, headers=headers)
    return response.status_code, response.json()


def no_internal_errors(caplog: pytest.LogCaptureFixture) -> None:
    internal = [r.getMessage() for r in caplog.records if "internal error" in r.getMessage()]
    assert internal == []


@pytest.mark.parametrize(
    "body",
    [
        '{"query": "query($v: JSON) { __typename }", "variables": {"v": %s}}'
        % ("[" * 100_000 + "]" * 100_000),
        "[" * 100_000 + "]" * 100_000,
    ],
    ids=["variables", "body"],
)
async def test_deeply_nested_json_is_a_400(
    api: Api, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, payload = await send(api, body)
    assert status == 400
    assert "nests JSON arrays or objects too deeply" in payload["errors"][0]["message"]
    no_internal_errors(caplog)


async def test_nested_json_in_a_get_parameter_is_a_400(api: Api) -> None:
    response = await api.client.get(
        "/graphql", params={"query": "{ __typename }", "variables": "[" * 5000}
    )
    assert response.status_code == 400
    assert "variables parameter nests JSON" in response.json()["errors"][0]["message"]


async def test_an_unknown_operation_name_is_a_400(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"query": "query A { __typename }", "operationName": "Nope"})
    status, payload = await send(api, body)
    assert status == 400
    assert (
        "operationName 'Nope' names no operation of the document"
        in (payload["errors"][0]["message"])
    )
    no_internal_errors(caplog)


async def test_several_operations_need_an_operation_name(api: Api) -> None:
    query = (
        'query A { skill(id: "add") { key } } mutation B { deleteSkill(id: "add") { __typename } }'
    )
    status, payload = await send(api, json.dumps({"query": query}))
    assert status == 400 and "data" not in payload
    (error,) = payload["errors"]
    assert error["message"] == (
        "the document has 2 operations (A, B); say which one to run with operationName"
    )
    status, payload = await send(api, json.dumps({"query": query, "operationName": "A"}))
    assert (status, payload) == (200, {"data": {"skill": {"key": "add"}}})
    # nothing ran without a name: the skill is still there
    status, payload = await send(api, json.dumps({"query": query, "operationName": "A"}))
    assert payload == {"data": {"skill": {"key": "add"}}}


def _store_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "inner",
    [
        [None, 10**30],
        [None, 1e30],
        [None, -1],
        [_store_cursor([10**30, "a"]), 0],
        [_store_cursor(["+99999-01-01T00:00:00+00:00", "a"]), 0],
        [_store_cursor([1, "\ud800"]), 0],
        [_store_cursor(["2024-01-01T00:00:00+00:00", "\ud800"]), 0],
        "[" * 5000,
    ],
    ids=[
        "skip-1e30-int",
        "skip-1e30-float",
        "skip-negative",
        "sqlite-ts-1e30",
        "year-99999",
        "sqlite-surrogate",
        "neo4j-surrogate",
        "nested",
    ],
)
async def test_absurd_attempt_cursors_are_bad_input(
    api: Api, inner: Any, caplog: pytest.LogCaptureFixture
) -> None:
    text = inner if isinstance(inner, str) else json.dumps(inner)
    cursor = encode_cursor(text)
    query = f'{{ learner(id: "ada") {{ attempts(after: "{cursor}") {{ nodes {{ score }} }} }} }}'
    status, payload = await send(api, json.dumps({"query": query}))
    assert status == 200
    (error,) = payload["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "cursor" in error["message"]
    no_internal_errors(caplog)


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800", "x\udfffy"])
@pytest.mark.parametrize(
    "query",
    [
        'mutation($s: String!) { createSkill(input: {id: "zz", name: $s}) { __typename } }',
        "query($s: ID!) { learner(id: $s) { displayName } }",
        "query($s: String!) { skills(topic: $s) { nodes { key } } }",
        'mutation($s: [String!]!) { createSkill(input: {id: "zz", name: "Z", tags: $s}) '
        "{ __typename } }",
    ],
    ids=["name", "id", "filter", "list"],
)
async def test_nul_and_lone_surrogates_in_variables_are_refused(
    api: Api, query: str, bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    value: Any = [bad] if "[String!]" in query else bad
    body = json.dumps({"query": query, "variables": {"s": value}})  # \ud800 as a JSON escape
    status, payload = await send(api, body)
    assert status == 400 and "data" not in payload, payload
    (error,) = payload["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("$s")
    assert "NUL" in error["message"] or "lone surrogate" in error["message"]
    no_internal_errors(caplog)
    status, payload = await send(api, json.dumps({"query": '{ skill(id: "zz") { key } }'}))
    assert payload == {"data": {"skill": None}}, "nothing was written"


async def test_nul_in_a_string_literal_is_refused(api: Api) -> None:
    query = 'mutation { createSkill(input: {id: "zz", name: "a\\u0000b"}) { __typename } }'
    status, payload = await send(api, json.dumps({"query": query}))
    assert status == 400
    assert "contains NUL (U+0000)" in payload["errors"][0]["message"]


async def test_a_lone_surrogate_echoed_in_an_error_is_escaped(api: Api) -> None:
    body = json.dumps({"query": "{ __typename }", "operationName": "\ud800"})
    status, payload = await send(api, body)
    assert status == 400
    assert "'\\ud800'" in payload["errors"][0]["message"]


async def test_introspection_can_be_turned_off(make_api: ApiFactory) -> None:
    closed = await make_api(introspection=False)
    body = await closed.gql("{ __schema { queryType { name } } }")
    assert "introspection has been disabled" in body["errors"][0]["message"]
    assert "data" not in body
    assert await closed.gql("{ __typename }") == {"data": {"__typename": "Query"}}
    opened = await make_api()
    assert (await opened.gql("{ __schema { queryType { name } } }"))["data"] == {
        "__schema": {"queryType": {"name": "Query"}}
    }


async def test_a_token_living_too_long_gets_a_401(api: Api) -> None:
    from datetime import UTC, datetime, timedelta

    import jwt

    from tests.api.conftest import SECRET

    now = datetime.now(UTC)
    claims = {"sub": "root", "role": "admin", "iat": now, "exp": now + timedelta(days=90)}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    response = await api.client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401
    message = response.json()["errors"][0]["message"]
    assert "lives 2160 h (exp - iat); this server accepts tokens of at most 24 h" in message
