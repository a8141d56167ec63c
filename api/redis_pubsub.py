"""Publish/subscribe across server processes through Redis (``LEARNGRAPH_REDIS_URL``).

Several ``learngraph serve`` processes of one store share their subscription events through
one Redis server: a ``masteryChanged`` or ``curriculumChanged`` event published by the process
that handled the mutation reaches subscribers connected to any process.

Each process holds two Redis connections, whatever its number of subscribers: one publishes
(``PUBLISH <prefix><topic>``) and one reads a single pattern subscription
(``PSUBSCRIBE <prefix>*``), whose messages are fanned out in the process to its local
subscribers' bounded queues (:class:`~api.pubsub.InProcessPubSub`); a message for a topic
with no local subscriber is dropped before it is decoded. So a WebSocket subscription costs no
Redis round trip, and it is live as soon as it is registered locally. The price is that every
process receives every event (a mastery update is a few hundred bytes: at 1,000 answers per
second and 16 processes, 16,000 small deliveries per second for Redis, well within one core).

Events are best effort, as in one process (a slow subscriber loses its oldest messages): a
publish while Redis is unreachable is logged and dropped, never failing the mutation that
caused it (its writes are stored); the reader reconnects with a growing pause (up to
:data:`MAX_PAUSE_S`) and events published meanwhile are not replayed. Subscribers of
``curriculumChanged`` may see an entry twice (a process also publishes entries another one
already did, :class:`~api.services.ChangeFeed`); the subscription drops repeats by ``seq``.

Alerts (``alertRaised``) are computed by the process that stored the answers only while
someone watches the group (``api.alert_feed``): a process with an alert subscriber says so by
subscribing to a marker channel per watched group, and every process reads the watched
groups from Redis each :data:`WATCH_POLL_S` (``PUBSUB CHANNELS``), so a new alert
subscription on one process is served by the others within about a second.

Messages are JSON (:func:`encode` / :func:`decode`): a list of ``Mastery`` rows, one
``CurriculumChange``, or a ``(group id, Alert)`` pair.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from analytics.alerts import Alert, AlertKind
from analytics.risk import Reason, ReasonCode
from api.errors import ConfigError
from api.pubsub import ALERT_PREFIX, InProcessPubSub
from graph.models import CurriculumChange, Mastery

log = logging.getLogger("learngraph.api")

REDIS_URL_ENV = "LEARNGRAPH_REDIS_URL"
#: channel names are ``<prefix><topic>``, so one Redis server can serve several deployments
DEFAULT_PREFIX = "learngraph:"
#: the longest pause between reconnection attempts of the reader (seconds)
MAX_PAUSE_S = 5.0
#: an idle Redis connection is checked with a PING this often (seconds)
HEALTH_CHECK_S = 5.0
#: topics whose publisher computes the event only while someone watches (``api.alert_feed``):
#: their watchers are made known to every process
WATCHED_PREFIXES = (ALERT_PREFIX,)
#: how often each process reads which of those topics are watched anywhere (seconds)
WATCH_POLL_S = 1.0


def redis_url_from_env(environ: Mapping[str, str]) -> str | None:
    """``LEARNGRAPH_REDIS_URL`` (``redis://host:6379/0``, ``rediss://`` for TLS, or
    ``unix:///path``); None when unset or blank."""
    raw = environ.get(REDIS_URL_ENV)
    if raw is None or not raw.strip():
        return None
    url = raw.strip()
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"{REDIS_URL_ENV}={raw!r} is not a Redis URL; use redis://HOST:6379/0 "
            "(rediss:// for TLS, unix:///path/to/redis.sock)"
        )
    return url


# --------------------------------------------------------------------------------------------
# messages


