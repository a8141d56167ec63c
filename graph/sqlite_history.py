"""Keyset windows over a learner's history on SQLite, shared by attempts and views: both are
rows ``(id, learner_id, ..., ts_us, ...)`` listed newest first, ties by id descending, off an
index on ``(learner_id, ts_us DESC, id DESC)``.

A position is ``(ts_us, id)``; "older" is later in the listing. A forward window reads the
``limit + 1`` newest rows older than ``after``; a backward one the ``limit + 1`` oldest rows
newer than ``before``, reversed. The extra row says whether more lie beyond the window on its
far side; the near side is one ``EXISTS`` probe at the cursor (a row at or beyond it), so a
window costs two index seeks whatever the history's length.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from graph.checks import check_window_limit
from graph.models import HistoryWindow, WindowRequest
from graph.sqlite_rows import decode_cursor, encode_cursor

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HistoryTable:
    """Where a kind of history lives: its table, the id column and the selected columns
    (the id first; ``ts`` is the place of ``ts_us`` among them)."""

    table: str
    id_col: str
    cols: str
    ts: int


# The leading ``ts_us <=`` / ``>=`` bound is implied by the rest; it is there so that SQLite
# seeks the index to the cursor instead of walking it from the learner's first entry (the OR
# alone is no range: a window 10,000 rows deep cost 10,000 index steps).
def _older(id_col: str, *, inclusive: bool = False) -> str:
    return f"ts_us <= ? AND (ts_us < ? OR (ts_us = ? AND {id_col} {'<=' if inclusive else '<'} ?))"


def _newer(id_col: str, *, inclusive: bool = False) -> str:
    return f"ts_us >= ? AND (ts_us > ? OR (ts_us = ? AND {id_col} {'>=' if inclusive else '>'} ?))"


def _at(cursor: str, field: str = "cursor") -> list[Any]:
    ts_us, key = decode_cursor(cursor, field)
    return [ts_us, ts_us, ts_us, key]


def read_window(
    conn: sqlite3.Connection,
    t: HistoryTable,
    learner_id: str,
    *,
    limit: int,
    after: str | None = None,
    before: str | None = None,
    backward: bool = False,
    since_us: int | None = None,
    after_field: str = "after",
) -> tuple[list[Any], bool]:
    """The window's rows newest first, and whether more rows lie beyond its far side (older
    ones going forward, newer ones going backward); ``after_field`` names ``after`` in the
    error for a cursor this store did not issue."""
    where = ["learner_id = ?"]
    params: list[Any] = [learner_id]
    if since_us is not None:
        where.append("ts_us >= ?")
        params.append(since_us)
    if after is not None:
        where.append(_older(t.id_col))
        params += _at(after, after_field)
    if before is not None:
        where.append(_newer(t.id_col))
        params += _at(before, "before")
    order = "ASC" if backward else "DESC"
    rows: list[Any] = conn.execute(
        f"SELECT {t.cols} FROM {t.table} WHERE {' AND '.join(where)}"
        f" ORDER BY ts_us {order}, {t.id_col} {order} LIMIT ?", (*params, limit + 1)).fetchall()
    beyond = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    return rows, beyond


def _exists(conn: sqlite3.Connection, t: HistoryTable, learner_id: str, cond: str,
            cursor: str) -> bool:
    sql = f"SELECT EXISTS (SELECT 1 FROM {t.table} WHERE learner_id = ? AND {cond})"
    return bool(conn.execute(sql, (learner_id, *_at(cursor))).fetchone()[0])


def history_window(
    conn: sqlite3.Connection,
    t: HistoryTable,
    learner_id: str,
    convert: Callable[[Any], T],
    window: WindowRequest,
) -> HistoryWindow[T]:
    """``GraphStore.attempts_window`` / ``views_window`` for the history in ``t``."""
    limit, after, before, backward = window.limit, window.after, window.before, window.backward
    check_window_limit(limit)
    rows, beyond = read_window(conn, t, learner_id, limit=limit, after=after, before=before,
                               backward=backward)
    # a row at or newer than `after` lies before the window; at or older than `before`, after it
    newer = after is not None and _exists(conn, t, learner_id, _newer(t.id_col, inclusive=True),
                                          after)
    older = before is not None and _exists(conn, t, learner_id,
                                           _older(t.id_col, inclusive=True), before)
    return HistoryWindow(
        rows=tuple(convert(r) for r in rows),
        cursors=tuple(encode_cursor(r[t.ts], r[0]) for r in rows),
        has_newer=newer or (backward and beyond),
        has_older=older or (not backward and beyond),
    )
