"""Subscriptions over graphql-transport-ws against a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from tests.api.conftest import Api, token_for
from tests.patience import PATIENCE_S, eventually

PROTOCOL = "graphql-transport-ws"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(api: Api) -> AsyncIterator[str]:
    """Serve ``api``'s services with uvicorn; yields the base URL."""
    from api.app import ApiSettings
    from tests.api.conftest import AUTH

    app = create_app(ApiSettings(auth=AUTH, limits=api.services.limits), services=api.services)
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


async def open_session(base: str, role: str) -> ClientConnection:
    ws = await connect(f"ws://{base}/graphql", subprotocols=[PROTOCOL])  # type: ignore[list-item]
    token = token_for(role)
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


async def test_curriculum_changed_is_public(api: Api, server: str) -> None:
    ws = await open_session(server, "anonymous")
    try:
        await ws.send(
            json.dumps(
                {
                    "id": "c",
                    "type": "subscribe",
                    "payload": {"query": "subscription { curriculumChanged { entityId actor } }"},
                }
            )
        )
        await wait_for_subscriber(api, "curriculum")
        body = await api.gql(
            'mutation { createSkill(input: {id: "div", name: "Dividing"}) { __typename } }',
            role="designer",
        )
        assert body["data"]["createSkill"]["__typename"] == "SkillPayload"
        message = await receive(ws)
        change = message["payload"]["data"]["curriculumChanged"]
        assert change["entityId"] == "div"
        assert change["actor"] is None, "who edited is for designers and admins only"
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
