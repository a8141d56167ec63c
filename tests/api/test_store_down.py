"""Honest failures (issue 11 item 5): a store that is down is answered 503 with the reason,
at once during the breaker's cool-down; ``/healthz`` reports readiness, ``/livez`` liveness;
the serving model is loaded at start-up.

"Down" on each store: a SQLite store that is closed, and a Neo4jStore pointed at a closed
port (its driver retries a failed connection for 30 s, which the request's probe cuts short).
The breaker's clock is moved by hand; no test waits for a cool-down.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import ApiSettings, create_app
from api.breaker import StoreBreaker
from api.services import MasteryUpdater
from graph.sqlite_store import SqliteStore
from migrations.runner import migrate
from tests.api.conftest import AUTH, Api, ApiFactory, token_for, with_test_timeout

QUERY = "{ skills { nodes { key } } }"
MUTATION = (
    'mutation { recordAttempts(input: [{attemptId: "t1", learnerId: "ada", itemId: "i-add-1", '
    "score: 1}]) { __typename } }"
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the socket is


async def down_store(kind: str, tmp_path: Path) -> Any:
    if kind == "sqlite":
        store = await SqliteStore.open(str(tmp_path / "down.db"))
        await store.close()
        return store
    from neo4j import AsyncGraphDatabase

    from graph.neo4j_store import Neo4jStore

    # retries shortened so that closing the store (which waits for calls in flight) is quick
    driver = AsyncGraphDatabase.driver(
        f"bolt://127.0.0.1:{closed_port()}", connection_timeout=5.0, max_transaction_retry_time=2.0
    )
    return Neo4jStore(driver)


@pytest.fixture
async def down(
    make_api: ApiFactory, store: Any, tmp_path: Path
) -> AsyncIterator[tuple[Api, Clock, Any]]:
    """The app of ``make_api`` whose store (of each kind) then goes down: its services now
    use a down store, with a breaker on a hand-moved clock that probes a request at once."""
    api = await make_api()
    kind = store.kind
    store = await down_store(kind, tmp_path)
    clock = Clock()
    api.services.store = store
    api.services.mastery = MasteryUpdater(store)
    api.services.breaker = StoreBreaker(
        store.ping, cooldown_s=5.0, suspect_after_s=0.0, clock=clock
    )
    yield api, clock, store
    if kind == "neo4j":
        await store.close()


async def post(api: Api, query: str, role: str = "learner") -> httpx.Response:
    token = token_for(role)
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await api.client.post("/graphql", json={"query": query}, headers=headers)


def unavailable(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "STORE_UNAVAILABLE", error
    assert int(response.headers["retry-after"]) >= 1
    message: str = error["message"]
    assert "unavailable" in message and ("closed" in message or "connect" in message), message
    return message


async def test_a_down_store_is_answered_503_with_the_reason(
    down: tuple[Api, Clock, Any],
) -> None:
    api, clock, _ = down
    first = unavailable(await post(api, QUERY))
    assert "the request was stopped" in first
    probes = api.services.breaker.probes

    # during the cool-down: refused at once, without touching the store
    for query in (QUERY, MUTATION):
        again = unavailable(await post(api, query))
        assert "nothing was run" in again
    assert api.services.breaker.probes == probes

    health = await api.client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    assert health.json()["store"] == api.services.breaker.reason
    live = await api.client.get("/livez")
    assert (live.status_code, live.text) == (200, "ok")

    clock.now += 5.0  # the cool-down is over: the next request probes first, still down
    unavailable(await post(api, QUERY))
    assert api.services.breaker.probes == probes + 1


async def test_a_store_that_comes_back_is_used_again(make_api: ApiFactory, store: Any) -> None:
    api = await make_api()
    clock = Clock()
    api.services.breaker = StoreBreaker(store.ping, cooldown_s=5.0, clock=clock)
    api.services.breaker.trip("connection refused")
    assert "connection refused" in unavailable_any(await post(api, QUERY))
    clock.now += 5.0
    back = await post(api, QUERY)
    assert back.status_code == 200 and back.json()["data"]["skills"]["nodes"]
    assert not api.services.breaker.is_open


def unavailable_any(response: httpx.Response) -> str:
    assert response.status_code == 503, response.text
    message: str = response.json()["errors"][0]["message"]
    return message


async def test_healthz_reports_readiness(make_api: ApiFactory, store: Any) -> None:
    api = await make_api()
    starting = await api.client.get("/healthz")
    assert starting.status_code == 503 and starting.json()["model"] == "loading"
    await api.services.mastery.load()
    ready = await api.client.get("/healthz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok", "store": "ok", "model": "loaded"}


async def test_the_serving_model_is_loaded_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "served.db"
    store = await SqliteStore.open(str(path))
    await migrate(store)
    await store.close()
    app = create_app(ApiSettings(auth=AUTH, limits=with_test_timeout()), db_url=f"sqlite:///{path}")
    async with app.router.lifespan_context(app):
        assert app.state.services.mastery.loaded, "loaded before any request"
        cache = app.state.services.recommender
        assert cache.index is not None, "the curriculum index is built before any request"
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        async with client:
            ready = await client.get("/healthz")
            assert ready.status_code == 200, ready.text
