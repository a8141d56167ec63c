"""Subscription events across processes through Redis (``api.redis_pubsub``): the message
codec, the URL setting, two ``RedisPubSub`` objects standing for two server processes on a
real Redis (``LEARNGRAPH_TEST_REDIS``), a reader that survives losing its connection, and the
repeat filter of ``curriculumChanged``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from analytics.alerts import Alert, AlertKind
from analytics.risk import Reason, ReasonCode
from api.errors import ConfigError
from api.pubsub import unique_changes
from api.redis_pubsub import RedisPubSub, decode, encode, redis_url_from_env
from graph.models import CurriculumChange, Mastery
from tests.conftest import redis_url
from tests.patience import PATIENCE_S, eventually

T = datetime(2026, 3, 1, 12, 30, 15, 250, tzinfo=UTC)
ROWS = [
    Mastery("ada", "add", 0.8125, 0.39, T, "bkt-default"),
    Mastery("ada", "mul", 0.25, 0.43, T, "gnn-v2"),
]
CHANGE = CurriculumChange(7, "designer-01", T, "create", "skill", "frac", {"name": "Fractions"})


def change(seq: int) -> CurriculumChange:
    return CurriculumChange(seq, "d", T, "update", "skill", f"s{seq}", {})


ALERT = Alert(
    AlertKind.STUCK,
    "ada",
    T,
    "stuck on Adding",
    skill_id="add",
    root_cause_id="count",
    risk=0.75,
    reasons=(Reason(ReasonCode.FAILURE_STREAK, "fail_streak", 4.0, 1.25, "4 wrong in a row"),),
)


def test_messages_round_trip() -> None:
    assert decode(encode(ROWS)) == ROWS
    assert decode(encode(("g1", ALERT))) == ("g1", ALERT)
    assert decode(encode(CHANGE)) == CHANGE
    assert decode(encode([])) == []


def test_what_cannot_be_sent_is_named() -> None:
    with pytest.raises(TypeError, match="dict"):
        encode({"probability": 1})
    with pytest.raises(ValueError, match="not a learngraph event"):
        decode(b'{"other": 1}')


def test_redis_url_setting() -> None:
    assert redis_url_from_env({}) is None
    assert redis_url_from_env({"LEARNGRAPH_REDIS_URL": "  "}) is None
    assert redis_url_from_env({"LEARNGRAPH_REDIS_URL": "redis://r:6379/1"}) == "redis://r:6379/1"
    with pytest.raises(ConfigError, match="'localhost:6379' is not a Redis URL"):
        redis_url_from_env({"LEARNGRAPH_REDIS_URL": "localhost:6379"})


async def test_repeated_changes_are_dropped_by_seq() -> None:
    async def feed() -> AsyncIterator[CurriculumChange]:
        for seq in (5, 6, 5, 7, 6, 4, 7):
            yield change(seq)

    assert [c.seq async for c in unique_changes(feed())] == [5, 6, 7, 4]

    # it forgets beyond ``remember``: memory stays bounded
    async def long_feed() -> AsyncIterator[CurriculumChange]:
        for seq in (1, 2, 3, 1):
            yield change(seq)

    assert [c.seq async for c in unique_changes(long_feed(), remember=2)] == [1, 2, 3, 1]


async def test_an_unreachable_redis_is_refused_naming_the_url() -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    with pytest.raises(ConfigError, match=f"LEARNGRAPH_REDIS_URL='{url}' does not answer"):
        await RedisPubSub(url).start()


@pytest.fixture
async def pair() -> AsyncIterator[tuple[RedisPubSub, RedisPubSub]]:
    """Two pub/subs on the test Redis, as two server processes have (a prefix of their own,
    so runs do not hear each other)."""
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    a, b = RedisPubSub(redis_url(), prefix=prefix), RedisPubSub(redis_url(), prefix=prefix)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def next_of(messages: Any) -> Any:
    return await asyncio.wait_for(anext(messages), PATIENCE_S)


async def test_an_event_published_on_one_process_reaches_both(
    pair: tuple[RedisPubSub, RedisPubSub],
) -> None:
    a, b = pair
    async with (
        b.subscribe("mastery:ada") as on_b,
        a.subscribe("mastery:ada") as on_a,
        b.subscribe("mastery:bo") as other,
    ):
        assert b.subscriber_count("mastery:ada") == 1 and a.subscriber_count("mastery:bo") == 0
        await a.publish("mastery:ada", ROWS)
        await a.publish("curriculum", CHANGE)  # nobody listens: dropped unread
        await a.publish("mastery:bo", ROWS[:1])
        assert await next_of(on_b) == ROWS
        assert await next_of(on_a) == ROWS  # the publisher's own subscribers too
        assert await next_of(other) == ROWS[:1]  # and each topic only its own
    assert b.subscriber_count("mastery:ada") == 0


async def test_a_failed_publish_is_logged_not_raised(
    pair: tuple[RedisPubSub, RedisPubSub],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from redis.exceptions import ConnectionError

    a, _ = pair

    async def down(*args: Any) -> None:
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(a._client, "publish", down)
    await a.publish("mastery:ada", ROWS)  # the mutation that caused it still answers
    assert "event on mastery:ada not delivered: Connection refused" in caplog.text


async def test_the_reader_reconnects_after_losing_its_connection(
    pair: tuple[RedisPubSub, RedisPubSub],
) -> None:
    from redis.asyncio import Redis

    a, b = pair
    admin = Redis.from_url(redis_url())
    try:
        async with b.subscribe("curriculum") as on_b:
            await a.publish("curriculum", change(1))
            assert (await next_of(on_b)).seq == 1
            killed = await admin.client_kill_filter(_type="pubsub")
            assert killed >= 2  # both readers lost their connection
            got: list[int] = []

            async def consume() -> None:
                async for c in on_b:
                    got.append(c.seq)

            consumer = asyncio.create_task(consume())
            seq = 1

            async def arrives() -> bool:
                # events published while b reconnects are lost (best effort): send until one
                # gets through
                nonlocal seq
                seq += 1
                await a.publish("curriculum", change(seq))
                return bool(got)

            try:
                async with asyncio.timeout(PATIENCE_S):  # a failure, never a hang
                    await eventually(arrives, "an event after the reconnection", step_s=0.05)
            finally:
                consumer.cancel()
            assert got[0] > 1
    finally:
        await admin.aclose()


async def test_an_alert_watcher_on_one_process_is_known_to_the_other() -> None:
    """Alerts are computed only while someone watches: a process learns of watchers on the
    others by polling Redis, and stops counting them once they leave."""
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    a = RedisPubSub(redis_url(), prefix=prefix, watch_poll_s=0.02)
    b = RedisPubSub(redis_url(), prefix=prefix, watch_poll_s=0.02)
    await a.start()
    await b.start()
    try:
        assert not a.watched("alerts:")
        async with b.subscribe("alerts:g1") as on_b:
            await eventually(lambda: a.watched("alerts:"), "a learning of b's watcher")
            assert a.subscriber_count("alerts:g1") == 1 and a.subscriber_count("alerts:g2") == 0
            await a.publish("alerts:g1", ("g1", ALERT))
            assert await next_of(on_b) == ("g1", ALERT)
        await eventually(lambda: not a.watched("alerts:"), "a forgetting b's watcher")
    finally:
        await a.close()
        await b.close()
