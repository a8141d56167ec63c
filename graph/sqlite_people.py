"""The people part of the SQLite store: learners (with their goals), users and groups (with
their teachers and learners), and the look-ups between groups and their members."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from graph.checks import (
    check_groups,
    check_id,
    check_learner_update,
    check_learners,
    check_limit,
    check_text,
    check_users,
)
from graph.models import Group, Learner, Role, User
from graph.sqlite_core import SqliteCore
from graph.sqlite_queries import grouped, learner_page, load_groups, load_learners, require
from graph.sqlite_rows import ids_json, in_order, last_per_id
from graph.store import UNSET, NotFoundError, Unset


class SqlitePeople(SqliteCore):
    """The learner, user and group methods of ``GraphStore`` on SQLite."""

    # -- reads -----------------------------------------------------------------------------

    async def get_learners(self, ids: Sequence[str]) -> list[Learner | None]:
        def run(conn: sqlite3.Connection) -> list[Learner | None]:
            return in_order(ids, load_learners(conn, ids_json(ids)))

        return await self._call(run)

    async def list_learners(self, *, after: str | None = None, limit: int = 100) -> list[Learner]:
        check_limit(limit)
        return await self._call(learner_page, after, limit)

    async def get_users(self, ids: Sequence[str]) -> list[User | None]:
        def run(conn: sqlite3.Connection) -> list[User | None]:
            rows = conn.execute(
                "SELECT id, display_name, role FROM users"
                " WHERE id IN (SELECT value FROM json_each(?))",
                (ids_json(ids),),
            )
            return in_order(ids, (User(r[0], r[1], Role(r[2])) for r in rows))

        return await self._call(run)

    async def get_groups(self, ids: Sequence[str]) -> list[Group | None]:
        def run(conn: sqlite3.Connection) -> list[Group | None]:
            return in_order(
                ids, load_groups(conn, "id IN (SELECT value FROM json_each(?))", (ids_json(ids),))
            )

        return await self._call(run)

    async def groups_of_teacher(self, teacher_id: str) -> list[Group]:
        def run(conn: sqlite3.Connection) -> list[Group]:
            return load_groups(
                conn,
                "id IN (SELECT group_id FROM group_teachers WHERE teacher_id = ?)",
                (teacher_id,),
            )

        return await self._call(run)

    async def groups_of_learners(self, learner_ids: Sequence[str]) -> list[list[Group]]:
        def run(conn: sqlite3.Connection) -> list[list[Group]]:
            links = [
                (r[0], r[1])
                for r in conn.execute(
                    "SELECT learner_id, group_id FROM group_learners"
                    " WHERE learner_id IN (SELECT value FROM json_each(?))",
                    (ids_json(learner_ids),),
                )
            ]
            groups = {
                g.id: g
                for g in load_groups(
                    conn,
                    "id IN (SELECT value FROM json_each(?))",
                    (ids_json({gid for _, gid in links}),),
                )
            }
            return grouped(learner_ids, links, groups)

        return await self._call(run)

    async def learners_of_groups(self, group_ids: Sequence[str]) -> list[list[Learner]]:
        def run(conn: sqlite3.Connection) -> list[list[Learner]]:
            links = [
                (r[0], r[1])
                for r in conn.execute(
                    "SELECT group_id, learner_id FROM group_learners"
                    " WHERE group_id IN (SELECT value FROM json_each(?))",
                    (ids_json(group_ids),),
                )
            ]
            learners = {
                lr.id: lr for lr in load_learners(conn, ids_json({lid for _, lid in links}))
            }
            return grouped(group_ids, links, learners)

        return await self._call(run)

    # -- writes ----------------------------------------------------------------------------

    async def upsert_learners(self, learners: Sequence[Learner]) -> None:
        check_learners(learners)
        learners = last_per_id(learners)
        goals = {g for learner in learners for g in learner.goals}

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "skills", "skill", goals)
            conn.executemany(
                "INSERT INTO learners (id, display_name, target_retention) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,"
                " target_retention = excluded.target_retention",
                [(lr.id, lr.display_name, lr.target_retention) for lr in learners],
            )
            conn.execute(
                "DELETE FROM learner_goals WHERE learner_id IN (SELECT value FROM json_each(?))",
                (ids_json(lr.id for lr in learners),),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO learner_goals (learner_id, skill_id, position)"
                " VALUES (?, ?, ?)",
                [(lr.id, g, pos) for lr in learners for pos, g in enumerate(lr.goals)],
            )

        await self._write(run)

    async def update_learner(
        self,
        learner_id: str,
        *,
        display_name: str | Unset = UNSET,
        goals: Sequence[str] | Unset = UNSET,
        target_retention: float | None | Unset = UNSET,
    ) -> Learner:
        check_learner_update(learner_id, display_name, goals, target_retention)
        changes: dict[str, object] = {}  # column -> value; the column names are fixed here
        if not isinstance(display_name, Unset):
            changes["display_name"] = display_name
        if not isinstance(target_retention, Unset):
            changes["target_retention"] = (
                None if target_retention is None else float(target_retention)
            )
        new_goals = None if isinstance(goals, Unset) else list(goals)

        def run(conn: sqlite3.Connection) -> Learner:
            # one transaction on the worker thread: the read of the result and every write
            # see no other writer in between
            if (
                conn.execute("SELECT 1 FROM learners WHERE id = ?", (learner_id,)).fetchone()
                is None
            ):
                raise NotFoundError("learner", [learner_id])
            if changes:
                assigned = ", ".join(f"{column} = ?" for column in changes)
                conn.execute(
                    f"UPDATE learners SET {assigned} WHERE id = ?", (*changes.values(), learner_id)
                )
            if new_goals is not None:
                require(conn, "skills", "skill", new_goals)
                conn.execute("DELETE FROM learner_goals WHERE learner_id = ?", (learner_id,))
                conn.executemany(
                    "INSERT INTO learner_goals (learner_id, skill_id, position) VALUES (?, ?, ?)",
                    [(learner_id, g, pos) for pos, g in enumerate(new_goals)],
                )
            (learner,) = load_learners(conn, ids_json([learner_id]))
            return learner

        return await self._write(run)

    async def upsert_users(self, users: Sequence[User]) -> None:
        check_users(users)
        rows = [(u.id, u.display_name, Role(u.role).value) for u in users]

        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO users (id, display_name, role) VALUES (?, ?, ?) ON CONFLICT (id)"
                " DO UPDATE SET display_name = excluded.display_name, role = excluded.role",
                rows,
            )

        await self._write(run)

    async def upsert_groups(self, groups: Sequence[Group]) -> None:
        check_groups(groups)
        groups = last_per_id(groups)
        learner_ids = {lid for g in groups for lid in g.learner_ids}
        wanted = ids_json(g.id for g in groups)

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "learners", "learner", learner_ids)
            conn.executemany(
                "INSERT INTO groups (id, name) VALUES (?, ?) ON CONFLICT (id)"
                " DO UPDATE SET name = excluded.name",
                [(g.id, g.name) for g in groups],
            )
            for table, column, members in (
                ("group_teachers", "teacher_id", {g.id: g.teacher_ids for g in groups}),
                ("group_learners", "learner_id", {g.id: g.learner_ids for g in groups}),
            ):
                conn.execute(
                    f"DELETE FROM {table} WHERE group_id IN (SELECT value FROM json_each(?))",
                    (wanted,),
                )
                conn.executemany(
                    f"INSERT OR REPLACE INTO {table} (group_id, {column}, position)"
                    " VALUES (?, ?, ?)",
                    [(gid, m, pos) for gid, ids in members.items() for pos, m in enumerate(ids)],
                )

        await self._write(run)

    async def rename_group(self, group_id: str, name: str) -> Group:
        check_id("group.id", group_id, "a group")
        check_text("group.name", name, group_id)

        def run(conn: sqlite3.Connection) -> Group:
            if (
                conn.execute("UPDATE groups SET name = ? WHERE id = ?", (name, group_id)).rowcount
                == 0
            ):
                raise NotFoundError("group", [group_id])
            (group,) = load_groups(conn, "id = ?", (group_id,))
            return group

        return await self._write(run)

    async def remove_groups(self, ids: Sequence[str]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM groups WHERE id IN (SELECT value FROM json_each(?))", (ids_json(ids),)
            )

        await self._write(run)
