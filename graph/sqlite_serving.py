"""The serving part of the SQLite store: which tracer model serves it, and the background
jobs that switch it (``serving_model`` and ``tracer_activations``, migration 0005)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from graph.checks import check_activation, check_serving_key
from graph.models import ActivationState, TracerActivation
from graph.sqlite_core import SqliteCore
from graph.sqlite_rows import from_us, ids_json, to_us

_JOB_COLS = ("id, model_key, previous, state, progress, message, error, started_us, updated_us,"
             " finished_us, changed, learners, attempts, passes, missed")


def _job_values(job: TracerActivation) -> tuple[Any, ...]:
    return (job.id, job.key, job.previous, job.state.value, float(job.progress), job.message,
            job.error, to_us(job.started_at, "started_at"), to_us(job.updated_at, "updated_at"),
            None if job.finished_at is None else to_us(job.finished_at, "finished_at"),
            int(job.changed), job.learners, job.attempts, job.passes, job.missed)


def _job(row: sqlite3.Row) -> TracerActivation:
    return TracerActivation(
        id=row["id"], key=row["model_key"], state=ActivationState(row["state"]),
        started_at=from_us(row["started_us"]), updated_at=from_us(row["updated_us"]),
        previous=row["previous"], progress=float(row["progress"]), message=row["message"],
        error=row["error"],
        finished_at=None if row["finished_us"] is None else from_us(row["finished_us"]),
        changed=bool(row["changed"]), learners=int(row["learners"]),
        attempts=int(row["attempts"]), passes=int(row["passes"]), missed=int(row["missed"]))


class SqliteServing(SqliteCore):
    """The serving-model and activation-job methods of ``GraphStore`` on SQLite."""

    async def serving_model(self) -> str | None:
        def run(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT model_key FROM serving_model WHERE id = 1").fetchone()
            return None if row is None else row[0]

        return await self._call(run)

    async def set_serving_model(self, key: str | None) -> None:
        check_serving_key(key)
        now = self._now_us()

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO serving_model (id, model_key, updated_us) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET model_key = excluded.model_key,"
                " updated_us = excluded.updated_us", (key, now))

        await self._write(run)

    async def save_tracer_activation(self, job: TracerActivation) -> None:
        check_activation(job)
        values = _job_values(job)
        marks = ", ".join("?" * len(values))

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(f"INSERT OR REPLACE INTO tracer_activations ({_JOB_COLS})"
                         f" VALUES ({marks})", values)

        await self._write(run)

    async def get_tracer_activations(self, ids: Sequence[str]
                                     ) -> list[TracerActivation | None]:
        def run(conn: sqlite3.Connection) -> list[TracerActivation | None]:
            rows = conn.execute(
                f"SELECT {_JOB_COLS} FROM tracer_activations"
                " WHERE id IN (SELECT value FROM json_each(?))", (ids_json(ids),))
            found = {r["id"]: _job(r) for r in rows}
            return [found.get(i) for i in ids]

        return await self._call(run)
