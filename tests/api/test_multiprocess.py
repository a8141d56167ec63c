"""Two real ``learngraph serve`` processes on one store, sharing events through Redis, on
both stores: answers sent to both end in the tracer state of an in-order replay (none lost), a
mastery event published on one reaches a subscriber of the other, and a curriculum edit on one
is seen by the other's caches (recommender index, serving tracer) and subscribers (once).

Needs ``LEARNGRAPH_TEST_REDIS`` (``.ci/test`` starts a Redis server) and, for the Neo4j case,
``LEARNGRAPH_TEST_NEO4J``. The two servers are started once per store for the module.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from api.auth import AuthConfig, issue_token
from benchmarks.serve_process import Server, spawn_server
from graph.models import Attempt, Role
from tests.api.conftest import ITEMS, T0, seed
from tests.conftest import neo4j_url, redis_url
from tests.patience import PATIENCE_S

ROOT = Path(__file__).resolve().parents[2]
SECRET = "multi-process-test-secret-0123456789abcdef"
AUTH = AuthConfig("HS256", SECRET, SECRET)
PROTOCOL = "graphql-transport-ws"
RECORD = (
    "mutation($a: [AttemptInput!]!) { recordAttempts(input: $a) { __typename "
    "... on RecordAttemptsPayload { mastery { skill { key } probability } } "
    "... on Error { message } } }"
)


def token(sub: str, role: Role) -> str:
    return issue_token(AUTH, sub, role, ttl=timedelta(hours=1))


async def open_store(db_url: str) -> Any:
    from graph.open import open_store as open_url

    return await open_url(db_url)


async def prepare(db_url: str, kind: str) -> None:
    """A fresh migrated store with the API suite's curriculum and people."""
    from migrations.runner import migrate

    store = await open_store(db_url)
    try:
        if kind == "neo4j":
            await store.wipe_all_data_for_tests()
        await migrate(store)
        await seed(store)
    finally:
        await store.close()


@dataclass
class Pair:
    a: Server
    b: Server
    db_url: str


@pytest.fixture(scope="module", params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    redis = redis_url()
    kind = request.param
    tmp = tmp_path_factory.mktemp(f"two-servers-{kind}")
    db_url = f"sqlite:///{tmp / 'store.db'}" if kind == "sqlite" else neo4j_url()
    asyncio.run(prepare(db_url, kind))
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "LEARNGRAPH_JWT_SECRET": SECRET,
        "LEARNGRAPH_REDIS_URL": redis,
        "LEARNGRAPH_MODELS": str(tmp / "models"),  # empty: the default BKT serves
        "LEARNGRAPH_LIMIT_TIMEOUT_S": "600",  # the machine's speed is not under test
    }
    a = spawn_server(db_url, env, tmp, name="a")
    b = spawn_server(db_url, env, tmp, name="b")
    try:
        a.wait_ready(3 * PATIENCE_S)
        b.wait_ready(3 * PATIENCE_S)
        yield Pair(a, b, db_url)
    finally:
        a.stop()
        b.stop()
        for s in (a, b):
            sys.stderr.write(f"--- {s.log_path.name}\n{s.tail()}\n")


async def gql(
    client: httpx.AsyncClient, url: str, query: str, variables: dict[str, Any], bearer: str
) -> dict[str, Any]:
    r = await client.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"authorization": f"Bearer {bearer}"},
    )
    body: dict[str, Any] = r.json()
    assert r.status_code == 200 and not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


def attempt(aid: str, learner: str, item: str, score: float, minute: int) -> dict[str, Any]:
    return {
        "attemptId": aid,
        "learnerId": learner,
        "itemId": item,
        "score": score,
        "timestamp": (T0 + timedelta(minutes=minute)).isoformat(),
    }


