"""Views of lessons, videos and readings on SQLite: idempotent on the client's view id, never
traced (see ``GraphStore.record_views``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from graph.checks import check_limit, check_viewable, check_views
from graph.models import HistoryWindow, RecordResult, View, ViewPage, WindowRequest
from graph.sqlite_core import SqliteCore
from graph.sqlite_history import HistoryTable, history_window, read_window
from graph.sqlite_queries import require
from graph.sqlite_rows import encode_cursor, from_us, ids_json, to_us
from graph.store import NotFoundError, ViewConflictError

VIEW_COLS = "view_id, learner_id, item_id, ts_us, seconds, progress"
#: the timestamp's place in a view row (``VIEW_COLS``)
TS = 3
VIEWS = HistoryTable("item_views", "view_id", VIEW_COLS, TS)


def _values(w: View) -> tuple[Any, ...]:
    return (w.view_id, w.learner_id, w.item_id, to_us(w.timestamp, "timestamp"),
            None if w.seconds is None else int(w.seconds), float(w.progress))


def view_row(r: Sequence[Any]) -> View:
    return View(view_id=r[0], learner_id=r[1], item_id=r[2], timestamp=from_us(r[3]),
                seconds=r[4], progress=r[5])


class SqliteViews(SqliteCore):
    """The view methods of ``GraphStore`` on SQLite."""

    async def record_views(
        self, views: Sequence[View], *, untimed: Collection[str] = ()
    ) -> RecordResult:
        check_views(views)
        rows = [_values(w) for w in views]
        untimed = frozenset(untimed)

        def run(conn: sqlite3.Connection) -> RecordResult:
            require(conn, "learners", "learner", {r[1] for r in rows})
            item_ids = sorted({r[2] for r in rows})
            kinds = {r[0]: r[1] for r in conn.execute(
                "SELECT id, kind FROM items WHERE id IN (SELECT value FROM json_each(?))",
                (ids_json(item_ids),))}
            missing = [i for i in item_ids if i not in kinds]
            if missing:
                raise NotFoundError("item", missing)
            check_viewable(kinds)
            stored = {r[0]: tuple(r) for r in conn.execute(
                f"SELECT {VIEW_COLS} FROM item_views"
                " WHERE view_id IN (SELECT value FROM json_each(?))",
                (ids_json(r[0] for r in rows),))}
            new: list[tuple[Any, ...]] = []
            duplicates: list[str] = []
            conflicts: list[str] = []
            timestamps: dict[str, datetime] = {}
            for row in rows:
                vid = row[0]
                seen = stored.get(vid)
                if seen is None:
                    stored[vid] = row
                    new.append(row)
                elif seen == row:
                    duplicates.append(vid)
                elif vid in untimed and seen[:TS] + seen[TS + 1:] == row[:TS] + row[TS + 1:]:
                    duplicates.append(vid)  # the same view, its time filled in again
                    timestamps[vid] = from_us(seen[TS])
                else:
                    conflicts.append(vid)
            if conflicts:
                raise ViewConflictError(list(dict.fromkeys(conflicts)))
            conn.executemany(f"INSERT INTO item_views ({VIEW_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                             new)
            return RecordResult(stored=tuple(r[0] for r in new), duplicates=tuple(duplicates),
                                timestamps=timestamps)

        return await self._write(run)

    async def views_of(
        self, learner_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> ViewPage:
        check_limit(limit)

        def run(conn: sqlite3.Connection) -> ViewPage:
            rows, more = read_window(conn, VIEWS, learner_id, limit=limit, after=cursor,
                                     after_field="cursor")
            nxt = encode_cursor(rows[-1][TS], rows[-1][0]) if more else None
            return ViewPage(tuple(view_row(r) for r in rows), nxt)

        return await self._call(run)

    async def views_window(self, learner_id: str, window: WindowRequest
                             ) -> HistoryWindow[View]:
        return await self._call(history_window, VIEWS, learner_id, view_row, window)

    async def view_count(self, learner_id: str | None = None) -> int:
        def run(conn: sqlite3.Connection) -> int:
            if learner_id is None:
                return int(conn.execute("SELECT count(*) FROM item_views").fetchone()[0])
            return int(conn.execute("SELECT count(*) FROM item_views WHERE learner_id = ?",
                                    (learner_id,)).fetchone()[0])

        return await self._call(run)
