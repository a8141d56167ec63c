"""The web app: static files under ``/app/`` (``api/static/app``), ``/app/config.json`` (what
the sign-in form may offer) and, on a development server only, ``POST /app/dev-token``, which
signs a token for any user and role.

The app is a plain client of ``/graphql``: ES modules and CSS, no build step, nothing
private. Sign-in is a bearer token: pasted (any server), or minted by the dev-token endpoint.
That endpoint exists only when the server verifies tokens with the public development secret
(``api.auth.DEV_SECRET``), whose tokens anyone can sign anyway (``learngraph token``); it is
never mounted under ``serve --production``, which refuses that secret.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.auth import AuthConfig, issue_token
from api.errors import ApiError
from graph.models import Role

APP_DIR = Path(__file__).parent / "static" / "app"
APP_PATH = "/app"
DEV_TOKEN_PATH = "/app/dev-token"
CONFIG_PATH = "/app/config.json"
DEV_TOKEN_TTL = timedelta(hours=8)


def app_routes(auth: AuthConfig, *, dev_tokens: bool) -> list[BaseRoute]:
    """The app's static files, and the dev-token endpoint when ``dev_tokens`` is asked for
    and ``auth`` uses the development secret (both must hold)."""
    offer = dev_tokens and auth.is_development

    async def config(request: Request) -> Response:
        return JSONResponse({"devTokens": offer, "roles": [r.value for r in Role]})

    routes: list[BaseRoute] = [Route(CONFIG_PATH, config)]
    if offer:
        routes.append(Route(DEV_TOKEN_PATH, _dev_token_endpoint(auth), methods=["POST"]))
    routes.append(Mount(APP_PATH, StaticFiles(directory=APP_DIR, html=True), name="app"))
    return routes


def _dev_token_endpoint(auth: AuthConfig) -> Callable[[Request], Awaitable[Response]]:
    roles = [r.value for r in Role]

    async def dev_token(request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse(
                {"error": 'send JSON: {"sub": "learner-0001", "role": "learner"}'}, 400
            )
        sub = body.get("sub") if isinstance(body, dict) else None
        role = body.get("role") if isinstance(body, dict) else None
        if not isinstance(sub, str) or not sub.strip():
            return JSONResponse({"error": f"sub={sub!r}: give the user or learner id"}, 400)
        if role not in roles:
            return JSONResponse({"error": f"role={role!r}: use one of {', '.join(roles)}"}, 400)
        try:
            token = issue_token(auth, sub.strip(), role, ttl=DEV_TOKEN_TTL)
        except ApiError as exc:
            return JSONResponse({"error": exc.message}, 400)
        return JSONResponse({"token": token, "sub": sub.strip(), "role": role})

    return dev_token
