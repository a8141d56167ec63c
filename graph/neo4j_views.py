"""Views of lessons, videos and readings on Neo4j: idempotent on the client's view id, never
traced (see ``GraphStore.record_views``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from graph import checks, cypher
from graph import neo4j_core as core
from graph import neo4j_values as v
from graph.models import HistoryWindow, RecordResult, View, ViewPage, WindowRequest
from graph.neo4j_core import Tx
from graph.neo4j_history import Neo4jHistory
from graph.store import GraphStoreError, NotFoundError, ViewConflictError


def _row(w: View) -> dict[str, Any]:
    return {"id": w.view_id, "learner_id": w.learner_id, "item_id": w.item_id,
            "timestamp": v.utc(w.timestamp, "timestamp"),
            "seconds": None if w.seconds is None else int(w.seconds),
            "progress": float(w.progress)}


def view_row(p: dict[str, Any]) -> View:
    return View(view_id=p["id"], learner_id=p["learner_id"], item_id=p["item_id"],
                timestamp=v.to_datetime(p["timestamp"]), seconds=p.get("seconds"),
                progress=float(p["progress"]))


class Neo4jViews(Neo4jHistory):
    """The view methods of ``GraphStore`` on Neo4j."""

    async def record_views(
        self, views: Sequence[View], *, untimed: Collection[str] = ()
    ) -> RecordResult:
        """Two statements: check the learners and the items' kinds, then write the new ids and
        get the stored ones back to compare; a refusal rolls the transaction back."""
        checks.check_views(views)
        untimed = frozenset(untimed)
        rows = [_row(w) for w in views]
        first: dict[str, dict[str, Any]] = {}
        for row in rows:
            first.setdefault(row["id"], row)
        unique = list(first.values())

        async def work(tx: Tx) -> RecordResult:
            item_ids = sorted({r["item_id"] for r in rows})
            found = (await core.fetch(tx, cypher.VIEW_TARGETS, item_ids=item_ids,
                                      learner_ids=sorted({r["learner_id"] for r in rows})))[0]
            if found["missing_learners"]:
                raise NotFoundError("learner", sorted(found["missing_learners"]))
            kinds = {i["id"]: i["kind"] for i in found["items"]}
            missing = [i for i in item_ids if i not in kinds]
            if missing:
                raise NotFoundError("item", missing)
            checks.check_viewable(kinds)
            out = (await core.fetch(tx, cypher.INSERT_VIEWS, rows=unique))[0]
            stored = {p["id"]: view_row(p) for p in out["existing"]}
            new_ids = [r["id"] for r in unique if r["id"] not in stored]
            duplicates: list[str] = []
            conflicts: list[str] = []
            timestamps: dict[str, datetime] = {}
            seen: set[str] = set()
            for row in rows:
                vid = row["id"]
                if vid not in stored and vid not in seen:
                    seen.add(vid)
                    continue
                before = stored[vid] if vid in stored else view_row(first[vid])
                given = view_row(row)
                if before == given:
                    duplicates.append(vid)
                elif vid in untimed and before == replace(given, timestamp=before.timestamp):
                    duplicates.append(vid)
                    timestamps[vid] = before.timestamp
                else:
                    conflicts.append(vid)
            if conflicts:
                raise ViewConflictError(list(dict.fromkeys(conflicts)))
            if out["created"] != len(new_ids):
                raise GraphStoreError(  # only if a learner or item vanished mid-transaction
                    f"stored {out['created']} of {len(new_ids)} new views; retry the call")
            return RecordResult(stored=tuple(new_ids), duplicates=tuple(duplicates),
                                timestamps=timestamps)

        if not rows:
            return RecordResult(stored=(), duplicates=())
        try:
            return await self._tx(True, work)
        except core.ConstraintRace:
            return await self._tx(True, work)  # a concurrent call stored one of the ids first

    async def views_of(
        self, learner_id: str, *, limit: int = 50, cursor: str | None = None
    ) -> ViewPage:
        checks.check_limit(limit)
        found, more, _, _ = await self._history("View", learner_id, view_row, limit=limit,
                                                after=cursor, after_field="cursor")
        return ViewPage(tuple(w for w, _ in found), found[-1][1] if more else None)

    async def views_window(self, learner_id: str, window: WindowRequest
                             ) -> HistoryWindow[View]:
        return await self._window("View", learner_id, view_row, window)

    async def view_count(self, learner_id: str | None = None) -> int:
        if learner_id is None:
            rows = await self._read(cypher.VIEW_COUNT_ALL)
        else:
            rows = await self._read(cypher.VIEW_COUNT_OF, learner_id=learner_id)
        return int(rows[0]["n"])
