"""GraphQL over HTTP: methods, media types, status codes, masking, auth failures, GraphiQL."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from api.http import GRAPHQL_RESPONSE, negotiate
from tests.api.conftest import Api, ApiFactory

Q = "{ skills(first: 1) { nodes { key } } }"


def test_negotiate() -> None:
    assert negotiate(None) == "application/json"
    assert negotiate("*/*") == "application/json"
    assert negotiate(GRAPHQL_RESPONSE) == GRAPHQL_RESPONSE
    assert negotiate(f"application/json;q=0.5, {GRAPHQL_RESPONSE}") == GRAPHQL_RESPONSE
    assert negotiate(f"{GRAPHQL_RESPONSE};q=0.1, application/json") == "application/json"
    assert negotiate("text/csv") is None
    assert negotiate("application/json;q=0") is None


async def test_get_runs_queries_but_not_mutations(api: Api) -> None:
    ok = await api.client.get("/graphql", params={"query": Q})
    assert ok.status_code == 200
    assert ok.json() == {"data": {"skills": {"nodes": [{"key": "add"}]}}}
    with_vars = await api.client.get(
        "/graphql",
        params={"query": "query($id: ID!) { skill(id: $id) { key } }",
                "variables": json.dumps({"id": "sub"})},
    )
    assert with_vars.json()["data"]["skill"] == {"key": "sub"}
    mutation = await api.client.get(
        "/graphql", params={"query": 'mutation { deleteSkill(id: "add") { __typename } }'}
    )
    assert mutation.status_code == 405
    assert mutation.headers["allow"] == "POST"
    still_there = await api.gql('{ skill(id: "add") { key } }')
    assert still_there["data"]["skill"] == {"key": "add"}


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b'{"query": "{ __typename }"}', 415),
        ({"content-type": "text/plain"}, b'{"query": "{ __typename }"}', 415),
        ({"content-type": "application/json; charset=latin-1"}, b'{"query": "{ a }"}', 415),
        ({"content-type": "application/json"}, b"", 400),
        ({"content-type": "application/json"}, b'{ "not json', 400),
        ({"content-type": "application/json"}, b'["query"]', 400),
        ({"content-type": "application/json"}, b'{"qeury": "{ __typename }"}', 400),
        ({"content-type": "application/json"}, b'{"query": 1}', 400),
        ({"content-type": "application/json"}, b'{"query": "{ a }", "variables": "x"}', 400),
        ({"content-type": "application/json"}, b'{"query": "{ a }", "operationName": 1}', 400),
        ({"content-type": "application/json"}, b'{"query": "{ a }", "extensions": []}', 400),
        ({"content-type": "application/json", "accept": "text/csv"}, b'{"query": "{ a }"}', 406),
    ],
)
async def test_bad_requests(api: Api, headers: dict[str, str], body: bytes, status: int) -> None:
    response = await api.client.post("/graphql", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{", None),
        ("{ noSuchField }", None),
        ("query($id: ID!) { skill(id: $id) { key } }", {"id": None}),
    ],
    ids=["parse", "validation", "coercion"],
)
async def test_request_errors_by_media_type(
    api: Api, query: str, variables: dict[str, Any] | None
) -> None:
    payload = {"query": query, "variables": variables}
    strict = await api.client.post("/graphql", json=payload, headers={"accept": GRAPHQL_RESPONSE})
    assert strict.status_code == 400
    assert strict.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert "data" not in strict.json() and strict.json()["errors"]
    legacy = await api.client.post("/graphql", json=payload, headers={"accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json; charset=utf-8"
    assert "data" not in legacy.json() and legacy.json()["errors"]


async def test_field_errors_keep_200_and_data(api: Api) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": '{ skill(id: "add") { key } learner(id: "ada") { key } }'},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"skill": {"key": "add"}, "learner": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_subscription_over_http_is_refused(api: Api) -> None:
    response = await api.post("subscription { curriculumChanged { seq } }")
    assert response.status_code == 400
    assert "graphql-transport-ws" in response.json()["errors"][0]["message"]


class BrokenStore:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def list_skills(self, **kwargs: Any) -> Any:
        raise RuntimeError("password=hunter2 leaked from a driver")


async def test_unexpected_errors_are_masked_and_logged(
    make_api: ApiFactory, caplog: pytest.LogCaptureFixture
) -> None:
    api = await make_api(wrap=BrokenStore)
    with caplog.at_level(logging.ERROR, logger="learngraph.api"):
        response = await api.client.post(
            "/graphql", json={"query": Q}, headers={"x-request-id": "req-42"}
        )
    assert response.status_code == 200
    assert "hunter2" not in response.text
    (error,) = response.json()["errors"]
    assert error["message"] == "Internal error (request id req-42)"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": "req-42"}
    assert response.headers["x-request-id"] == "req-42"
    (record,) = caplog.records
    assert "req-42" in record.getMessage()
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])


async def test_bad_tokens_get_401(api: Api) -> None:
    bad = await api.client.post(
        "/graphql", json={"query": Q}, headers={"authorization": "Bearer not.a.token"}
    )
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"
    assert "refused" in bad.json()["errors"][0]["message"]
    basic = await api.client.post(
        "/graphql", json={"query": Q}, headers={"authorization": "Basic dXNlcjpwYXNz"}
    )
    assert basic.status_code == 401
    assert "Bearer <token>" in basic.json()["errors"][0]["message"]


async def test_graphiql_served_locally(api: Api) -> None:
    page = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "https://" not in html and "http://" not in html, "no CDN"
    for asset in ("graphiql.min.js", "graphiql.min.css", "react.production.min.js"):
        assert f"/graphql/static/{asset}" in html
        served = await api.client.get(f"/graphql/static/{asset}")
        assert served.status_code == 200 and len(served.content) > 5000


async def test_graphiql_off_in_production(make_api: ApiFactory) -> None:
    api = await make_api(graphiql=False)
    browser = "text/html,application/xhtml+xml,*/*;q=0.8"
    page = await api.client.get("/graphql", headers={"accept": browser})
    assert page.headers["content-type"].startswith("application/json")
    assert page.status_code == 400 and "no query" in page.json()["errors"][0]["message"]
    assert (await api.client.get("/graphql/static/graphiql.min.js")).status_code == 404