def encode(message: Any) -> bytes:
    """JSON bytes for a list of ``Mastery`` rows, a ``CurriculumChange`` or a ``(group id,
    Alert)`` pair."""
    if isinstance(message, CurriculumChange):
        doc: dict[str, Any] = {
            "change": {
                "seq": message.seq,
                "actor": message.actor,
                "at": message.at.isoformat(),
                "action": message.action,
                "entity": message.entity,
                "entity_id": message.entity_id,
                "detail": message.detail,
            }
        }
    elif isinstance(message, tuple) and len(message) == 2 and isinstance(message[1], Alert):
        gid, alert = message
        doc = {
            "alert": {
                "group_id": gid,
                "kind": alert.kind.value,
                "learner_id": alert.learner_id,
                "since": alert.since.isoformat(),
                "message": alert.message,
                "skill_id": alert.skill_id,
                "root_cause_id": alert.root_cause_id,
                "risk": alert.risk,
                "reasons": [
                    [r.code.value, r.feature, r.value, r.weight, r.message] for r in alert.reasons
                ],
            }
        }
    elif isinstance(message, list | tuple) and all(isinstance(r, Mastery) for r in message):
        doc = {
            "mastery": [
                {
                    "learner_id": r.learner_id,
                    "skill_id": r.skill_id,
                    "probability": r.probability,
                    "uncertainty": r.uncertainty,
                    "updated_at": r.updated_at.isoformat(),
                    "model_version": r.model_version,
                }
                for r in message
            ]
        }
    else:
        raise TypeError(f"cannot publish a {type(message).__name__} through Redis")
    return json.dumps(doc, separators=(",", ":")).encode()


def decode(data: bytes | str) -> Any:
    """Inverse of :func:`encode`."""
    doc = json.loads(data)
    if "change" in doc:
        c = doc["change"]
        return CurriculumChange(
            seq=int(c["seq"]),
            actor=c["actor"],
            at=datetime.fromisoformat(c["at"]),
            action=c["action"],
            entity=c["entity"],
            entity_id=c["entity_id"],
            detail=dict(c["detail"]),
        )
    if "alert" in doc:
        a = doc["alert"]
        return (
            a["group_id"],
            Alert(
                kind=AlertKind(a["kind"]),
                learner_id=a["learner_id"],
                since=datetime.fromisoformat(a["since"]),
                message=a["message"],
                skill_id=a["skill_id"],
                root_cause_id=a["root_cause_id"],
                risk=a["risk"],
                reasons=tuple(
                    Reason(ReasonCode(c), f, float(v), float(w), msg)
                    for c, f, v, w, msg in a["reasons"]
                ),
            ),
        )
    if "mastery" in doc:
        return [
            Mastery(
                learner_id=r["learner_id"],
                skill_id=r["skill_id"],
                probability=float(r["probability"]),
                uncertainty=float(r["uncertainty"]),
                updated_at=datetime.fromisoformat(r["updated_at"]),
                model_version=r["model_version"],
            )
            for r in doc["mastery"]
        ]
    raise ValueError(f"not a learngraph event: {str(data)[:200]!r}")


# --------------------------------------------------------------------------------------------


