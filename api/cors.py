"""Cross-origin requests: which browser origins may call the API (``LEARNGRAPH_CORS_ORIGINS``).

Unset or empty: no CORS headers at all, so a browser lets only pages of the API's own origin
read its answers. Set: a comma-separated list of origins (``https://app.example.org,
http://localhost:5173``), or ``*`` for any origin. Tokens travel in the ``Authorization``
header, never in cookies, so credentials are not allowed cross-origin and ``*`` exposes nothing a
token does not already grant.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from api.errors import ConfigError

CORS_ENV = "LEARNGRAPH_CORS_ORIGINS"
#: what a browser may send cross-origin: GraphQL over HTTP needs no more
ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
ALLOWED_HEADERS = ("authorization", "content-type", "accept")
#: how long a browser may cache a preflight answer
PREFLIGHT_MAX_AGE_S = 600


def parse_origins(raw: str | None, *, name: str = CORS_ENV) -> tuple[str, ...]:
    """The origins of a comma-separated list (empty: none). Each must be ``scheme://host`` with
    an optional port and nothing after it (what a browser sends in ``Origin``), or ``*``."""
    if raw is None:
        return ()
    origins: list[str] = []
    for part in raw.split(","):
        origin = part.strip()
        if not origin:
            continue
        if origin != "*":
            problem = _origin_problem(origin)
            if problem is not None:
                raise ConfigError(
                    f"{name}: {origin!r} is not an origin ({problem}); write it as a browser "
                    "sends it, e.g. https://app.example.org or http://localhost:5173"
                )
            origin = origin.lower()
        if origin not in origins:
            origins.append(origin)
    if "*" in origins and len(origins) > 1:
        raise ConfigError(f"{name}: '*' already allows every origin; list origins or '*' alone")
    return tuple(origins)


def _origin_problem(origin: str) -> str | None:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "the scheme must be http or https"
    if not parts.hostname:
        return "no host"
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return "an origin has no path, query, fragment or user"
    if port is not None and not 0 < port < 65536:
        return f"port {port} is out of range"
    return None


def origins_from_env(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The allowed origins configured by :data:`CORS_ENV` (ConfigError naming a bad one)."""
    return parse_origins(environ.get(CORS_ENV))


def cors_middleware(origins: tuple[str, ...]) -> list[Middleware]:
    """The app's middleware for ``origins``: none when empty (same origin only)."""
    if not origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=list(ALLOWED_METHODS),
            allow_headers=list(ALLOWED_HEADERS),
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE_S,
        )
    ]
