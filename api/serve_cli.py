"""``learngraph serve`` and ``learngraph token``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
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


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import ApiSettings, create_app, introspection_from_env
    from api.auth import AuthConfig, state_key_from_env
    from api.cors import origins_from_env
    from api.errors import ApiError
    from api.limits import Limits

    db_url = resolve_db_url(args.db)
    try:
        auth = AuthConfig.from_env(production=args.production)
        introspection = introspection_from_env(os.environ, production=args.production)
        settings = ApiSettings(
            auth=auth,
            limits=Limits.from_env(os.environ),
            # GraphiQL reads the schema by introspection
            graphiql=not args.production and introspection,
            introspection=introspection,
            state_key=state_key_from_env(auth),
            cors_origins=origins_from_env(os.environ),
            dev_tokens=not args.production,  # only ever with the development secret
        )
    except ApiError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    asyncio.run(_check_store(db_url))
    if settings.auth.is_development:
        print(
            "warning: using the development token secret; set LEARNGRAPH_JWT_SECRET for "
            "anything but local trials",
            file=sys.stderr,
        )
    if settings.state_key is None and not settings.auth.is_development:
        print(
            "warning: diagnostic tests are signed with a key of this process only; set "
            "LEARNGRAPH_STATE_SECRET so other processes and restarts accept them",
            file=sys.stderr,
        )
    where = f"http://{args.host}:{args.port}"
    print(
        f"learngraph: serving {db_url} at {where}/graphql, the web app at {where}/app/",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        create_app(settings, db_url=db_url),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        ws="websockets-sansio",
        ws_max_size=settings.limits.max_body_bytes,  # the app checks it too (api.app)
    )
    return 0


async def _check_store(db_url: str) -> None:
    """Refuse to start on an unreachable or unmigrated store, before binding the port."""
    from graph.open import open_store
    from migrations.runner import ensure_migrated

    store = await open_store(db_url)
    try:
        await ensure_migrated(store, db_url)
    finally:
        await store.close()
