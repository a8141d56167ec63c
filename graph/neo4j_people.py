"""The people part of the Neo4j store: learners (with their goals), users, groups (with their
teachers and learners), and the look-ups between groups and their members."""

from __future__ import annotations

from collections.abc import Sequence

from graph import checks, cypher
from graph import neo4j_core as core
from graph import neo4j_values as v
from graph.models import Group, Learner, User
from graph.neo4j_core import Neo4jCore, Tx
from graph.store import UNSET, NotFoundError, Unset


class Neo4jPeople(Neo4jCore):
    """The learner, user and group methods of ``GraphStore`` on Neo4j."""

    # -- people ----------------------------------------------------------------------------

    async def get_learners(self, ids: Sequence[str]) -> list[Learner | None]:
        rows = await self._read_all(cypher.GET_LEARNERS, ids=list(ids))
        found = {r["learner"]["id"]: v.learner(r["learner"]) for r in rows}
        return [found.get(i) for i in ids]

    async def list_learners(self, *, after: str | None = None, limit: int = 100) -> list[Learner]:
        checks.check_limit(limit)
        rows = await self._read_all(cypher.LIST_LEARNERS, after=after or "", limit=limit)
        return [v.learner(r["learner"]) for r in rows]

    async def get_users(self, ids: Sequence[str]) -> list[User | None]:
        rows = await self._read_all(cypher.GET_USERS, ids=list(ids))
        found = {r["user"]["id"]: v.user(r["user"]) for r in rows}
        return [found.get(i) for i in ids]

    async def get_groups(self, ids: Sequence[str]) -> list[Group | None]:
        rows = await self._read_all(cypher.GET_GROUPS, ids=list(ids))
        found = {r["grp"]["id"]: v.group(r["grp"]) for r in rows}
        return [found.get(i) for i in ids]

    async def upsert_learners(self, learners: Sequence[Learner]) -> None:
        checks.check_learners(learners)
        rows = [v.learner_row(lr) for lr in learners]

        async def work(tx: Tx) -> None:
            await core.missing(tx, "Skill", "skill", {g for r in rows for g in r["goals"]})
            await core.fetch(tx, cypher.UPSERT_LEARNERS, rows=rows)

        await self._tx(True, work)

    async def update_learner(
        self,
        learner_id: str,
        *,
        display_name: str | Unset = UNSET,
        goals: Sequence[str] | Unset = UNSET,
        target_retention: float | None | Unset = UNSET,
    ) -> Learner:
        checks.check_learner_update(learner_id, display_name, goals, target_retention)
        props: dict[str, object] = {}
        if not isinstance(display_name, Unset):
            props["display_name"] = display_name
        if not isinstance(target_retention, Unset):
            props["target_retention"] = (
                None if target_retention is None else float(target_retention)
            )
        new_goals = None if isinstance(goals, Unset) else list(goals)

        async def work(tx: Tx) -> Learner:
            rows = await core.fetch(
                tx, cypher.UPDATE_LEARNER, id=learner_id, props=props, goals=new_goals
            )
            if not rows:
                raise NotFoundError("learner", [learner_id])
            # an unknown goal skill raises here, which rolls the update back
            await core.missing(tx, "Skill", "skill", set(new_goals or ()))
            return v.learner(rows[0]["learner"])

        return await self._tx(True, work)

    async def upsert_users(self, users: Sequence[User]) -> None:
        checks.check_users(users)
        rows = [v.user_props(u) for u in users]

        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.UPSERT_USERS, rows=rows)

        await self._tx(True, work)

    async def upsert_groups(self, groups: Sequence[Group]) -> None:
        checks.check_groups(groups)
        rows = [v.group_row(g) for g in groups]

        async def work(tx: Tx) -> None:
            members = {m for r in rows for m in r["learner_ids"]}
            await core.missing(tx, "Learner", "learner", members)
            await core.fetch(tx, cypher.UPSERT_GROUPS, rows=rows)

        await self._tx(True, work)

    async def rename_group(self, group_id: str, name: str) -> Group:
        checks.check_id("group.id", group_id, "a group")
        checks.check_text("group.name", name, group_id)

        async def work(tx: Tx) -> Group:
            rows = await core.fetch(tx, cypher.RENAME_GROUP, id=group_id, name=name)
            if not rows:
                raise NotFoundError("group", [group_id])
            return v.group(rows[0]["grp"])

        return await self._tx(True, work)

    async def remove_groups(self, ids: Sequence[str]) -> None:
        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.REMOVE_GROUPS, ids=list(ids))

        await self._tx(True, work)

    async def groups_of_teacher(self, teacher_id: str) -> list[Group]:
        rows = await self._read_all(cypher.GROUPS_OF_TEACHER, teacher_id=teacher_id)
        return [v.group(r["grp"]) for r in rows]

    async def groups_of_learners(self, learner_ids: Sequence[str]) -> list[list[Group]]:
        rows = await self._read_all(cypher.GROUPS_OF_LEARNERS, ids=list(dict.fromkeys(learner_ids)))
        grouped = core.by_key(rows, "lid", lambda r: v.group(r["grp"]))
        return [sorted(grouped.get(i, []), key=lambda g: g.id) for i in learner_ids]

    async def learners_of_groups(self, group_ids: Sequence[str]) -> list[list[Learner]]:
        rows = await self._read_all(cypher.LEARNERS_OF_GROUPS, ids=list(dict.fromkeys(group_ids)))
        grouped = core.by_key(rows, "gid", lambda r: v.learner(r["learner"]))
        return [sorted(grouped.get(i, []), key=lambda lr: lr.id) for i in group_ids]
