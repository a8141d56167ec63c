"""The learning part of the SQLite store: attempts (idempotent on the client's attempt id),
the items' learning-gain counts derived from them, the mastery rows a tracer writes, and the
tracers' serialized per-learner states."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from graph.checks import (
    check_attempts,
    check_limit,
    check_mastery,
    check_traced,
    check_tracer_states,
)
from graph.models import (
    Attempt,
    AttemptPage,
    HistoryWindow,
    Mastery,
    RecordResult,
    TracerRecord,
    TracerWrite,
    WindowRequest,
)
from graph.sqlite_core import SqliteCore
from graph.sqlite_history import HistoryTable, history_window, read_window
from graph.sqlite_queries import gain_counts, mastery_by_learner, mastery_probabilities, require
from graph.sqlite_rows import (
    ATTEMPT_COLS,
    MASTERY_COLS,
    attempt_row,
    attempt_values,
    encode_cursor,
    from_us,
    ids_json,
    to_us,
)
from graph.store import AttemptConflictError

#: the timestamp's place in an attempt row (``ATTEMPT_COLS``)
TS = 4
ATTEMPTS = HistoryTable("attempts", "attempt_id", ATTEMPT_COLS, TS)


class SqliteLearning(SqliteCore):
    """The attempt, gain, mastery and tracer-state methods of ``GraphStore`` on SQLite."""

    # -- attempts --------------------------------------------------------------------------

    async def record_attempts(
        self, attempts: Sequence[Attempt], *, untimed: Collection[str] = ()
    ) -> RecordResult:
        check_attempts(attempts)
        rows = [attempt_values(a) for a in attempts]
        untimed = frozenset(untimed)

        def run(conn: sqlite3.Connection) -> RecordResult:
            require(conn, "learners", "learner", {r[1] for r in rows})
            require(conn, "items", "item", {r[2] for r in rows})
            # one look-up of the ids already stored (a savepoint-and-undo fast path was
            # measured slower: SQLite copies every touched page to a sub-journal for it)
            wanted = ids_json(r[0] for r in rows)
            stored = {r[0]: tuple(r) for r in conn.execute(
                f"SELECT {ATTEMPT_COLS} FROM attempts"
                " WHERE attempt_id IN (SELECT value FROM json_each(?))", (wanted,))}
            new: list[tuple[Any, ...]] = []
            new_ids: list[str] = []
            duplicates: list[str] = []
            conflicts: list[str] = []
            timestamps: dict[str, datetime] = {}
            for row in rows:
                aid = row[0]
                seen = stored.get(aid)
                if seen is None:
                    stored[aid] = row
                    new.append(row)
                    new_ids.append(aid)
                elif seen == row:
                    duplicates.append(aid)
                elif aid in untimed and seen[:TS] + seen[TS + 1 :] == row[:TS] + row[TS + 1 :]:
                    duplicates.append(aid)  # the same answer, its time filled in again
                    timestamps[aid] = from_us(seen[TS])
                else:
                    conflicts.append(aid)
            if conflicts:
                raise AttemptConflictError(list(dict.fromkeys(conflicts)))
            conn.executemany(
                f"INSERT INTO attempts ({ATTEMPT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)", new)
            return RecordResult(
                stored=tuple(new_ids), duplicates=tuple(duplicates), timestamps=timestamps
            )

        return await self._write(run)

    async def attempts_of(
        self,
        learner_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        since: datetime | None = None,
    ) -> AttemptPage:
        check_limit(limit)
        since_us = None if since is None else to_us(since, "since")

        def run(conn: sqlite3.Connection) -> AttemptPage:
            rows, more = read_window(conn, ATTEMPTS, learner_id, limit=limit, after=cursor,
                                     since_us=since_us, after_field="cursor")
            nxt = encode_cursor(rows[-1][TS], rows[-1][0]) if more else None
            return AttemptPage(tuple(attempt_row(r) for r in rows), nxt)

        return await self._call(run)

    async def attempts_window(self, learner_id: str, window: WindowRequest
                             ) -> HistoryWindow[Attempt]:
        return await self._call(history_window, ATTEMPTS, learner_id, attempt_row, window)

    async def latest_attempts(
        self, learner_ids: Sequence[str], *, limit: int
    ) -> list[tuple[Attempt, ...]]:
        check_limit(limit)
        ids = list(dict.fromkeys(learner_ids))
        if not ids:
            return []
        sql = (f"SELECT {ATTEMPT_COLS} FROM (SELECT {ATTEMPT_COLS}, ROW_NUMBER() OVER"
               " (PARTITION BY learner_id ORDER BY ts_us DESC, attempt_id DESC) AS rn"
               " FROM attempts WHERE learner_id IN (SELECT value FROM json_each(?)))"
               " WHERE rn <= ? ORDER BY learner_id, ts_us DESC, attempt_id DESC")

        def run(conn: sqlite3.Connection) -> dict[str, list[Attempt]]:
            found: dict[str, list[Attempt]] = {}
            for r in conn.execute(sql, (ids_json(ids), limit)):
                a = attempt_row(r)
                found.setdefault(a.learner_id, []).append(a)
            return found

        found = await self._call(run)
        return [tuple(found.get(lid, ())) for lid in learner_ids]

    async def attempt_count(self, learner_id: str | None = None) -> int:
        def run(conn: sqlite3.Connection) -> int:
            if learner_id is None:
                return int(conn.execute("SELECT count(*) FROM attempts").fetchone()[0])
            return int(conn.execute("SELECT count(*) FROM attempts WHERE learner_id = ?",
                                    (learner_id,)).fetchone()[0])

        return await self._call(run)

    async def item_gain_counts(
        self, item_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[int, int]]:
        if item_ids is not None and not item_ids:
            return {}
        wanted = None if item_ids is None else list(dict.fromkeys(item_ids))
        # a scan and sort of every attempt: keep it off the worker thread other calls wait on
        return await self._read_aside(gain_counts, wanted)

    # -- mastery ---------------------------------------------------------------------------

    async def save_mastery(self, rows: Sequence[Mastery]) -> None:
        check_mastery(rows)
        values = [(m.learner_id, m.skill_id, float(m.probability), float(m.uncertainty),
                   to_us(m.updated_at, "updated_at"), m.model_version) for m in rows]

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "learners", "learner", {v[0] for v in values})
            require(conn, "skills", "skill", {v[1] for v in values})
            conn.executemany(
                f"INSERT OR REPLACE INTO mastery ({MASTERY_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                values)

        await self._write(run)

    async def mastery_of(self, learner_ids: Sequence[str]) -> list[list[Mastery]]:
        return await self._call(mastery_by_learner, learner_ids)

    async def mastery_of_group(self, group_id: str) -> Mapping[str, list[Mastery]]:
        def run(conn: sqlite3.Connection) -> dict[str, list[Mastery]]:
            members = [r[0] for r in conn.execute(
                "SELECT learner_id FROM group_learners WHERE group_id = ? ORDER BY learner_id",
                (group_id,))]
            return dict(zip(members, mastery_by_learner(conn, members), strict=True))

        return await self._call(run)

    async def mastery_probabilities(
        self, learner_id: str, skill_ids: Sequence[str] | None = None
    ) -> dict[str, float]:
        return await self._call(mastery_probabilities, learner_id, skill_ids)

    # -- tracer state ----------------------------------------------------------------------

    async def load_tracer_states(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[bytes | None]:
        def run(conn: sqlite3.Connection) -> list[bytes | None]:
            rows = conn.execute(
                "SELECT learner_id, state FROM tracer_states WHERE model_version = ?"
                " AND learner_id IN (SELECT value FROM json_each(?))",
                (model_version, ids_json(learner_ids)))
            found = {r[0]: bytes(r[1]) for r in rows}
            return [found.get(i) for i in learner_ids]

        return await self._call(run)

    async def save_tracer_states(self, states: Sequence[tuple[str, str, bytes]]) -> None:
        check_tracer_states(states)
        rows = [(lid, version, bytes(state)) for lid, version, state in states]

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "learners", "learner", {r[0] for r in rows})
            conn.executemany(
                "INSERT INTO tracer_states (learner_id, model_version, state, version)"
                " VALUES (?, ?, ?, 1) ON CONFLICT (learner_id, model_version)"
                " DO UPDATE SET state = excluded.state, version = version + 1", rows)

        await self._write(run)

    async def load_tracer_records(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[TracerRecord | None]:
        def run(conn: sqlite3.Connection) -> list[TracerRecord | None]:
            rows = conn.execute(
                "SELECT learner_id, state, version FROM tracer_states WHERE model_version = ?"
                " AND learner_id IN (SELECT value FROM json_each(?))",
                (model_version, ids_json(learner_ids)))
            found = {r[0]: TracerRecord(bytes(r[1]), int(r[2])) for r in rows}
            return [found.get(i) for i in learner_ids]

        return await self._call(run)

    async def save_traced(
        self, writes: Sequence[TracerWrite], mastery: Sequence[Mastery]
    ) -> tuple[str, ...]:
        check_traced(writes, mastery)
        values = [(m.learner_id, m.skill_id, float(m.probability), float(m.uncertainty),
                   to_us(m.updated_at, "updated_at"), m.model_version) for m in mastery]

        def run(conn: sqlite3.Connection) -> tuple[str, ...]:
            # BEGIN IMMEDIATE holds the database's write lock from the first statement, so no
            # other connection (or process) writes between the version check and the write
            require(conn, "learners", "learner", {w.learner_id for w in writes})
            require(conn, "skills", "skill", {v[1] for v in values})
            moved: list[str] = []
            for w in writes:
                if w.expected == 0:
                    cur = conn.execute(
                        "INSERT INTO tracer_states (learner_id, model_version, state, version)"
                        " VALUES (?, ?, ?, 1) ON CONFLICT (learner_id, model_version)"
                        " DO UPDATE SET state = excluded.state, version = 1"
                        " WHERE tracer_states.version = 0",
                        (w.learner_id, w.model_version, bytes(w.state)))
                else:
                    cur = conn.execute(
                        "UPDATE tracer_states SET state = ?, version = version + 1"
                        " WHERE learner_id = ? AND model_version = ? AND version = ?",
                        (bytes(w.state), w.learner_id, w.model_version, w.expected))
                if cur.rowcount != 1:
                    moved.append(w.learner_id)
            gone = set(moved)
            conn.executemany(
                f"INSERT OR REPLACE INTO mastery ({MASTERY_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                [v for v in values if v[0] not in gone])
            return tuple(moved)

        return await self._write(run)