async def replayed_mastery(attempts: list[dict[str, Any]], tmp: Path) -> dict[str, list[Any]]:
    """Each learner's mastery when the same answers are traced one by one in time order, on a
    fresh store with the same curriculum (the reference the servers must match)."""
    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate
    from tracing.serving import MasteryService

    store = await SqliteStore.open(str(tmp / "replay.db"))
    try:
        await migrate(store)
        await seed(store)
        service = MasteryService.for_curriculum(await store.prerequisite_graph(), ITEMS)
        for a in sorted(attempts, key=lambda a: a["timestamp"]):
            one = Attempt(
                attempt_id=a["attemptId"],
                learner_id=a["learnerId"],
                item_id=a["itemId"],
                score=a["score"],
                timestamp=datetime.fromisoformat(a["timestamp"]),
            )
            await store.record_attempts([one])
            await service.apply(store, [one])
        learners = sorted({a["learnerId"] for a in attempts})
        return dict(zip(learners, await store.mastery_of(learners), strict=True))
    finally:
        await store.close()


def probabilities(rows: list[Any]) -> dict[str, float]:
    return {r.skill_id: r.probability for r in rows}


async def test_answers_sent_to_both_processes_all_stay(pair: Pair, tmp_path: Path) -> None:
    """24 answers of two learners sent at once, alternately to each process: the processes
    contend for the same learners' states (compare-and-set) and answers arrive out of time
    order (re-traced in order); the stored mastery equals the in-order replay's."""
    items = ["i-count", "i-add-1", "i-add-2", "i-mul"]
    sent = [
        attempt(f"{lid}-{k}", lid, items[k % 4], float((k * 7) % 3 != 0), k)
        for lid in ("bo", "cy")
        for k in range(12)
    ]

    async def send(k: int, a: dict[str, Any], client: httpx.AsyncClient) -> None:
        url = (pair.a if k % 2 == 0 else pair.b).url
        bearer = token(a["learnerId"], Role.LEARNER)
        for _ in range(5):  # a TracingPendingError asks for the same batch again
            got = (await gql(client, url, RECORD, {"a": [a]}, bearer))["recordAttempts"]
            if got["__typename"] == "RecordAttemptsPayload":
                return
            assert got["__typename"] == "TracingPendingError", got
        raise AssertionError(f"attempt {a['attemptId']} never traced: {got}")

    async with httpx.AsyncClient(timeout=PATIENCE_S) as client:
        await asyncio.gather(*(send(k, a, client) for k, a in enumerate(sent)))

    store = await open_store(pair.db_url)
    try:
        served = dict(zip(["bo", "cy"], await store.mastery_of(["bo", "cy"]), strict=True))
    finally:
        await store.close()
    expected = await replayed_mastery(sent, tmp_path)
    for lid in ("bo", "cy"):
        assert probabilities(served[lid]) == pytest.approx(probabilities(expected[lid]), abs=1e-9)
        assert {"count", "add", "mul"} <= set(probabilities(served[lid]))


async def ws_session(url: str, bearer: str) -> ClientConnection:
    ws = await connect(url.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL])  # type: ignore[list-item]
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {bearer}"}})
    )
    assert json.loads(await asyncio.wait_for(ws.recv(), PATIENCE_S))["type"] == "connection_ack"
    return ws


async def subscribe(ws: ClientConnection, query: str) -> None:
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))


async def event(ws: ClientConnection) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), PATIENCE_S))
        if message["type"] in ("ping", "pong"):
            continue
        assert message["type"] == "next", message
        data: dict[str, Any] = message["payload"]["data"]
        return data


