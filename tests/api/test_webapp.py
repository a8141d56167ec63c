"""The web app's routes: static files under /app/, what the sign-in form may offer, and the
development-only token endpoint (never with a real secret, never unless asked for)."""

from __future__ import annotations

import httpx
import jwt
import pytest
from starlette.applications import Starlette

from api.auth import DEV_SECRET, AuthConfig, decode_token
from api.webapp import APP_DIR, app_routes

DEV = AuthConfig("HS256", DEV_SECRET, DEV_SECRET)
REAL = AuthConfig(
    "HS256",
    "a-real-secret-0123456789abcdef-0123456789",
    "a-real-secret-0123456789abcdef-0123456789",
)


def client(auth: AuthConfig, *, dev_tokens: bool) -> httpx.AsyncClient:
    app = Starlette(routes=app_routes(auth, dev_tokens=dev_tokens))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_the_shell_and_its_modules_are_served() -> None:
    async with client(REAL, dev_tokens=False) as c:
        index = await c.get("/app/")
        assert index.status_code == 200
        assert '<script type="module" src="js/shell.js">' in index.text
        for path in ("js/shell.js", "js/graphql.js", "js/pages.js", "pages/learner.js", "app.css"):
            r = await c.get(f"/app/{path}")
            assert r.status_code == 200, path
            assert r.text == (APP_DIR / path).read_text()
        assert (await c.get("/app/js/missing.js")).status_code == 404


async def test_a_development_server_signs_tokens_for_any_role() -> None:
    async with client(DEV, dev_tokens=True) as c:
        assert (await c.get("/app/config.json")).json()["devTokens"] is True
        r = await c.post("/app/dev-token", json={"sub": "teacher-01", "role": "teacher"})
        assert r.status_code == 200
        principal = decode_token(DEV, r.json()["token"])
        assert (principal.sub, principal.role.value) == ("teacher-01", "teacher")
        claims = jwt.decode(r.json()["token"], DEV_SECRET, algorithms=["HS256"])
        assert claims["exp"] - claims["iat"] <= DEV.max_lifetime_s


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sub": "ada", "role": "owner"}, "role='owner': use one of learner, teacher"),
        ({"sub": " ", "role": "learner"}, "sub=' ': give the user or learner id"),
        ({"role": "learner"}, "sub=None"),
        ([1, 2], "sub=None"),
    ],
)
async def test_a_bad_dev_token_request_names_the_bad_value(body: object, message: str) -> None:
    async with client(DEV, dev_tokens=True) as c:
        r = await c.post("/app/dev-token", json=body)
        assert r.status_code == 400
        assert message in r.json()["error"]
        r = await c.post("/app/dev-token", content=b"{not json")
        assert r.status_code == 400 and "send JSON" in r.json()["error"]


@pytest.mark.parametrize(
    ("auth", "dev_tokens"),
    [(REAL, True), (DEV, False), (REAL, False)],
    ids=["real-secret", "not-asked-for", "neither"],
)
async def test_no_dev_tokens_without_the_dev_secret_and_the_switch(
    auth: AuthConfig, dev_tokens: bool
) -> None:
    async with client(auth, dev_tokens=dev_tokens) as c:
        assert (await c.get("/app/config.json")).json()["devTokens"] is False
        r = await c.post("/app/dev-token", json={"sub": "admin-01", "role": "admin"})
        assert r.status_code in (404, 405)
        assert "token" not in r.text
