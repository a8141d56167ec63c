"""Class goals on Neo4j: (:Group)-[:CLASS_GOAL {pos, due_at, note, set_by}]->(:Skill)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from graph import checks, cypher
from graph import neo4j_core as core
from graph import neo4j_values as v
from graph.models import GroupGoal
from graph.neo4j_core import Neo4jCore, Tx


class Neo4jClasses(Neo4jCore):
    """The class-goal methods of ``GraphStore`` on Neo4j."""

    async def set_group_goals(
        self, group_id: str, goals: Sequence[GroupGoal]
    ) -> tuple[GroupGoal, ...]:
        checks.check_group_goals(group_id, goals)
        rows = [
            {
                "skill_id": g.skill_id,
                "pos": pos,
                "note": g.note,
                "set_by": g.set_by,
                "due_at": None if g.due_at is None else v.utc(g.due_at, "group_goal.due_at"),
            }
            for pos, g in enumerate(goals)
        ]

        async def work(tx: Tx) -> None:
            await core.missing(tx, "Group", "group", {group_id})
            await core.missing(tx, "Skill", "skill", {g.skill_id for g in goals})
            await core.fetch(tx, cypher.SET_GROUP_GOALS, group_id=group_id, rows=rows)

        await self._tx(True, work)
        (stored,) = await self.group_goals([group_id])
        return stored

    async def group_goals(self, group_ids: Sequence[str]) -> list[tuple[GroupGoal, ...]]:
        rows = await self._read_all(cypher.GROUP_GOALS, ids=list(dict.fromkeys(group_ids)))
        found: dict[str, list[GroupGoal]] = defaultdict(list)
        for r in rows:
            due = None if r["due_at"] is None else v.to_datetime(r["due_at"])
            found[r["gid"]].append(GroupGoal(r["skill_id"], due, r["note"], r["set_by"]))
        return [tuple(found.get(g, ())) for g in group_ids]
