"""``learngraph serve`` and ``learngraph token``.

``learngraph serve --workers N`` runs N server processes on one port: uvicorn's supervisor
binds the socket, starts N worker processes that accept on it (the kernel spreads the
connections), restarts a worker that dies, and stops them all on SIGINT/SIGTERM. Each worker
imports :func:`worker_app`, which rebuilds the settings from the same environment (the parent
puts the store URL and ``--production`` there) and runs the app's lifespan for itself: its own
store connections, Redis connection and serving model. What the workers share lives outside
them: tracer states written by compare-and-set in the store, the curriculum caches checked
against the store's change log, subscription events through Redis (``LEARNGRAPH_REDIS_URL``,
required for N > 1), and one key signing diagnostic states (``LEARNGRAPH_STATE_SECRET``, or
one drawn by the parent for its workers).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from graph.models import Role
from graph.open import add_db_argument, resolve_db_url


def register(sub: Any) -> None:
    """Add ``serve`` and ``token`` to the learngraph parser."""
    serve = sub.add_parser(
        "serve",
        help="serve the GraphQL API (GraphiQL at http://HOST:PORT/graphql)",
        description="Serve the GraphQL API over HTTP and WebSocket. Tokens are verified with "
        "LEARNGRAPH_JWT_SECRET (HS256) or LEARNGRAPH_JWT_PUBLIC_KEY (RS256); without either, "
        "the development secret shared with `learngraph token` is used (refused under "
        "--production). Limits come from LEARNGRAPH_LIMIT_<NAME> variables.",
    )
    add_db_argument(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--production",
        action="store_true",
        help="refuse the development secret, turn GraphiQL off and, unless "
        "LEARNGRAPH_INTROSPECTION=1, introspection",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (default 1); more than one needs "
        "LEARNGRAPH_REDIS_URL, through which subscription events reach every process",
    )
    serve.set_defaults(func=_serve)

    token = sub.add_parser(
        "token",
        help="print a signed bearer token for trying the API",
        description="Sign a token with LEARNGRAPH_JWT_SECRET (or LEARNGRAPH_JWT_PRIVATE_KEY for "
        "RS256); without either, the development secret that `learngraph serve` also uses.",
    )
    token.add_argument("--sub", required=True, help="the user or learner id")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--hours", type=float, default=24.0, help="lifetime (default 24)")
    token.set_defaults(func=_token)


def _token(args: argparse.Namespace) -> int:
    from api.auth import AuthConfig, issue_token
    from api.errors import ApiError

    try:
        config = AuthConfig.from_env()
        token = issue_token(config, args.sub, args.role, ttl=timedelta(hours=args.hours))
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if config.is_development:
        print(
            "note: signed with the development secret (no LEARNGRAPH_JWT_SECRET set); "
            "`learngraph serve` accepts it, `learngraph serve --production` does not",
            file=sys.stderr,
        )
    print(token)
    return 0


#: set by ``serve --workers N`` for its worker processes (read by :func:`worker_app`)
WORKER_DB_ENV = "LEARNGRAPH_SERVE_DB"
WORKER_PRODUCTION_ENV = "LEARNGRAPH_SERVE_PRODUCTION"


def _settings(production: bool, environ: Mapping[str, str]) -> Any:
    """The app's settings from the environment (raises ``ApiError`` naming a bad value)."""
    from api.app import ApiSettings, introspection_from_env
    from api.auth import AuthConfig, state_key_from_env
    from api.cors import origins_from_env
    from api.limits import Limits
    from api.redis_pubsub import redis_url_from_env

    auth = AuthConfig.from_env(production=production)
    introspection = introspection_from_env(environ, production=production)
    return ApiSettings(
        auth=auth,
        limits=Limits.from_env(environ),
        # GraphiQL reads the schema by introspection
        graphiql=not production and introspection,
        introspection=introspection,
        state_key=state_key_from_env(auth, environ),
        redis_url=redis_url_from_env(environ),
        cors_origins=origins_from_env(environ),
        dev_tokens=not production,  # only ever with the development secret
    )


def worker_app() -> Any:
    """The app of one ``serve --workers N`` worker process (a uvicorn factory)."""
    from api.app import create_app

    production = os.environ.get(WORKER_PRODUCTION_ENV) == "1"
    return create_app(_settings(production, os.environ), db_url=os.environ[WORKER_DB_ENV])


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.auth import STATE_SECRET_ENV
    from api.errors import ApiError
    from api.redis_pubsub import REDIS_URL_ENV

    db_url = resolve_db_url(args.db)
    if args.workers < 1:
        print(f"error: --workers {args.workers}: give 1 or more processes", file=sys.stderr)
        return 2
    try:
        settings = _settings(args.production, os.environ)
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if args.workers > 1 and settings.redis_url is None:
        print(
            f"error: --workers {args.workers} needs {REDIS_URL_ENV} (redis://HOST:6379/0): "
            "subscription events must reach subscribers connected to any worker; start a "
            "Redis server (Debian: apt-get install redis-server) and set it",
            file=sys.stderr,
        )
        return 2
    try:
        asyncio.run(_check_services(db_url, settings.redis_url))
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if settings.auth.is_development:
        print(
            "warning: using the development token secret; set LEARNGRAPH_JWT_SECRET for "
            "anything but local trials",
            file=sys.stderr,
        )
    if settings.state_key is None and args.workers > 1:
        # one key for this server's workers (a restart still draws a new one)
        os.environ[STATE_SECRET_ENV] = secrets.token_hex(32)
    if settings.state_key is None and not settings.auth.is_development:
        print(
            "warning: diagnostic tests are signed with a key of this server only; set "
            f"{STATE_SECRET_ENV} so other servers and restarts accept them",
            file=sys.stderr,
        )
    where = f"http://{args.host}:{args.port}"
    workers = f" ({args.workers} worker processes)" if args.workers > 1 else ""
    print(
        f"learngraph: serving {db_url} at {where}/graphql, the web app at {where}/app/{workers}",
        file=sys.stderr,
        flush=True,
    )
    common: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "ws": "websockets-sansio",
        "ws_max_size": settings.limits.max_body_bytes,  # the app checks it too (api.app)
    }
    if args.workers == 1:
        uvicorn.run(create_app(settings, db_url=db_url), **common)
        return 0
    os.environ[WORKER_DB_ENV] = db_url
    os.environ[WORKER_PRODUCTION_ENV] = "1" if args.production else "0"
    uvicorn.run(f"{__name__}:worker_app", factory=True, workers=args.workers, **common)
    return 0


async def _check_services(db_url: str, redis_url: str | None) -> None:
    """Refuse to start on an unreachable or unmigrated store, or an unreachable Redis,
    before binding the port."""
    await _check_store(db_url)
    if redis_url is not None:
        from api.redis_pubsub import RedisPubSub

        pubsub = RedisPubSub(redis_url)
        await pubsub.start()
        await pubsub.close()


async def _check_store(db_url: str) -> None:
    """Refuse to start on an unreachable or unmigrated store, or one whose serving model is a
    neural tracer when torch is not installed (``NeuralExtraMissingError``), before binding
    the port."""
    from graph.open import open_store
    from migrations.runner import ensure_migrated
    from tracing.registry import Registry
    from tracing.serving import DEFAULT_VERSION

    store = await open_store(db_url)
    try:
        await ensure_migrated(store, db_url)
        active = await store.serving_model()
    finally:
        await store.close()
    if active is not None and active != DEFAULT_VERSION:
        await asyncio.to_thread(Registry.from_env().check_loadable, active)
