"""Class goals on SQLite: the skills a teacher assigns to a whole group (``group_goals``)."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence

from graph.checks import check_group_goals
from graph.models import GroupGoal
from graph.sqlite_core import SqliteCore
from graph.sqlite_queries import require
from graph.sqlite_rows import from_us, ids_json, to_us

SET_GOALS = (
    "INSERT INTO group_goals (group_id, skill_id, position, due_us, note, set_by)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
GOALS_OF_GROUPS = (
    "SELECT group_id, skill_id, due_us, note, set_by FROM group_goals WHERE group_id IN"
    " (SELECT value FROM json_each(?)) ORDER BY group_id, position"
)


def _goals(conn: sqlite3.Connection, group_ids: Sequence[str]) -> dict[str, list[GroupGoal]]:
    found: dict[str, list[GroupGoal]] = defaultdict(list)
    for gid, skill, due, note, by in conn.execute(GOALS_OF_GROUPS, (ids_json(group_ids),)):
        found[gid].append(GroupGoal(skill, None if due is None else from_us(due), note, by))
    return found


class SqliteClasses(SqliteCore):
    """The class-goal methods of ``GraphStore`` on SQLite."""

    async def set_group_goals(
        self, group_id: str, goals: Sequence[GroupGoal]
    ) -> tuple[GroupGoal, ...]:
        check_group_goals(group_id, goals)
        rows = [
            (
                group_id,
                g.skill_id,
                pos,
                None if g.due_at is None else to_us(g.due_at, "group_goal.due_at"),
                g.note,
                g.set_by,
            )
            for pos, g in enumerate(goals)
        ]

        def run(conn: sqlite3.Connection) -> tuple[GroupGoal, ...]:
            require(conn, "groups", "group", [group_id])
            require(conn, "skills", "skill", [g.skill_id for g in goals])
            conn.execute("DELETE FROM group_goals WHERE group_id = ?", (group_id,))
            conn.executemany(SET_GOALS, rows)
            return tuple(_goals(conn, [group_id]).get(group_id, ()))

        return await self._write(run)

    async def group_goals(self, group_ids: Sequence[str]) -> list[tuple[GroupGoal, ...]]:
        def run(conn: sqlite3.Connection) -> list[tuple[GroupGoal, ...]]:
            found = _goals(conn, group_ids)
            return [tuple(found.get(g, ())) for g in group_ids]

        return await self._call(run)
