"""The shared part of the Neo4j store: the driver, managed transactions with a server-side
timeout, the error mapping, migration bookkeeping and the few helpers every concern uses.

``graph.neo4j_store.Neo4jStore`` is composed of this class and one mixin per concern
(``graph.neo4j_curriculum``, ``graph.neo4j_people``, ``graph.neo4j_learning``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any, Self, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, Query, unit_of_work
from neo4j.exceptions import (
    ConfigurationError,
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from graph import cypher
from graph import neo4j_values as v
from graph.models import utcnow
from graph.store import GraphStoreError, NotFoundError, StoreUnavailableError

T = TypeVar("T")
Tx = AsyncManagedTransaction
Rows = list[dict[str, Any]]
Change = tuple[str, str, str, dict[str, Any]]

DEFAULT_TIMEOUT_S = 60.0
log = logging.getLogger(__name__)


class ConstraintRace(GraphStoreError):
    """Internal: a uniqueness constraint refused a write, e.g. a concurrent call stored the
    same new attempt id first; record_attempts retries once, others report it."""


def rust_extension_loaded() -> bool:
    """Whether the driver packs and unpacks Bolt messages with ``neo4j-rust-ext``."""
    import neo4j._codec.packstream as packstream
    import neo4j._codec.packstream.v1 as v1

    return (
        bool(getattr(packstream, "RUST_AVAILABLE", False))
        and getattr(v1, "_rust_pack", None) is not None
        and getattr(v1, "_rust_unpack", None) is not None
    )


async def fetch(tx: Tx, query: str, **params: Any) -> Rows:
    """The records as dicts. The queries return only maps, lists and scalars, so the values
    need none of ``Record.data()``'s (costly) recursive conversion."""
    result = await tx.run(query, params)
    keys = result.keys()
    return [dict(zip(keys, record, strict=True)) async for record in result]


async def missing(tx: Tx, label: str, entity: str, ids: set[str]) -> None:
    """Raise ``NotFoundError`` naming those of ``ids`` with no ``label`` node."""
    if ids:
        rows = await fetch(tx, cypher.missing_ids(label), ids=sorted(ids))
        if rows[0]["missing"]:
            raise NotFoundError(entity, sorted(rows[0]["missing"]))


