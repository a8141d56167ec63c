"""Subscriptions over graphql-transport-ws against a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import ApiSettings, create_app
from api.auth import decode_token, issue_token
from api.context import Services
from graph.models import Group, Role
from tests.api.conftest import AUTH, Api, ApiFactory, token_for
from tests.api.deadlines import RequestDeadlines
from tests.patience import PATIENCE_S, eventually

PROTOCOL = "graphql-transport-ws"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(api: Api) -> AsyncIterator[str]:
    """Serve ``api``'s services with uvicorn; yields the base URL."""
    async with serving(api.services) as base:
        yield base


@asynccontextmanager
async def serving(services: Services) -> AsyncIterator[str]:
    """Serve ``services`` with uvicorn on a free loopback port; yields the base URL."""
    app = create_app(ApiSettings(auth=AUTH, limits=services.limits), services=services)
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        lifespan="off",
        log_level="warning",
    )
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    await eventually(lambda: bool(srv.started), "uvicorn starting")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        await task


async def open_session(base: str, role: str, *, token: str | None = None) -> ClientConnection:
    ws = await connect(f"ws://{base}/graphql", subprotocols=[PROTOCOL])  # type: ignore[list-item]
    token = token or token_for(role)
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), PATIENCE_S))
    assert ack["type"] == "connection_ack", ack
    return ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), PATIENCE_S))
        if message["type"] not in ("ping", "pong"):
            return message


async def wait_for_subscriber(api: Api, topic: str) -> None:
    pubsub: Any = api.services.pubsub
    await eventually(lambda: bool(pubsub.subscriber_count(topic)), f"a subscriber to {topic}")


async def test_mastery_changed_reaches_the_learner(api: Api, server: str) -> None:
    ws = await open_session(server, "learner")
    try:
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": 'subscription { masteryChanged(learnerId: "ada") { '
                        "learnerId mastery { probability skill { key } } } }"
                    },
                }
            )
        )
        await wait_for_subscriber(api, "mastery:ada")
        async with httpx.AsyncClient(base_url=f"http://{server}") as client:
            response = await client.post(
                "/graphql",
                json={
                    "query": 'mutation { recordAttempts(input: [{attemptId: "s1", '
                    'learnerId: "ada", itemId: "i-count", score: 1}]) { __typename } }'
                },
                headers={"authorization": f"Bearer {token_for('learner')}"},
            )
        assert response.json()["data"]["recordAttempts"]["__typename"] == "RecordAttemptsPayload"
        message = await receive(ws)
        assert message["type"] == "next" and message["id"] == "1", message
        update = message["payload"]["data"]["masteryChanged"]
        assert [m["skill"]["key"] for m in update["mastery"]] == ["count"]
        assert update["mastery"][0]["probability"] > 0.5
    finally:
        await ws.close()


def subscribe_message(query: str, op_id: str = "1") -> str:
    return json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}})


