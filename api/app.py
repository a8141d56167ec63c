"""The starlette application: ``/graphql`` over HTTP and WebSocket, GraphiQL, ``/healthz``
(readiness: the store answers and the serving model is loaded) and ``/livez`` (liveness).

``create_app(settings, db_url=...)`` opens the store in the lifespan (refusing an unmigrated
one) and, with ``settings.redis_url``, the Redis connection that shares subscription events
with the store's other server processes; it loads the serving tracer model, builds the
curriculum index and reads the items' learning gains before the first request (so the first one
is served warm), and closes both on shutdown; ``create_app(settings, services=...)`` serves
already-built services (tests, benchmarks). Each worker process of ``learngraph serve
--workers N`` runs this lifespan for itself (``api.serve_cli``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from api.auth import AuthConfig
from api.context import Context, Services
from api.cors import cors_middleware
from api.errors import ApiError, ConfigError
from api.graphiql import STATIC_DIR, STATIC_PATH, graphiql_html
from api.http import handle_graphql
from api.limits import Limits
from api.pubsub import InProcessPubSub, PubSub
from api.redis_pubsub import RedisPubSub
from api.schema import build_schema
from api.services import ChangeFeed
from api.webapp import APP_PATH, app_routes
from api.ws_limits import decode_message, limit_message_size
from graph.store import GraphStore
from recommender.engine import Engine

log = logging.getLogger("learngraph.api")

HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
INTROSPECTION_ENV = "LEARNGRAPH_INTROSPECTION"


@dataclass(frozen=True, slots=True)
class ApiSettings:
    auth: AuthConfig
    limits: Limits = field(default_factory=Limits)
    graphiql: bool = True
    #: answer ``__schema`` / ``__type`` (GraphiQL needs it); ``learngraph serve`` turns it
    #: off under ``--production`` unless ``LEARNGRAPH_INTROSPECTION`` says otherwise
    introspection: bool = True
    #: signs diagnostic states given to clients; None: a random key per process
    #: (``api.auth.state_key_from_env`` derives a shared one from the configuration)
    state_key: bytes | None = None
    #: browser origins allowed to call the API cross-origin (``api.cors``); empty: none
    cors_origins: tuple[str, ...] = ()
    #: mount ``/app/dev-token`` (signs any user's token) when the development secret is in
    #: use; ``learngraph serve`` asks for it except under ``--production`` (see api.webapp)
    dev_tokens: bool = False
    #: subscription events go through this Redis server to every process of the store
    #: (``LEARNGRAPH_REDIS_URL``; ``api.redis_pubsub``); None: within this process only
    redis_url: str | None = None


def introspection_from_env(environ: Mapping[str, str], *, production: bool) -> bool:
    """``LEARNGRAPH_INTROSPECTION`` (1/true/yes/on or 0/false/no/off); unset: on, except
    under ``--production``."""
    raw = environ.get(INTROSPECTION_ENV)
    if raw is None or not raw.strip():
        return not production
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{INTROSPECTION_ENV}={raw!r} is not a switch; use 1/true/on or 0/false/off")


async def build_services(
    store: GraphStore, settings: ApiSettings, *, pubsub: PubSub | None = None
) -> Services:
    changes_pubsub = pubsub or InProcessPubSub()
    changes = ChangeFeed(store, changes_pubsub)
    await changes.start()
    # the composition root: one engine owns the index, the gains and the serving tracer
    engine = Engine(store)
    services = Services(
        store=store,
        auth=settings.auth,
        limits=settings.limits,
        pubsub=changes_pubsub,
        mastery=engine.mastery,
        changes=changes,
        schema=build_schema(settings.limits, introspection=settings.introspection),
        recommender=engine.index,
        gains=engine.gains,
        engine=engine,
    )
    if settings.state_key is not None:
        services.diagnostic_key = settings.state_key
    return services


class SubscriptionEndpoint(GraphQL):
    """graphql-transport-ws at ``/graphql``. The token comes in the ``connection_init``
    payload (``{"authorization": "Bearer ..."}``) or the handshake's Authorization header.
    The HTTP limits apply here too (:mod:`api.ws_limits`); subscriptions end with the token
    or the caller's access (:mod:`api.subscription_guard`)."""

    def __init__(self, services: Services) -> None:
        super().__init__(
            services.schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            keep_alive=True,
            keep_alive_interval=15,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.services = services

    def decode_json(self, data: str | bytes) -> object:
        return decode_message(data)

    async def get_context(  # type: ignore[override]
        self, request: Any, response: Any = None
    ) -> Context:
        return Context(services=self.services, principal=None, request_id=uuid.uuid4().hex[:16])

    async def on_ws_connect(self, context: Context) -> Any:  # type: ignore[override]
        params = context.connection_params or {}
        header = params.get("authorization") or params.get("Authorization")
        if header is None and isinstance(params.get("token"), str):
            header = f"Bearer {params['token']}"
        if not isinstance(header, str):
            header = None
        try:
            context.principal = self.services.tokens.principal(header)
        except ApiError as exc:
            raise ConnectionRejectionError({"message": exc.message}) from None
        return UNSET


def _routes(services_of: Any, settings: ApiSettings) -> list[BaseRoute]:
    async def graphql_http(request: Request) -> Response:
        services: Services = services_of(request.app)
        if (
            settings.graphiql
            and request.method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            return HTMLResponse(graphiql_html())
        return await handle_graphql(request, services)

    async def healthz(request: Request) -> Response:
        """Readiness: 200 when the store answers a ping and the serving model is loaded,
        else 503 saying which is not (during the breaker's cool-down, without a ping)."""
        services: Services = services_of(request.app)
        reason = await services.breaker.admit()
        if reason is None:
            reason = await services.breaker.probe()
        if reason is not None:
            return JSONResponse(
                {"status": "unavailable", "store": reason},
                503,
                {"retry-after": str(services.breaker.retry_after_s())},
            )
        if not services.mastery.loaded:
            return JSONResponse(
                {"status": "starting", "store": "ok", "model": "loading"}, 503, {"retry-after": "1"}
            )
        return JSONResponse({"status": "ok", "store": "ok", "model": "loaded"})

    async def livez(request: Request) -> Response:
        """Liveness: the process serves requests (says nothing about the store)."""
        return PlainTextResponse("ok")

    async def root(request: Request) -> Response:
        return RedirectResponse(APP_PATH + "/")

    routes: list[BaseRoute] = [
        Route("/graphql", graphql_http, methods=HTTP_METHODS),
        WebSocketRoute("/graphql", _WebSocketApp()),
        Route("/healthz", healthz),
        Route("/livez", livez),
        Route("/", root),
    ]
    if settings.graphiql:
        routes.append(Mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="graphiql"))
    routes.extend(app_routes(settings.auth, dev_tokens=settings.dev_tokens))
    return routes


class _WebSocketApp:
    """A plain ASGI app (not a function) so starlette hands it the raw scope."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        endpoint = _ws_endpoint(scope["app"])
        limit = endpoint.services.limits.max_body_bytes
        await endpoint(scope, limit_message_size(receive, send, limit), send)


def _ws_endpoint(app: Starlette) -> SubscriptionEndpoint:
    endpoint: SubscriptionEndpoint | None = getattr(app.state, "ws_endpoint", None)
    if endpoint is None:
        endpoint = SubscriptionEndpoint(app.state.services)
        app.state.ws_endpoint = endpoint
    return endpoint


async def drain_tasks(timeout_s: float = 5.0) -> None:
    """Let background work finish before the store closes: a DataLoader batch whose request
    ended early (an error nulled its parent) still runs its store query."""
    current = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=timeout_s)


def create_app(
    settings: ApiSettings,
    *,
    services: Services | None = None,
    db_url: str | None = None,
) -> Starlette:
    """The app, serving ``services`` or opening the store at ``db_url`` in its lifespan."""
    if (services is None) == (db_url is None):
        raise ValueError("pass exactly one of services= or db_url=")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if services is not None:
            yield
            return
        from graph.open import open_store
        from migrations.runner import ensure_migrated

        assert db_url is not None
        store = await open_store(db_url)
        pubsub: RedisPubSub | None = None
        try:
            await ensure_migrated(store, db_url)
            if settings.redis_url is not None:
                pubsub = RedisPubSub(settings.redis_url)
                await pubsub.start()
            app.state.services = await build_services(store, settings, pubsub=pubsub)
            built: Services = app.state.services
            assert built.engine is not None
            # before the first request: loading the model lazily made the first answers time
            # out, and the first recommendation would otherwise build the index
            version, index = await built.engine.warm()
            log.info("serving tracer model %s", version)
            built.analytics.spawn(built.analytics.warm())
            log.info("curriculum index built: %d skills, %d items", index.n_skills, index.n_items)
            yield
            await drain_tasks()
        finally:
            if pubsub is not None:
                await pubsub.close()
            await store.close()

    app = Starlette(
        routes=_routes(lambda a: a.state.services, settings),
        middleware=cors_middleware(settings.cors_origins),
        lifespan=lifespan,
    )
    if services is not None:
        app.state.services = services
    return app
