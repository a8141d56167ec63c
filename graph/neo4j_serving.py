"""The serving part of the Neo4j store: which tracer model serves it (one ``:ServingModel``
node) and the background jobs that switch it (``:TracerActivation`` nodes), migration 0003."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graph import checks, cypher
from graph import neo4j_core as core
from graph.models import ActivationState, TracerActivation
from graph.neo4j_core import Neo4jCore, Tx
from graph.sqlite_rows import from_us, to_us


def _job_row(job: TracerActivation) -> dict[str, Any]:
    return {"id": job.id, "key": job.key, "previous": job.previous, "state": job.state.value,
            "progress": float(job.progress), "message": job.message, "error": job.error,
            "started_us": to_us(job.started_at, "started_at"),
            "updated_us": to_us(job.updated_at, "updated_at"),
            "finished_us": None if job.finished_at is None
            else to_us(job.finished_at, "finished_at"),
            "changed": bool(job.changed), "learners": job.learners, "attempts": job.attempts,
            "passes": job.passes, "missed": job.missed}


def _job(p: dict[str, Any]) -> TracerActivation:
    finished = p.get("finished_us")
    return TracerActivation(
        id=p["id"], key=p["key"], state=ActivationState(p["state"]),
        started_at=from_us(int(p["started_us"])), updated_at=from_us(int(p["updated_us"])),
        previous=p["previous"], progress=float(p["progress"]), message=p["message"],
        error=p.get("error"), finished_at=None if finished is None else from_us(int(finished)),
        changed=bool(p["changed"]), learners=int(p["learners"]), attempts=int(p["attempts"]),
        passes=int(p["passes"]), missed=int(p["missed"]))


class Neo4jServing(Neo4jCore):
    """The serving-model and activation-job methods of ``GraphStore`` on Neo4j."""

    async def serving_model(self) -> str | None:
        key = ((await self._read(cypher.SERVING_MODEL))[0]["props"] or {}).get("key")
        return None if key is None else str(key)

    async def set_serving_model(self, key: str | None) -> None:
        checks.check_serving_key(key)
        now_us = to_us(self._clock(), "clock")

        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.SET_SERVING_MODEL, key=key, now_us=now_us)

        await self._tx(True, work)

    async def save_tracer_activation(self, job: TracerActivation) -> None:
        checks.check_activation(job)
        row = _job_row(job)

        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.SAVE_TRACER_ACTIVATION, row=row)

        try:
            await self._tx(True, work)
        except core.ConstraintRace:  # the first save of this id raced another: now it exists
            await self._tx(True, work)

    async def get_tracer_activations(self, ids: Sequence[str]
                                     ) -> list[TracerActivation | None]:
        rows = await self._read_all(cypher.GET_TRACER_ACTIVATIONS, ids=list(dict.fromkeys(ids)))
        found = {r["id"]: _job(r) for r in rows}
        return [found.get(i) for i in ids]
