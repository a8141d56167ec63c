"""The curriculum part of the SQLite store: skills, items, prerequisite edges, their reads
and graph walks, their writes (each logged in the change log) and the change log itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from graph.checks import (
    check_actor,
    check_after_seq,
    check_depth,
    check_items,
    check_kind,
    check_limit,
    check_prerequisites,
    check_skills,
)
from graph.models import (
    CurriculumChange,
    Item,
    ItemKind,
    Prerequisite,
    PrerequisiteGraph,
    Skill,
)
from graph.sqlite_core import SqliteCore
from graph.sqlite_queries import (
    append_log,
    closure,
    delete_present,
    edges_by,
    grouped,
    load_items,
    require,
    write_edges,
    write_items,
    write_skills,
)
from graph.sqlite_rows import (
    CHANGE_COLS,
    SKILL_COLS,
    change_row,
    find_cycle,
    ids_json,
    in_order,
    last_per_id,
    skill_row,
)
from graph.store import CycleError


class SqliteCurriculum(SqliteCore):
    """The curriculum methods of ``GraphStore`` on SQLite."""

    # -- reads -----------------------------------------------------------------------------

    async def get_skills(self, ids: Sequence[str]) -> list[Skill | None]:
        def run(conn: sqlite3.Connection) -> list[Skill | None]:
            rows = conn.execute(
                f"SELECT {SKILL_COLS} FROM skills WHERE id IN (SELECT value FROM json_each(?))",
                (ids_json(ids),),
            )
            return in_order(ids, (skill_row(r) for r in rows))

        return await self._call(run)

    async def get_items(self, ids: Sequence[str]) -> list[Item | None]:
        def run(conn: sqlite3.Connection) -> list[Item | None]:
            return in_order(ids, load_items(conn, "id IN (SELECT value FROM json_each(?))",
                                            (ids_json(ids),)))

        return await self._call(run)

    async def list_skills(
        self,
        *,
        topic: str | None = None,
        area: str | None = None,
        search: str | None = None,
        has_prerequisite: bool | None = None,
        after: str | None = None,
        limit: int = 100,
        before: str | None = None,
        backward: bool = False,
    ) -> list[Skill]:
        check_limit(limit)
        where, params = _skill_filters(topic, area, search, has_prerequisite)
        _id_bounds(where, params, after, before)
        order = "DESC" if backward else "ASC"
        sql = (f"SELECT {SKILL_COLS} FROM skills WHERE {' AND '.join(where)}"
               f" ORDER BY id {order} LIMIT ?")

        def run(conn: sqlite3.Connection) -> list[Skill]:
            found = [skill_row(r) for r in conn.execute(sql, (*params, limit))]
            return found[::-1] if backward else found

        return await self._call(run)

    async def count_skills(
        self,
        *,
        topic: str | None = None,
        area: str | None = None,
        search: str | None = None,
        has_prerequisite: bool | None = None,
    ) -> int:
        where, params = _skill_filters(topic, area, search, has_prerequisite)
        sql = f"SELECT count(*) FROM skills WHERE {' AND '.join(where)}"

        def run(conn: sqlite3.Connection) -> int:
            return int(conn.execute(sql, params).fetchone()[0])

        return await self._call(run)

    async def list_items(
        self,
        *,
        skill_id: str | None = None,
        kind: ItemKind | None = None,
        after: str | None = None,
        limit: int = 100,
        before: str | None = None,
        backward: bool = False,
    ) -> list[Item]:
        check_limit(limit)
        where, params = _item_filters(skill_id, kind)
        _id_bounds(where, params, after, before)

        def run(conn: sqlite3.Connection) -> list[Item]:
            found = load_items(conn, " AND ".join(where), params, limit=limit,
                               descending=backward)
            return found[::-1] if backward else found

        return await self._call(run)

    async def count_items(
        self, *, skill_id: str | None = None, kind: ItemKind | None = None
    ) -> int:
        where, params = _item_filters(skill_id, kind)
        sql = f"SELECT count(*) FROM items WHERE {' AND '.join(where)}"

        def run(conn: sqlite3.Connection) -> int:
            return int(conn.execute(sql, params).fetchone()[0])

        # a page of up to 1,000 items is a long read (a cache rebuild pages the whole
        # catalogue): on the second connection, so the worker thread keeps serving requests
        return await self._read_aside(run)

    async def items_for_skills(self, skill_ids: Sequence[str]) -> list[list[Item]]:
        def run(conn: sqlite3.Connection) -> list[list[Item]]:
            links = [(r[0], r[1]) for r in conn.execute(
                "SELECT skill_id, item_id FROM item_skills"
                " WHERE skill_id IN (SELECT value FROM json_each(?))", (ids_json(skill_ids),))]
            items = {i.id: i for i in load_items(
                conn, "id IN (SELECT value FROM json_each(?))",
                (ids_json(sorted({item_id for _, item_id in links})),))}
            return grouped(skill_ids, links, items)

        return await self._call(run)

    async def prerequisite_graph(self) -> PrerequisiteGraph:
        def run(conn: sqlite3.Connection) -> PrerequisiteGraph:
            skills = conn.execute(f"SELECT {SKILL_COLS} FROM skills ORDER BY id")
            edges = conn.execute(
                "SELECT source, target, strength FROM prerequisites ORDER BY source, target"
            )
            return PrerequisiteGraph(
                skills=tuple(skill_row(r) for r in skills),
                edges=tuple(Prerequisite(r[0], r[1], r[2]) for r in edges),
            )

        return await self._read_aside(run)  # the whole graph: a long read, as above

    async def prerequisites_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        return await self._call(edges_by, "target", skill_ids)

    async def dependents_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        return await self._call(edges_by, "source", skill_ids)

    async def ancestors(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        check_depth(depth)
        return await self._call(closure, skill_ids, depth, "source", "target")

    async def descendants(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        check_depth(depth)
        return await self._call(closure, skill_ids, depth, "target", "source")

    # -- writes ----------------------------------------------------------------------------

    async def upsert_skills(self, skills: Sequence[Skill], *, actor: str) -> None:
        check_actor(actor)
        check_skills(skills)
        log = [("upsert", "skill", s.id, {"name": s.name, "topic": s.topic, "area": s.area})
               for s in skills]
        at = self._now_us()

        def run(conn: sqlite3.Connection) -> None:
            write_skills(conn, skills)
            append_log(conn, actor, at, log)

        await self._write(run)

    async def upsert_items(self, items: Sequence[Item], *, actor: str) -> None:
        check_actor(actor)
        check_items(items)
        items = last_per_id(items)
        skill_ids = {w.skill_id for item in items for w in item.skills}
        at = self._now_us()
        log = [("upsert", "item", i.id, {"kind": ItemKind(i.kind).value, "title": i.title,
                "skills": [w.skill_id for w in i.skills]}) for i in items]

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "skills", "skill", skill_ids)
            write_items(conn, items)
            append_log(conn, actor, at, log)

        await self._write(run)

    async def upsert_prerequisites(self, edges: Sequence[Prerequisite], *, actor: str) -> None:
        check_actor(actor)
        check_prerequisites(edges)
        new = [(e.source, e.target) for e in edges]
        log = [("upsert", "prerequisite", f"{e.source}->{e.target}",
                {"source": e.source, "target": e.target, "strength": float(e.strength)})
               for e in edges]
        at = self._now_us()

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "skills", "skill", {s for pair in new for s in pair})
            stored = conn.execute("SELECT source, target FROM prerequisites").fetchall()
            cycle = find_cycle([(r[0], r[1]) for r in stored] + new, new)
            if cycle:
                raise CycleError(cycle)
            write_edges(conn, edges)
            append_log(conn, actor, at, log)

        await self._write(run)

    async def remove_skills(self, ids: Sequence[str], *, actor: str) -> None:
        check_actor(actor)
        at = self._now_us()

        def run(conn: sqlite3.Connection) -> None:
            # the edges go with their skills (ON DELETE CASCADE): read them first, for the log
            edges = conn.execute(
                "SELECT source, target FROM prerequisites WHERE source IN (SELECT value FROM"
                " json_each(?1)) OR target IN (SELECT value FROM json_each(?1))"
                " ORDER BY source, target", (ids_json(ids),)).fetchall()
            removed = delete_present(conn, "skills", ids)
            log = [("remove", "prerequisite", f"{s}->{t}", {"source": s, "target": t})
                   for s, t in edges]
            log += [("remove", "skill", i, {}) for i in removed]
            append_log(conn, actor, at, log)

        await self._write(run)

    async def remove_items(self, ids: Sequence[str], *, actor: str) -> None:
        check_actor(actor)
        at = self._now_us()

        def run(conn: sqlite3.Connection) -> None:
            removed = delete_present(conn, "items", ids)
            append_log(conn, actor, at, [("remove", "item", i, {}) for i in removed])

        await self._write(run)

    async def remove_prerequisites(
        self, edges: Sequence[tuple[str, str]], *, actor: str
    ) -> None:
        check_actor(actor)
        at = self._now_us()
        pairs = list(dict.fromkeys((s, t) for s, t in edges))

        def run(conn: sqlite3.Connection) -> None:
            log = []
            for s, t in pairs:
                cur = conn.execute(
                    "DELETE FROM prerequisites WHERE source = ? AND target = ?", (s, t))
                if cur.rowcount:
                    log.append(("remove", "prerequisite", f"{s}->{t}", {"source": s, "target": t}))
            append_log(conn, actor, at, log)

        await self._write(run)

    async def change_log(
        self, *, after_seq: int = 0, limit: int = 100
    ) -> list[CurriculumChange]:
        check_limit(limit)
        check_after_seq(after_seq)

        def run(conn: sqlite3.Connection) -> list[CurriculumChange]:
            rows = conn.execute(
                f"SELECT {CHANGE_COLS} FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit))
            return [change_row(r) for r in rows]

        return await self._call(run)


def _skill_filters(
    topic: str | None, area: str | None, search: str | None, has_prerequisite: bool | None
) -> tuple[list[str], list[Any]]:
    where: list[str] = ["1"]
    params: list[Any] = []
    for column, value in (("topic", topic), ("area", area)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if search is not None:
        where.append("instr(lg_lower(name), ?) > 0")
        params.append(search.lower())
    if has_prerequisite is not None:
        neg = "" if has_prerequisite else "NOT "
        where.append(f"{neg}EXISTS (SELECT 1 FROM prerequisites p WHERE p.target = skills.id)")
    return where, params


def _item_filters(skill_id: str | None, kind: ItemKind | None) -> tuple[list[str], list[Any]]:
    where: list[str] = ["1"]
    params: list[Any] = []
    if skill_id is not None:
        where.append("id IN (SELECT item_id FROM item_skills WHERE skill_id = ?)")
        params.append(skill_id)
    if kind is not None:
        where.append("kind = ?")
        params.append(check_kind(kind).value)
    return where, params


def _id_bounds(where: list[str], params: list[Any], after: str | None, before: str | None) -> None:
    if after is not None:
        where.append("id > ?")
        params.append(after)
    if before is not None:
        where.append("id < ?")
        params.append(before)