def by_key(rows: Rows, key: str, value: Callable[[dict[str, Any]], T]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(value(row))
    return grouped


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Mark an orphaned call's outcome as seen (no "exception was never retrieved")."""
    if not task.cancelled():
        task.exception()


class Neo4jCore:
    """The connection, transactions and migration bookkeeping the ``Neo4jStore`` mixins share."""

    kind = "neo4j"

    def __init__(
        self,
        driver: AsyncDriver,
        *,
        database: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._driver = driver
        self._database = database
        self._timeout = timeout
        self._clock = clock
        self._closed = False
        self._inflight: set[asyncio.Task[Any]] = set()

    @classmethod
    async def open(
        cls,
        uri: str,
        *,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> Self:
        """Connect to ``uri`` and check that the server answers (StoreUnavailableError if not)."""
        try:
            driver = AsyncGraphDatabase.driver(uri, auth=auth, connection_timeout=10.0)
        except (DriverError, Neo4jError, ValueError) as exc:
            raise StoreUnavailableError(
                f"bad Neo4j URL {uri!r}: {exc}; use bolt://host:7687 or neo4j://host:7687"
            ) from exc
        try:
            await driver.verify_connectivity()
        except (ConfigurationError, ValueError) as exc:  # e.g. a port that is not a number
            await driver.close()
            raise StoreUnavailableError(
                f"bad Neo4j URL {uri!r}: {exc}; use bolt://host:7687 or neo4j://host:7687"
            ) from exc
        except (DriverError, Neo4jError, OSError) as exc:
            await driver.close()
            raise StoreUnavailableError(
                f"cannot reach Neo4j at {uri} ({type(exc).__name__}: {exc}); start a server "
                "with `learngraph neo4j start` or check the URL and NEO4J_USER/NEO4J_PASSWORD"
            ) from exc
        if not rust_extension_loaded():
            log.warning(
                "neo4j-rust-ext is not loaded: Bolt messages are packed in pure Python "
                "(several times slower); install neo4j-rust-ext matching neo4j"
            )
        return cls(driver, database=database, timeout=timeout, clock=clock)

    async def close(self) -> None:
        self._closed = True
        if self._inflight:  # calls whose callers were cancelled: let them end cleanly first
            await asyncio.wait(set(self._inflight), timeout=self._timeout)
        await self._driver.close()

    async def ping(self) -> None:
        """One connectivity check (``verify_connectivity``: a connection, no transaction
        and so none of the driver's retries, which take 30 s to give up on a server that is
        down)."""
        self._check_open()
        try:
            await self._uncancelled(self._driver.verify_connectivity())
        except (DriverError, Neo4jError, OSError) as exc:
            raise StoreUnavailableError(f"Neo4j is unavailable: {exc}") from exc

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailableError("this Neo4j store is closed; open a new one")

    # -- transactions ----------------------------------------------------------------------

    async def _uncancelled(self, call: Coroutine[Any, Any, T]) -> T:
        """Run a driver call as its own task that the caller's cancellation does not reach.

        neo4j 6.4.1 leaks a socket when a task is cancelled while the pool opens a new
        connection: ``AsyncBoltSocket._connect_secure`` (``neo4j/_async_compat/network/
        _bolt_socket.py``) closes its raw socket only in ``except Exception``, which
        ``CancelledError`` (a ``BaseException``) skips, and ``AsyncBoltSocket.connect`` then
        has no socket to close, so the socket is garbage-collected open (``ResourceWarning:
        unclosed <socket.socket ...>``). Store calls get cancelled by the API's request
        timeout and also during GraphQL execution itself (the fuzz test leaked with the request
        timeout disabled too). So a cancelled caller stops waiting at once, but the call
        runs on to its end (bounded by the transaction timeout), returns its connection to the
        pool, and ``close`` waits for such calls."""
        task = asyncio.ensure_future(call)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(_retrieve)
            raise

    async def _tx(self, write: bool, work: Callable[[Tx], Awaitable[T]]) -> T:
        self._check_open()
        return await self._uncancelled(self._tx_now(write, work))

    async def _tx_now(self, write: bool, work: Callable[[Tx], Awaitable[T]]) -> T:
        bounded = unit_of_work(timeout=self._timeout)(work)
        try:
            async with self._driver.session(database=self._database) as session:
                if write:
                    return await session.execute_write(bounded)
                return await session.execute_read(bounded)
        except GraphStoreError:
            raise
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise StoreUnavailableError(f"Neo4j is unavailable: {exc}") from exc
        except ConstraintError as exc:
            raise ConstraintRace(
                f"Neo4j constraint violated (a concurrent write?): {exc}; retry the call"
            ) from exc
        except (Neo4jError, DriverError) as exc:
            raise GraphStoreError(f"Neo4j error: {exc}") from exc

    async def _read(self, query: str, **params: Any) -> Rows:
        async def work(tx: Tx) -> Rows:
            return await fetch(tx, query, **params)

        return await self._tx(False, work)

    async def _read_all(self, query: str, **params: Any) -> Rows:
        """For queries returning one record whose ``rows`` column collects the result."""
        rows: Rows = (await self._read(query, **params))[0]["rows"]
        return rows

    async def _run_auto_commit(
        self, query: str, *, timeout: float | None = None, **params: Any
    ) -> None:
        """Schema statements and ``CALL {} IN TRANSACTIONS`` need an auto-commit transaction."""
        self._check_open()
        await self._uncancelled(self._run_auto_commit_now(query, timeout, params))

    async def _run_auto_commit_now(
        self, query: str, timeout: float | None, params: dict[str, Any]
    ) -> None:
        bounded = Query(query, timeout=self._timeout if timeout is None else timeout)
        try:
            async with self._driver.session(database=self._database) as session:
                result = await session.run(bounded, params)
                await result.consume()
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise StoreUnavailableError(f"Neo4j is unavailable: {exc}") from exc
        except (Neo4jError, DriverError) as exc:
            raise GraphStoreError(f"Neo4j error running {query.strip()[:80]!r}: {exc}") from exc

    async def _append_changes(
        self, tx: Tx, actor: str, changes: Sequence[Change],
        states: Sequence[tuple[dict[str, Any] | None, dict[str, Any] | None]] = (),
    ) -> int | None:
        """Append one batch of changes (``states``: each one's before and after, when known);
        the batch's first seq, None for no changes."""
        if not changes:
            return None
        rows = [v.change_row(*c, *(states[k] if k < len(states) else (None, None)))
                for k, c in enumerate(changes)]
        found = await fetch(tx, cypher.APPEND_CHANGES, changes=rows, actor=actor,
                            at=self._clock())
        return int(found[0]["batch"])

    # -- migrations and tests --------------------------------------------------------------

    async def applied_migrations(self) -> dict[int, str]:
        rows = await self._read(cypher.APPLIED_MIGRATIONS)
        return {int(r["version"]): str(r["checksum"]) for r in rows}

    async def apply_migration(
        self, version: int, name: str, checksum: str, statements: Sequence[str]
    ) -> None:
        """Neo4j cannot mix schema and data in one transaction: each statement runs on its
        own (the shipped ones are ``IF NOT EXISTS``, so a re-run after a crash is safe), then
        the migration is recorded."""
        for statement in statements:
            await self._run_auto_commit(statement)

        async def work(tx: Tx) -> None:
            await fetch(
                tx,
                cypher.RECORD_MIGRATION,
                version=version,
                name=name,
                checksum=checksum,
                applied_at=self._clock(),
            )

        await self._tx(True, work)

    async def wipe_all_data_for_tests(self) -> None:
        """TEST ONLY: delete every node and relationship except migration records."""
        # batched deletes of a benchmark-sized database can outlast the per-call timeout
        await self._run_auto_commit(
            cypher.WIPE_ALL_DATA_FOR_TESTS, timeout=max(self._timeout, 900.0)
        )
