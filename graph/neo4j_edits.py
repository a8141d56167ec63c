"""Planned curriculum edits on Neo4j: the snapshot a plan reads, the whole diff written in
one transaction under the curriculum lock (with the learners' data of deleted skills archived,
and restored on undo), and the change log read by batch. See :mod:`graph.curriculum_edit`."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from graph import checks, cypher
from graph import neo4j_core as core
from graph import neo4j_values as v
from graph.curriculum_edit import Applied, CurriculumDiff, CurriculumMovedError, Snapshot
from graph.models import CurriculumChange, Prerequisite
from graph.neo4j_core import Change, Neo4jCore, Tx


class Neo4jEdits(Neo4jCore):
    """``GraphStore.curriculum_snapshot`` / ``apply_curriculum`` / ``change_batch`` on Neo4j."""

    async def last_change_seq(self) -> int:
        rows = await self._read(cypher.LAST_CHANGE_SEQ)
        return int(rows[0]["seq"])

    async def curriculum_snapshot(
        self, item_ids: Collection[str] = (), skill_ids: Collection[str] = ()
    ) -> Snapshot:
        [row] = await self._read(cypher.CURRICULUM_SNAPSHOT, item_ids=sorted(item_ids),
                                 skill_ids=sorted(skill_ids))
        skills = {p["id"]: v.skill(p) for p in row["skills"]}
        edges = {(a, b): Prerequisite(a, b, float(st)) for a, b, st in row["edges"]}
        items = {p["id"]: v.item(p) for p in row["items"]}
        return Snapshot(int(row["seq"]), skills, edges, items)

    async def _restore(self, tx: Tx, skill_id: str, batch: int) -> tuple[int, int, int]:
        found = await core.fetch(tx, cypher.ARCHIVE_GET, batch=batch, skill_id=skill_id)
        if not found:
            return (0, 0, 0)
        mastery = [dict(m, updated_at=v.to_datetime(m["updated_at"]))
                   for m in json.loads(found[0]["mastery"])]
        goals = [{"learner_id": lid, "pos": pos} for lid, pos in json.loads(found[0]["goals"])]
        m = await core.fetch(tx, cypher.RESTORE_MASTERY, rows=mastery)
        g = await core.fetch(tx, cypher.RESTORE_GOALS, rows=goals, skill_id=skill_id)
        classes = [dict(c, due_at=None if c["due_at"] is None else v.to_datetime(c["due_at"]),
                        set_by=c.get("set_by"))
                   for c in json.loads(found[0]["class_goals"] or "[]")]
        c = await core.fetch(tx, cypher.RESTORE_CLASS_GOALS, rows=classes, skill_id=skill_id)
        return tuple(int(r[0]["n"]) if r else 0 for r in (m, g, c))  # type: ignore[return-value]

    async def apply_curriculum(
        self, diff: CurriculumDiff, *, actor: str, base_seq: int
    ) -> Applied:
        checks.check_actor(actor)
        log: list[Change] = [(c.action, c.entity, c.entity_id, c.detail) for c in diff.changes]
        states = [(c.before, c.after) for c in diff.changes]

        async def work(tx: Tx) -> Applied:
            await core.fetch(tx, cypher.LOCK_CURRICULUM)  # serialises curriculum writes
            [row] = await core.fetch(tx, cypher.LAST_CHANGE_SEQ)
            if int(row["seq"]) != base_seq:
                raise CurriculumMovedError(base_seq, int(row["seq"]))
            batch = await self._append_changes(tx, actor, log, states)
            if batch is None:
                return Applied(None)
            await core.fetch(tx, cypher.REMOVE_PREREQUISITES,
                             rows=[{"source": s, "target": t} for s, t in diff.remove_edges])
            await core.fetch(tx, cypher.REMOVE_ITEMS, ids=list(diff.remove_items))
            archived: dict[str, tuple[int, int, int]] = {}
            if diff.remove_skills:
                rows: list[dict[str, Any]] = []
                for r in await core.fetch(tx, cypher.ARCHIVE_READ, ids=list(diff.remove_skills)):
                    rows.append({"skill_id": r["skill_id"], "mastery": json.dumps(r["mastery"]),
                                 "goals": json.dumps(r["goals"]),
                                 "class_goals": json.dumps(r["class_goals"])})
                    archived[r["skill_id"]] = (len(r["mastery"]), len(r["goals"]),
                                               len(r["class_goals"]))
                await core.fetch(tx, cypher.ARCHIVE_WRITE, rows=rows, batch=batch)
                await core.fetch(tx, cypher.REMOVE_SKILLS, ids=list(diff.remove_skills))
            await core.fetch(tx, cypher.UPSERT_SKILLS, rows=[v.skill_props(s) for s in diff.skills])
            await core.fetch(tx, cypher.UPSERT_PREREQUISITES,
                             rows=[v.prerequisite_row(e) for e in diff.edges])
            await core.fetch(tx, cypher.UPSERT_ITEMS, rows=[v.item_row(i) for i in diff.items])
            restored = {sid: await self._restore(tx, sid, b) for sid, b in diff.restore.items()}
            [written] = await core.fetch(tx, cypher.CHANGES_FROM, batch=batch)
            changes = tuple(v.change(r["change"]) for r in written["rows"])
            return Applied(batch, changes, archived, restored)

        return await self._tx(True, work)

    async def change_batch(self, seq: int) -> list[CurriculumChange]:
        rows = await self._read_all(cypher.CHANGE_BATCH, seq=seq)
        return [v.change(r["change"]) for r in rows]
