"""Teachers' alerts on Neo4j: each condition kept once by key (``GraphStore.raise_alerts``),
listed per learner, acknowledged once (the Cypher is in :mod:`graph.cypher`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graph import checks, cypher
from graph import neo4j_core as core
from graph import neo4j_values as v
from graph.models import StoredAlert
from graph.neo4j_core import Neo4jCore, Tx
from graph.store import GraphStoreError


def _row(a: StoredAlert) -> dict[str, Any]:
    return {"key": a.key, "kind": a.kind, "learner_id": a.learner_id, "skill_id": a.skill_id,
            "root_cause_id": a.root_cause_id, "since": v.utc(a.since, "since"),
            "message": a.message, "risk": a.risk, "reasons": json.dumps(list(a.reasons)),
            "raised_at": v.utc(a.raised_at, "raised_at")}


def _alert(p: dict[str, Any]) -> StoredAlert:
    at = p.get("acknowledged_at")
    return StoredAlert(
        key=p["key"], kind=p["kind"], learner_id=p["learner_id"], skill_id=p.get("skill_id"),
        root_cause_id=p.get("root_cause_id"), since=v.to_datetime(p["since"]),
        message=p["message"], risk=p.get("risk"), reasons=tuple(json.loads(p["reasons"])),
        raised_at=v.to_datetime(p["raised_at"]),
        acknowledged_at=None if at is None else v.to_datetime(at),
        acknowledged_by=p.get("acknowledged_by"))


def _in_order(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[StoredAlert | None]:
    found = {p["key"]: _alert(p) for p in rows}
    return [found.get(k) for k in keys]


class Neo4jAlerts(Neo4jCore):
    """The alert methods of ``GraphStore`` on Neo4j."""

    async def raise_alerts(self, alerts: Sequence[StoredAlert]) -> list[StoredAlert]:
        checks.check_alerts(alerts)
        rows = [_row(a) for a in alerts]
        keys = [r["key"] for r in rows]

        async def work(tx: Tx) -> list[StoredAlert]:
            written = (await core.fetch(tx, cypher.RAISE_ALERTS, rows=rows))[0]["written"]
            if written != len(rows):  # diagnose, raise, roll back
                await core.missing(tx, "Learner", "learner", {r["learner_id"] for r in rows})
                raise GraphStoreError(f"kept {written} of {len(rows)} alerts; retry the call")
            found = (await core.fetch(tx, cypher.ALERTS_BY_KEY, keys=keys))[0]["rows"]
            return [a for a in _in_order(found, keys) if a is not None]

        if not rows:
            return []
        try:
            return await self._tx(True, work)
        except core.ConstraintRace:
            return await self._tx(True, work)  # a concurrent call kept one of the keys first

    async def get_alerts(self, keys: Sequence[str]) -> list[StoredAlert | None]:
        rows = await self._read_all(cypher.ALERTS_BY_KEY, keys=list(keys))
        return _in_order(rows, list(keys))

    async def alerts_of(
        self, learner_ids: Sequence[str], *, acknowledged: bool | None = None
    ) -> list[StoredAlert]:
        ids = list(dict.fromkeys(learner_ids))
        checks.check_id_list("learner_ids", ids, "learner", "alerts_of")
        rows = await self._read_all(cypher.alerts_of(acknowledged), ids=ids)
        return [_alert(p) for p in rows]

    async def acknowledge_alert(self, key: str, *, by: str, at: datetime) -> StoredAlert | None:
        checks.check_acknowledgement(key, by, at)

        async def work(tx: Tx) -> StoredAlert | None:
            rows = (await core.fetch(tx, cypher.ACKNOWLEDGE_ALERT, key=key, by=by,
                                     at=v.utc(at, "at")))[0]["rows"]
            return _alert(rows[0]) if rows else None

        return await self._tx(True, work)