def errors_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The errors of a ``next`` (errors in the payload) or ``error`` (a list) message."""
    payload = message["payload"]
    found: list[dict[str, Any]] = payload["errors"] if message["type"] == "next" else payload
    return found


CURRICULUM = "subscription { curriculumChanged { entityId actor } }"


@pytest.mark.parametrize("role", ["anonymous", "learner", "teacher"])
async def test_curriculum_changed_needs_a_designer_like_curriculum_changes(
    api: Api, server: str, role: str
) -> None:
    ws = await open_session(server, role)
    try:
        await ws.send(subscribe_message(CURRICULUM, "c"))
        message = await receive(ws)
        (error,) = errors_of(message)
        assert error["extensions"]["code"] == "FORBIDDEN", message
        assert "designer or admin" in error["message"]
        query = await api.gql("{ curriculumChanges { seq } }", role=role)
        assert query["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    finally:
        await ws.close()


async def test_curriculum_changed_reaches_designers(api: Api, server: str) -> None:
    ws = await open_session(server, "designer")
    try:
        await ws.send(subscribe_message(CURRICULUM, "c"))
        await wait_for_subscriber(api, "curriculum")
        body = await api.gql(
            'mutation { createSkill(input: {id: "div", name: "Dividing"}) { __typename } }',
            role="designer",
        )
        assert body["data"]["createSkill"]["__typename"] == "SkillPayload"
        message = await receive(ws)
        change = message["payload"]["data"]["curriculumChanged"]
        assert change == {"entityId": "div", "actor": "dee"}
    finally:
        await ws.close()


async def test_subscribing_to_another_learner_is_forbidden(api: Api, server: str) -> None:
    ws = await open_session(server, "learner")
    try:
        await ws.send(
            json.dumps(
                {
                    "id": "x",
                    "type": "subscribe",
                    "payload": {
                        "query": 'subscription { masteryChanged(learnerId: "cy") { learnerId } }'
                    },
                }
            )
        )
        message = await receive(ws)
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN", message
        assert "'ada' asked for 'cy'" in errors[0]["message"]
    finally:
        await ws.close()


async def test_bad_token_closes_the_connection(server: str) -> None:
    ws = await connect(f"ws://{server}/graphql", subprotocols=[PROTOCOL])  # type: ignore[list-item]
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer nope"}})
    )
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), PATIENCE_S)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


MASTERY_OF_BO = 'subscription { masteryChanged(learnerId: "bo") { mastery { probability } } }'


async def record_for(server: str, learner: str, attempt_id: str) -> None:
    """An admin records an answer of ``learner`` over HTTP (which publishes the update)."""
    async with httpx.AsyncClient(base_url=f"http://{server}") as client:
        response = await client.post(
            "/graphql",
            json={
                "query": f'mutation {{ recordAttempts(input: [{{attemptId: "{attempt_id}", '
                f'learnerId: "{learner}", itemId: "i-count", score: 1}}]) {{ __typename }} }}'
            },
            headers={"authorization": f"Bearer {token_for('admin')}"},
        )
    assert response.json()["data"]["recordAttempts"]["__typename"] == "RecordAttemptsPayload"


async def test_a_teacher_taken_off_the_group_stops_receiving(api: Api, server: str) -> None:
    ws = await open_session(server, "teacher")
    try:
        await ws.send(subscribe_message(MASTERY_OF_BO))
        await wait_for_subscriber(api, "mastery:bo")
        await record_for(server, "bo", "r1")
        first = await receive(ws)
        assert first["type"] == "next" and "errors" not in first["payload"], first
        # bo leaves the class tess teaches
        await api.services.store.upsert_groups(
            [Group("g1", "Class 1", teacher_ids=("tess",), learner_ids=("ada",))]
        )
        await record_for(server, "bo", "r2")
        refused = await receive(ws)
        (error,) = errors_of(refused)
        assert error["extensions"]["code"] == "FORBIDDEN", refused
        assert "teaches no group containing learner 'bo'" in error["message"]
        assert refused["payload"].get("data") is None
        assert (await receive(ws))["type"] == "complete"
    finally:
        await ws.close()


async def test_an_expired_token_gets_no_more_events(api: Api, server: str) -> None:
    ws = await open_session(server, "teacher")
    try:
        await ws.send(subscribe_message(MASTERY_OF_BO))
        await wait_for_subscriber(api, "mastery:bo")
        later = datetime.now(UTC) + timedelta(hours=25)  # past the 24 h token and its leeway
        api.services.clock = lambda: later
        await record_for(server, "bo", "r1")
        refused = await receive(ws)
        (error,) = errors_of(refused)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", refused
        assert "the bearer token expired at" in error["message"]
        assert (await receive(ws))["type"] == "complete"
    finally:
        await ws.close()


async def test_an_idle_subscription_ends_when_its_token_expires(api: Api, server: str) -> None:
    token = issue_token(AUTH, "tess", Role.TEACHER)
    principal = decode_token(AUTH, token)
    assert principal.expires_at is not None
    # the server's clock says the token has half a second left; no event is ever published
    almost = principal.expires_at - timedelta(seconds=0.5)
    api.services.clock = lambda: almost
    ws = await open_session(server, "teacher", token=token)
    try:
        await ws.send(subscribe_message(MASTERY_OF_BO))
        refused = await receive(ws)
        (error,) = errors_of(refused)
        assert error["extensions"]["code"] == "UNAUTHENTICATED", refused
        assert (await receive(ws))["type"] == "complete"
    finally:
        await ws.close()


async def test_a_message_above_the_body_limit_closes_the_connection(api: Api, server: str) -> None:
    api.services.limits = replace(api.services.limits, max_body_bytes=2000)
    ws = await open_session(server, "learner")
    padding = " " * 3000
    await ws.send(subscribe_message("{ __typename }" + padding))
    with pytest.raises(ConnectionClosed) as closed:
        await receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    assert "over the limit of 2000" in closed.value.rcvd.reason


async def test_a_deeply_nested_message_closes_the_connection(server: str) -> None:
    ws = await open_session(server, "learner")
    await ws.send('{"type": "subscribe", "id": "1", "payload": ' + "[" * 5000 + "]" * 5000 + "}")
    with pytest.raises(ConnectionClosed) as closed:
        await receive(ws)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


class SlowSkills:
    """A store whose skill reads outlive the execution's deadline (for the timeout over
    WebSocket): the test makes the deadline pass right there, so nothing races the machine."""

    def __init__(self, inner: Any, deadlines: RequestDeadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def list_skills(self, **kwargs: Any) -> Any:
        await self._deadlines.expire_and_hang()
        return await self._inner.list_skills(**kwargs)

    async def get_skills(self, ids: Any) -> Any:
        await self._deadlines.expire_and_hang()
        return await self._inner.get_skills(ids)


async def test_the_timeout_applies_over_websocket(
    make_api: ApiFactory, deadlines: RequestDeadlines
) -> None:
    slow = await make_api(wrap=lambda inner: SlowSkills(inner, deadlines))
    async with serving(slow.services) as base:
        ws = await open_session(base, "learner")
        try:
            await ws.send(subscribe_message("{ skills { nodes { key } } }", "q"))
            (error,) = errors_of(await receive(ws))
            assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "timeout_s"}
            assert f"longer than {slow.services.limits.timeout_s} s" in error["message"]
            assert (await receive(ws))["type"] == "complete"
            # each event of a subscription is bounded too (its skills are read per event)
            await ws.send(
                subscribe_message(
                    'subscription { masteryChanged(learnerId: "ada") { mastery { skill '
                    "{ key } } } }",
                    "s",
                )
            )
            await wait_for_subscriber(slow, "mastery:ada")
            await record_for(base, "ada", "t1")
            event = await receive(ws)
            assert event["id"] == "s"
            (error,) = errors_of(event)
            assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "timeout_s"}
        finally:
            await ws.close()


async def test_the_query_limits_apply_over_websocket(api: Api, server: str) -> None:
    from tests.api.test_limits import fan_out

    ws = await open_session(server, "learner")
    try:
        await ws.send(subscribe_message(fan_out(20), "f"))
        errors = errors_of(await receive(ws))
        assert {e["extensions"]["limit"] for e in errors} == {"max_fragment_spreads", "max_cost"}
    finally:
        await ws.close()
