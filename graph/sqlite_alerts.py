"""Teachers' alerts on SQLite: each condition kept once by key (``GraphStore.raise_alerts``),
listed per learner, acknowledged once."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graph.checks import check_acknowledgement, check_alerts, check_id_list
from graph.models import StoredAlert
from graph.sqlite_core import SqliteCore
from graph.sqlite_queries import require
from graph.sqlite_rows import from_us, ids_json, to_us

ALERT_COLS = ("key, kind, learner_id, skill_id, root_cause_id, since_us, message, risk,"
              " reasons, raised_us, acknowledged_us, acknowledged_by")

#: a new key is stored; an open alert takes the new content and keeps raised_us; an
#: acknowledged one opens again only for a condition that began after the acknowledgement
UPSERT = f"""
INSERT INTO alerts ({ALERT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)
ON CONFLICT (key) DO UPDATE SET
  kind = excluded.kind, skill_id = excluded.skill_id, root_cause_id = excluded.root_cause_id,
  since_us = excluded.since_us, message = excluded.message, risk = excluded.risk,
  reasons = excluded.reasons,
  raised_us = CASE WHEN alerts.acknowledged_us IS NULL THEN alerts.raised_us
                   ELSE excluded.raised_us END,
  acknowledged_us = NULL, acknowledged_by = NULL
WHERE alerts.acknowledged_us IS NULL OR excluded.since_us > alerts.acknowledged_us
"""


def _values(a: StoredAlert) -> tuple[Any, ...]:
    return (a.key, a.kind, a.learner_id, a.skill_id, a.root_cause_id, to_us(a.since, "since"),
            a.message, a.risk, json.dumps(list(a.reasons)), to_us(a.raised_at, "raised_at"))


def _alert(r: Sequence[Any]) -> StoredAlert:
    return StoredAlert(
        key=r[0], kind=r[1], learner_id=r[2], skill_id=r[3], root_cause_id=r[4],
        since=from_us(r[5]), message=r[6], risk=r[7], reasons=tuple(json.loads(r[8])),
        raised_at=from_us(r[9]), acknowledged_at=None if r[10] is None else from_us(r[10]),
        acknowledged_by=r[11])


def _by_key(conn: sqlite3.Connection, keys: Sequence[str]) -> list[StoredAlert | None]:
    rows = conn.execute(f"SELECT {ALERT_COLS} FROM alerts"
                        " WHERE key IN (SELECT value FROM json_each(?))", (ids_json(keys),))
    found = {r[0]: _alert(r) for r in rows}
    return [found.get(k) for k in keys]


class SqliteAlerts(SqliteCore):
    """The alert methods of ``GraphStore`` on SQLite."""

    async def raise_alerts(self, alerts: Sequence[StoredAlert]) -> list[StoredAlert]:
        check_alerts(alerts)
        rows = [_values(a) for a in alerts]

        def run(conn: sqlite3.Connection) -> list[StoredAlert]:
            require(conn, "learners", "learner", {r[2] for r in rows})
            conn.executemany(UPSERT, rows)
            return [a for a in _by_key(conn, [r[0] for r in rows]) if a is not None]

        return await self._write(run) if rows else []

    async def get_alerts(self, keys: Sequence[str]) -> list[StoredAlert | None]:
        return await self._call(_by_key, list(keys))

    async def alerts_of(
        self, learner_ids: Sequence[str], *, acknowledged: bool | None = None
    ) -> list[StoredAlert]:
        learner_ids = list(dict.fromkeys(learner_ids))
        check_id_list("learner_ids", learner_ids, "learner", "alerts_of")
        state = {None: "", True: " AND acknowledged_us IS NOT NULL",
                 False: " AND acknowledged_us IS NULL"}[acknowledged]
        sql = (f"SELECT {ALERT_COLS} FROM alerts"
               f" WHERE learner_id IN (SELECT value FROM json_each(?)){state}"
               " ORDER BY since_us DESC, key")

        def run(conn: sqlite3.Connection) -> list[StoredAlert]:
            return [_alert(r) for r in conn.execute(sql, (ids_json(learner_ids),))]

        return await self._call(run)

    async def acknowledge_alert(self, key: str, *, by: str, at: datetime) -> StoredAlert | None:
        check_acknowledgement(key, by, at)
        at_us = to_us(at, "at")

        def run(conn: sqlite3.Connection) -> StoredAlert | None:
            conn.execute("UPDATE alerts SET acknowledged_us = ?, acknowledged_by = ?"
                         " WHERE key = ? AND acknowledged_us IS NULL", (at_us, by, key))
            return _by_key(conn, [key])[0]

        return await self._write(run)