async def test_a_mastery_event_published_on_one_process_reaches_the_other(pair: Pair) -> None:
    ada = token("ada", Role.LEARNER)
    ws = await ws_session(pair.b.url, ada)
    try:
        await subscribe(
            ws,
            'subscription { masteryChanged(learnerId: "ada") { mastery { skill { key } '
            "probability } } }",
        )
        async with httpx.AsyncClient(timeout=PATIENCE_S) as client:
            # an answer on b itself first: its event proves the subscription is registered
            await gql(
                client, pair.b.url, RECORD, {"a": [attempt("ev-b", "ada", "i-count", 1, 30)]}, ada
            )
            assert (await event(ws))["masteryChanged"]["mastery"][0]["skill"]["key"] == "count"
            on_a = await gql(
                client, pair.a.url, RECORD, {"a": [attempt("ev-a", "ada", "i-add-1", 1, 31)]}, ada
            )
        answered = on_a["recordAttempts"]["mastery"]
        assert [m["skill"]["key"] for m in answered] == ["add"]
        assert (await event(ws))["masteryChanged"]["mastery"] == answered
    finally:
        await ws.close()


RECOMMEND = 'query { learner(id: "cy") { recommendations(first: 50) { item { key } } } }'
#: toward the new skill: an index without it cannot answer, so the request waits for the rebuild
#: (a request naming nothing new is answered from the index in hand meanwhile)
RECOMMEND_NEW = (
    'query { learner(id: "cy") { recommendations(first: 5, goalIds: ["geo-new"]) '
    "{ item { key } } } }"
)
CREATE_SKILL = (
    "mutation($id: String!, $name: String!) { createSkill(input: {id: $id, name: $name}) "
    "{ __typename } }"
)
CREATE_ITEM = (
    'mutation { createItem(input: {id: "i-geo-new", kind: EXERCISE, title: "A new one", '
    'skills: [{skillId: "geo-new"}]}) { __typename } }'
)


async def test_a_curriculum_edit_on_one_process_is_seen_by_the_other(pair: Pair) -> None:
    dee, cy = token("dee", Role.DESIGNER), token("cy", Role.LEARNER)
    ws = await ws_session(pair.b.url, dee)
    try:
        await subscribe(ws, "subscription { curriculumChanged { seq entityId } }")
        async with httpx.AsyncClient(timeout=PATIENCE_S) as client:
            # an edit on b first: its event proves the subscription is registered
            await gql(client, pair.b.url, CREATE_SKILL, {"id": "sync-b", "name": "B"}, dee)
            assert (await event(ws))["curriculumChanged"]["entityId"] == "sync-b"
            # b's caches are warm: its recommender index and its serving tracer's view
            before = await gql(client, pair.b.url, RECOMMEND, {}, cy)
            assert "i-geo-new" not in str(before)
            await gql(
                client, pair.b.url, RECORD, {"a": [attempt("cy-warm", "cy", "i-count", 1, 40)]}, cy
            )

            await gql(client, pair.a.url, CREATE_SKILL, {"id": "geo-new", "name": "New"}, dee)
            assert (await gql(client, pair.a.url, CREATE_ITEM, {}, dee))["createItem"][
                "__typename"
            ] == "ItemPayload"
            seen = [(await event(ws))["curriculumChanged"] for _ in range(2)]
            assert [c["entityId"] for c in seen] == ["geo-new", "i-geo-new"]

            recs = (await gql(client, pair.b.url, RECOMMEND_NEW, {}, cy))["learner"][
                "recommendations"
            ]
            assert [r["item"]["key"] for r in recs] == ["i-geo-new"]
            # and, the new index swapped in, the plain query has it too
            recs = (await gql(client, pair.b.url, RECOMMEND, {}, cy))["learner"]["recommendations"]
            assert "i-geo-new" in [r["item"]["key"] for r in recs]
            traced = await gql(
                client, pair.b.url, RECORD, {"a": [attempt("cy-new", "cy", "i-geo-new", 1, 41)]}, cy
            )
            assert [m["skill"]["key"] for m in traced["recordAttempts"]["mastery"]] == ["geo-new"]

            # b's next edit publishes a's entries again: the subscriber gets only the new one
            await gql(client, pair.b.url, CREATE_SKILL, {"id": "sync-b2", "name": "B2"}, dee)
            after = (await event(ws))["curriculumChanged"]
        assert after["entityId"] == "sync-b2" and after["seq"] > max(c["seq"] for c in seen)
    finally:
        await ws.close()
