"""The request's read on SQLite: a learner's snapshot and the serving probe, each one call on
the worker thread (one hop), the snapshot's statements in one read transaction (WAL: they
all see the same commit)."""

from __future__ import annotations

import sqlite3

from graph.checks import check_snapshot_counts
from graph.models import LearnerSnapshot, ServingProbe
from graph.sqlite_core import SqliteCore
from graph.sqlite_history import read_window
from graph.sqlite_learning import ATTEMPTS
from graph.sqlite_queries import load_learners, mastery_probabilities
from graph.sqlite_rows import attempt_row, ids_json
from graph.sqlite_views import VIEWS, view_row

_PROBE = (
    "SELECT (SELECT model_key FROM serving_model WHERE id = 1),"
    " (SELECT coalesce(max(seq), 0) FROM change_log)"
)


def _probe(conn: sqlite3.Connection) -> ServingProbe:
    key, seq = conn.execute(_PROBE).fetchone()
    return ServingProbe(key, int(seq))


class SqliteSnapshot(SqliteCore):
    """``GraphStore.learner_snapshot`` and ``GraphStore.serving_probe`` on SQLite."""

    async def serving_probe(self) -> ServingProbe:
        return await self._call(_probe)

    async def learner_snapshot(
        self,
        learner_id: str,
        *,
        attempts: int,
        views: int = 0,
        tracer_model: str | None = None,
    ) -> LearnerSnapshot:
        check_snapshot_counts(attempts, views)

        def run(conn: sqlite3.Connection) -> LearnerSnapshot:
            conn.execute("BEGIN")  # one read snapshot for every statement below
            try:
                probe = _probe(conn)
                found = load_learners(conn, ids_json([learner_id]))
                if not found:
                    return LearnerSnapshot(None, {}, (), (), None, probe)
                mastery = mastery_probabilities(conn, learner_id, None)
                tried = read_window(conn, ATTEMPTS, learner_id, limit=attempts)[0]
                seen = read_window(conn, VIEWS, learner_id, limit=views)[0] if views else []
                state = None
                if tracer_model is not None:
                    row = conn.execute(
                        "SELECT state FROM tracer_states"
                        " WHERE learner_id = ? AND model_version = ?",
                        (learner_id, tracer_model),
                    ).fetchone()
                    state = None if row is None else bytes(row[0])
            finally:
                conn.execute("COMMIT")
            return LearnerSnapshot(
                found[0],
                mastery,
                tuple(attempt_row(r) for r in tried),
                tuple(view_row(r) for r in seen),
                state,
                probe,
            )

        return await self._call(run)