class RedisPubSub:
    """The ``PubSub`` of a multi-process deployment: Redis between processes, bounded
    in-process queues to each subscriber. Open with :meth:`start`, end with :meth:`close`.

    Args:
        url: the Redis server (``LEARNGRAPH_REDIS_URL``).
        prefix: prepended to every topic to make the channel name.
        queue_size: messages kept per subscriber (the oldest go first).
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        queue_size: int = 100,
        watch_poll_s: float = WATCH_POLL_S,
    ) -> None:
        self.url = url
        self._prefix = prefix
        self._local = InProcessPubSub(queue_size)
        self._client: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._pubsub: Any = None
        self._watch_poll_s = watch_poll_s
        #: the watched-prefix topics that have a subscriber on some process (polled)
        self._watched_anywhere: frozenset[str] = frozenset()

    async def start(self) -> None:
        """Connect and subscribe; raises ``ConfigError`` naming the URL when Redis does not
        answer (so a server refuses to start rather than silently losing events)."""
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        self._client = Redis.from_url(
            self.url, socket_connect_timeout=5, health_check_interval=HEALTH_CHECK_S
        )
        try:
            pubsub = await self._subscribe()
        except (RedisError, OSError) as exc:
            await self._client.aclose()
            self._client = None
            raise ConfigError(
                f"{REDIS_URL_ENV}={self.url!r} does not answer ({exc}); start Redis there "
                "or unset it (events then reach only this process's subscribers)"
            ) from None
        self._reader = asyncio.create_task(self._read(pubsub), name="redis-pubsub-reader")
        self._poller = asyncio.create_task(self._poll_watched(), name="redis-pubsub-watch")

    async def _subscribe(self) -> Any:
        """A pub/sub connection whose pattern subscription Redis has confirmed."""
        pubsub = self._client.pubsub()
        try:
            await pubsub.psubscribe(f"{self._prefix}*")
            while True:  # the confirmation comes first on this connection
                msg = await pubsub.get_message(timeout=5.0)
                if msg is None:
                    raise TimeoutError("no PSUBSCRIBE confirmation within 5 s")
                if msg["type"] == "psubscribe":
                    break
            markers = [self._marker(t) for t in self._local.topics() if self._is_watched(t)]
            if markers:
                await pubsub.subscribe(*markers)
            self._pubsub = pubsub
            return pubsub
        except BaseException:
            await pubsub.aclose()
            raise

    async def _read(self, pubsub: Any) -> None:
        pause = 0.1
        while True:
            try:
                # wake at least every second: with the client's health checks (PING on an idle
                # connection) a connection lost without a word is noticed, not waited on
                while pubsub.subscribed:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is None:
                        continue
                    pause = 0.1
                    if msg["type"] == "pmessage":
                        self._deliver(msg["channel"], msg["data"])
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as exc:  # a lost connection: reconnect, never end
                log.warning("Redis pub/sub reader: %s; reconnecting in %.1f s", exc, pause)
            await pubsub.aclose()
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
            try:
                pubsub = await self._subscribe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Redis pub/sub reader: reconnecting failed: %s", exc)
                pubsub = self._client.pubsub()  # not subscribed: the loop retries at once

    def _deliver(self, channel: bytes | str, data: bytes | str) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        topic = name[len(self._prefix) :]
        if not self._local.subscriber_count(topic):
            return
        try:
            message = decode(data)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("Redis pub/sub: dropped an undecodable message on %s: %s", name, exc)
            return
        self._local.publish_nowait(topic, message)

    # watchers known to every process: a topic under WATCHED_PREFIXES with a local subscriber
    # holds a (silent) subscription to its marker channel, and every process polls the
    # marker channels that have subscribers (PUBSUB CHANNELS) every ``watch_poll_s``

    def _marker(self, topic: str) -> str:
        return f"{self._prefix}watching|{topic}"

    @staticmethod
    def _is_watched(topic: str) -> bool:
        return topic.startswith(WATCHED_PREFIXES)

    async def _poll_watched(self) -> None:
        head = self._marker("")
        while True:
            try:
                names = await self._client.pubsub_channels(f"{head}*")
                self._watched_anywhere = frozenset(
                    (n.decode() if isinstance(n, bytes) else n)[len(head) :] for n in names
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Redis pub/sub: reading the watched topics failed: %s", exc)
            await asyncio.sleep(self._watch_poll_s)

    def subscriber_count(self, topic: str) -> int:
        """Subscribers of ``topic`` in this process; for a topic under
        :data:`WATCHED_PREFIXES` watched only on other processes, 1 (as of the last poll)."""
        local = self._local.subscriber_count(topic)
        return local or int(topic in self._watched_anywhere)

    def watched(self, prefix: str) -> bool:
        """Whether a topic starting with ``prefix`` has a subscriber here or (a topic under
        :data:`WATCHED_PREFIXES`, as of the last poll) on another process."""
        return self._local.watched(prefix) or any(
            t.startswith(prefix) for t in self._watched_anywhere
        )

    async def publish(self, topic: str, message: Any) -> None:
        """Send ``message`` to the subscribers of ``topic`` on every process (this one's
        included, through Redis). A Redis failure is logged, not raised."""
        from redis.exceptions import RedisError

        if self._client is None:
            raise RuntimeError("RedisPubSub.publish before start()")
        data = encode(message)
        try:
            await self._client.publish(self._prefix + topic, data)
        except (RedisError, OSError) as exc:
            log.warning("Redis pub/sub: event on %s not delivered: %s", topic, exc)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Any]]:
        from redis.exceptions import RedisError

        marked = self._is_watched(topic) and not self._local.subscriber_count(topic)
        async with self._local.subscribe(topic) as messages:
            if marked:
                try:
                    await self._pubsub.subscribe(self._marker(topic))
                except (RedisError, OSError) as exc:  # resubscribed when the reader reconnects
                    log.warning("Redis pub/sub: watching %s not announced: %s", topic, exc)
            try:
                yield messages
            finally:
                if self._is_watched(topic) and self._local.subscriber_count(topic) == 1:
                    try:
                        await self._pubsub.unsubscribe(self._marker(topic))
                    except (RedisError, OSError) as exc:
                        log.warning("Redis pub/sub: unwatching %s failed: %s", topic, exc)

    async def close(self) -> None:
        tasks = [t for t in (self._poller, self._reader) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:  # bounded: a shutdown never waits on a stuck connection
            await asyncio.wait(tasks, timeout=5.0)
        self._poller = self._reader = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None
