"""CORS: ``LEARNGRAPH_CORS_ORIGINS`` lets listed browser origins call ``/graphql``; unset, the
API sends no CORS headers (a browser then lets only same-origin pages read its answers)."""

from __future__ import annotations

import pytest

from api.cors import CORS_ENV, origins_from_env, parse_origins
from api.errors import ConfigError
from tests.api.conftest import ApiFactory

APP = "https://app.example.org"
PREFLIGHT = {
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}
Q = {"query": "{ skills(first: 1) { nodes { key } } }"}


async def test_preflight_from_an_allowed_origin_gets_the_headers(make_api: ApiFactory) -> None:
    api = await make_api(cors_origins=(APP, "http://localhost:5173"))
    answer = await api.client.options("/graphql", headers={"origin": APP, **PREFLIGHT})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "access-control-allow-credentials" not in answer.headers


async def test_preflight_from_another_origin_gets_no_allow_origin(make_api: ApiFactory) -> None:
    api = await make_api(cors_origins=(APP,))
    answer = await api.client.options(
        "/graphql", headers={"origin": "https://evil.example.com", **PREFLIGHT}
    )
    assert answer.status_code == 400
    assert "access-control-allow-origin" not in answer.headers


async def test_requests_from_an_allowed_origin_are_answered_with_the_header(
    make_api: ApiFactory,
) -> None:
    api = await make_api(cors_origins=(APP,))
    ok = await api.client.post("/graphql", json=Q, headers={"origin": APP})
    assert ok.status_code == 200
    assert ok.json() == {"data": {"skills": {"nodes": [{"key": "add"}]}}}
    assert ok.headers["access-control-allow-origin"] == APP
    other = await api.client.post("/graphql", json=Q, headers={"origin": "https://x.example"})
    assert "access-control-allow-origin" not in other.headers


async def test_unset_means_no_cors_headers(make_api: ApiFactory) -> None:
    api = await make_api()
    preflight = await api.client.options("/graphql", headers={"origin": APP, **PREFLIGHT})
    assert preflight.status_code == 405
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    answer = await api.client.post("/graphql", json=Q, headers={"origin": APP})
    assert answer.status_code == 200
    assert not any(h.startswith("access-control-") for h in answer.headers)


async def test_a_star_allows_any_origin(make_api: ApiFactory) -> None:
    api = await make_api(cors_origins=("*",))
    answer = await api.client.options(
        "/graphql", headers={"origin": "https://anywhere.example", **PREFLIGHT}
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"


def test_the_setting_is_a_comma_separated_list() -> None:
    assert origins_from_env({}) == ()
    assert origins_from_env({CORS_ENV: " "}) == ()
    assert origins_from_env({CORS_ENV: f"{APP}, HTTP://LocalHost:5173,,{APP}"}) == (
        APP, "http://localhost:5173")
    assert parse_origins("*") == ("*",)


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ("app.example.org", "'app.example.org'"),
        ("https://app.example.org/", "'https://app.example.org/'"),
        ("https://app.example.org/page", "'https://app.example.org/page'"),
        ("ftp://files.example.org", "'ftp://files.example.org'"),
        ("https://a.example, http://b.example:99999", "'http://b.example:99999'"),
        ("*, https://a.example", "'*'"),
    ],
)
def test_a_bad_origin_is_named(raw: str, named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        origins_from_env({CORS_ENV: raw})
    assert named in caught.value.message
    assert CORS_ENV in caught.value.message
