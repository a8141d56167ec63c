"""The request's read on Neo4j: a learner's snapshot and the serving probe, one statement each
(one round trip, one read transaction)."""

from __future__ import annotations

from typing import Any

from graph import checks, cypher
from graph import neo4j_values as v
from graph.models import LearnerSnapshot, ServingProbe
from graph.neo4j_core import Neo4jCore
from graph.neo4j_views import view_row


def _probe(record: Any) -> ServingProbe:
    key = (record["props"] or {}).get("key")
    return ServingProbe(None if key is None else str(key), int(record["seq"]))


def _newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # a COLLECT subquery's rows are not promised in its ORDER BY's order: order them here
    return sorted(rows, key=lambda p: (p["timestamp"], p["id"]), reverse=True)


class Neo4jSnapshot(Neo4jCore):
    """``GraphStore.learner_snapshot`` and ``GraphStore.serving_probe`` on Neo4j."""

    async def serving_probe(self) -> ServingProbe:
        return _probe((await self._read(cypher.SERVING_PROBE))[0])

    async def learner_snapshot(
        self,
        learner_id: str,
        *,
        attempts: int,
        views: int = 0,
        tracer_model: str | None = None,
    ) -> LearnerSnapshot:
        checks.check_snapshot_counts(attempts, views)
        [r] = await self._read(
            cypher.LEARNER_SNAPSHOT,
            id=learner_id,
            attempts=attempts,
            views=views,
            tracer_model=tracer_model,
        )
        probe = _probe(r)
        if r["learner"] is None:
            return LearnerSnapshot(None, {}, (), (), None, probe)
        states = r["states"]
        return LearnerSnapshot(
            learner=v.learner(r["learner"]),
            mastery={sid: float(p) for sid, p in r["mastery"]},
            attempts=tuple(v.attempt(p) for p in _newest_first(r["attempts"])),
            views=tuple(view_row(p) for p in _newest_first(r["views"])),
            tracer_state=bytes(states[0]) if states else None,
            probe=probe,
        )
