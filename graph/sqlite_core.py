"""The core of the embedded store: the connection, the worker thread that owns it, the
read-only side connection for long aggregate reads, and the migration bookkeeping.

Every call runs on one dedicated worker thread, so calls are serialized and the event loop
never blocks on disk; each write is one ``BEGIN IMMEDIATE`` transaction (everything or
nothing). ``graph.sqlite_store.SqliteStore`` adds the ``GraphStore`` methods on top of this
class, one mixin per concern.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, Self, TypeVar

from graph.models import utcnow
from graph.sqlite_queries import MIGRATIONS_DDL, connect, in_transaction
from graph.sqlite_rows import to_us
from graph.store import GraphStoreError, MigrationError, StoreUnavailableError

T = TypeVar("T")


class SqliteCore:
    """The connection and its worker thread; open with ``await SqliteStore.open(path)``."""

    kind = "sqlite"

    def __init__(
        self,
        conn: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        path: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._conn = conn
        self._executor = executor
        self._path = path
        self._clock = clock
        self._closed = False
        #: a second, read-only connection on its own thread for long aggregate reads
        #: (:meth:`item_gain_counts`), opened on first use
        self._aside: tuple[sqlite3.Connection, ThreadPoolExecutor] | None = None
        self._aside_lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str, *, clock: Callable[[], datetime] = utcnow) -> Self:
        """Open (creating if needed) the database file at ``path`` (``:memory:`` works too)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="learngraph-sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(conn, executor, path, clock)

    @property
    def path(self) -> str:
        return self._path

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        if self._aside is not None:
            aside_conn, aside_executor = self._aside
            await loop.run_in_executor(aside_executor, aside_conn.close)
            aside_executor.shutdown(wait=True)
        await loop.run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)

    async def ping(self) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("SELECT 1").fetchone()

        await self._call(run)

    def _now_us(self) -> int:
        """The clock's time in the stored form (microseconds since the epoch)."""
        return to_us(self._clock(), "clock")

    # -- running calls ---------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call_on(self._executor, self._conn, fn, *args)

    async def _read_aside(self, fn: Callable[..., T], *args: Any) -> T:
        """A long read on the second connection, so that the worker thread keeps serving
        other calls meanwhile (WAL: the reader sees the last commit and blocks no writer).
        An in-memory database has no second connection: the worker thread runs it."""
        if self._path == ":memory:" or self._path.startswith("file:"):
            return await self._call(fn, *args)
        if self._aside is None:
            async with self._aside_lock:
                if self._aside is None and not self._closed:
                    executor = ThreadPoolExecutor(
                        max_workers=1, thread_name_prefix="learngraph-sqlite-aside"
                    )
                    loop = asyncio.get_running_loop()
                    try:
                        conn = await loop.run_in_executor(executor, connect, self._path)
                        await loop.run_in_executor(executor, conn.execute, "PRAGMA query_only = ON")
                    except BaseException:
                        executor.shutdown(wait=False)
                        raise
                    self._aside = (conn, executor)
        if self._aside is None:
            raise StoreUnavailableError(f"the SQLite store {self._path!r} is closed")
        conn, executor = self._aside
        return await self._call_on(executor, conn, fn, *args)

    async def _call_on(
        self,
        executor: ThreadPoolExecutor,
        conn: sqlite3.Connection,
        fn: Callable[..., T],
        *args: Any,
    ) -> T:
        if self._closed:
            raise StoreUnavailableError(f"the SQLite store {self._path!r} is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, fn, conn, *args)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise MigrationError(
                    f"the SQLite store {self._path!r} is not migrated ({exc}); run "
                    f"`learngraph migrate --db sqlite:///{self._path}`"
                ) from exc
            raise GraphStoreError(f"SQLite error on {self._path!r}: {exc}") from exc
        except sqlite3.Error as exc:
            raise GraphStoreError(f"SQLite error on {self._path!r}: {exc}") from exc

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(in_transaction, fn, *args)

    # -- migrations ------------------------------------------------------------------------

    async def applied_migrations(self) -> dict[int, str]:
        def run(conn: sqlite3.Connection) -> dict[int, str]:
            conn.execute(MIGRATIONS_DDL)
            rows = conn.execute("SELECT version, checksum FROM schema_migrations ORDER BY version")
            return {int(r["version"]): str(r["checksum"]) for r in rows}

        return await self._call(run)

    async def apply_migration(
        self, version: int, name: str, checksum: str, statements: Sequence[str]
    ) -> None:
        now = self._now_us()

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(MIGRATIONS_DDL)
            # another process may have applied it since the runner looked (the write lock is
            # held from here on): the same file is then a no-op, a different one an error
            done = conn.execute(
                "SELECT checksum FROM schema_migrations WHERE version = ?", (version,)
            ).fetchone()
            if done is not None:
                if done[0] == checksum:
                    return
                raise MigrationError(
                    f"migration version {version} ({name}) is already recorded with another "
                    "checksum; restore the file and put changes in a new migration"
                )
            for number, statement in enumerate(statements, 1):
                try:
                    conn.execute(statement)
                except sqlite3.Error as exc:
                    raise MigrationError(
                        f"migration {name} failed at statement {number} ({exc}); nothing of "
                        "it was applied: fix the file and run `learngraph migrate` again"
                    ) from exc
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_us)"
                " VALUES (?, ?, ?, ?)",
                (version, name, checksum, now),
            )

        await self._write(run)
