"""The embedded store: one SQLite file, the default ``GraphStore``.

Durability: WAL journal, ``synchronous=NORMAL`` (a crash loses at most the last commits, never
corrupts), foreign keys on. Every call runs on one dedicated worker thread that owns the
connection, so calls are serialized and the event loop never blocks on disk. Each write is one
``BEGIN IMMEDIATE`` transaction: it writes everything or nothing.

The schema lives in ``migrations/sqlite/``; only the bookkeeping table ``schema_migrations`` is
created here. Timestamps are stored as integer microseconds since the epoch (UTC). Value checks
and row conversions live in ``graph.sqlite_rows``; queries spanning several tables, run on the
worker thread, in ``graph.sqlite_queries``.
"""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from graph.models import (
    Attempt,
    AttemptPage,
    CurriculumChange,
    Group,
    Item,
    ItemKind,
    Learner,
    Mastery,
    Prerequisite,
    PrerequisiteGraph,
    RecordResult,
    Role,
    Skill,
    User,
    utcnow,
)
from graph.sqlite_queries import (
    MIGRATIONS_DDL,
    append_log,
    closure,
    connect,
    edges_by,
    gain_counts,
    in_transaction,
    learner_page,
    load_groups,
    load_items,
    load_learners,
    mastery_by_learner,
    require,
)
from graph.sqlite_rows import (
    ATTEMPT_COLS,
    ITEM_COLS,
    MASTERY_COLS,
    SKILL_COLS,
    attempt_row,
    attempt_values,
    check_depth,
    check_learner_retention,
    check_limit,
    decode_cursor,
    encode_cursor,
    find_cycle,
    from_us,
    ids_json,
    in_range,
    item_kind,
    last_per_id,
    skill_row,
    to_us,
    validate_item,
)
from graph.store import (
    AttemptConflictError,
    CycleError,
    GraphStoreError,
    MigrationError,
    StoreUnavailableError,
    ValidationError,
)

T = TypeVar("T")


class SqliteStore:
    """``GraphStore`` on one SQLite file. Open with ``await SqliteStore.open(path)``."""

    kind = "sqlite"

    def __init__(
        self, conn: sqlite3.Connection, executor: ThreadPoolExecutor, path: str,
        clock: Callable[[], datetime],
    ) -> None:
        self._conn = conn
        self._executor = executor
        self._path = path
        self._clock = clock
        self._closed = False
        #: a second, read-only connection on its own thread for long aggregate reads
        #: (:meth:`item_gain_counts`), opened on first use
        self._aside: tuple[sqlite3.Connection, ThreadPoolExecutor] | None = None
        self._aside_lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str, *, clock: Callable[[], datetime] = utcnow) -> SqliteStore:
        """Open (creating if needed) the database file at ``path`` (``:memory:`` works too)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="learngraph-sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(conn, executor, path, clock)

    @property
    def path(self) -> str:
        return self._path

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        if self._aside is not None:
            aside_conn, aside_executor = self._aside
            await loop.run_in_executor(aside_executor, aside_conn.close)
            aside_executor.shutdown(wait=True)
        await loop.run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call_on(self._executor, self._conn, fn, *args)

    async def _read_aside(self, fn: Callable[..., T], *args: Any) -> T:
        """A long read on the second connection, so that the worker thread keeps serving
        other calls meanwhile (WAL: the reader sees the last commit and blocks no writer).
        An in-memory database has no second connection: the worker thread runs it."""
        if self._path == ":memory:" or self._path.startswith("file:"):
            return await self._call(fn, *args)
        if self._aside is None:
            async with self._aside_lock:
                if self._aside is None and not self._closed:
                    executor = ThreadPoolExecutor(max_workers=1,
                                                  thread_name_prefix="learngraph-sqlite-aside")
                    loop = asyncio.get_running_loop()
                    try:
                        conn = await loop.run_in_executor(executor, connect, self._path)
                        await loop.run_in_executor(executor, conn.execute,
                                                   "PRAGMA query_only = ON")
                    except BaseException:
                        executor.shutdown(wait=False)
                        raise
                    self._aside = (conn, executor)
        if self._aside is None:
            raise StoreUnavailableError(f"the SQLite store {self._path!r} is closed")
        conn, executor = self._aside
        return await self._call_on(executor, conn, fn, *args)

    async def _call_on(self, executor: ThreadPoolExecutor, conn: sqlite3.Connection,
                       fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreUnavailableError(f"the SQLite store {self._path!r} is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(executor, fn, conn, *args)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise MigrationError(
                    f"the SQLite store {self._path!r} is not migrated ({exc}); run "
                    f"`learngraph migrate --db sqlite:///{self._path}`") from exc
            raise GraphStoreError(f"SQLite error on {self._path!r}: {exc}") from exc
        except sqlite3.Error as exc:
            raise GraphStoreError(f"SQLite error on {self._path!r}: {exc}") from exc

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(in_transaction, fn, *args)

    # -- migrations ------------------------------------------------------------------------

    async def applied_migrations(self) -> dict[int, str]:
        def run(conn: sqlite3.Connection) -> dict[int, str]:
            conn.execute(MIGRATIONS_DDL)
            rows = conn.execute("SELECT version, checksum FROM schema_migrations ORDER BY version")
            return {int(r["version"]): str(r["checksum"]) for r in rows}

        return await self._call(run)

    async def apply_migration(
        self, version: int, name: str, checksum: str, statements: Sequence[str]
    ) -> None:
        now = to_us(self._clock(), "clock")

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(MIGRATIONS_DDL)
            # another process may have applied it since the runner looked (the write lock is
            # held from here on): the same file is then a no-op, a different one an error
            done = conn.execute("SELECT checksum FROM schema_migrations WHERE version = ?",
                                (version,)).fetchone()
            if done is not None:
                if done[0] == checksum:
                    return
                raise MigrationError(
                    f"migration version {version} ({name}) is already recorded with another "
                    "checksum; restore the file and put changes in a new migration")
            for number, statement in enumerate(statements, 1):
                try:
                    conn.execute(statement)
                except sqlite3.Error as exc:
                    raise MigrationError(
                        f"migration {name} failed at statement {number} ({exc}); nothing of "
                        "it was applied: fix the file and run `learngraph migrate` again"
                    ) from exc
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_us)"
                " VALUES (?, ?, ?, ?)",
                (version, name, checksum, now),
            )

        await self._write(run)

    # -- curriculum reads ------------------------------------------------------------------

    async def get_skills(self, ids: Sequence[str]) -> list[Skill | None]:
        def run(conn: sqlite3.Connection) -> list[Skill | None]:
            rows = conn.execute(
                f"SELECT {SKILL_COLS} FROM skills WHERE id IN (SELECT value FROM json_each(?))",
                (ids_json(ids),),
            )
            found = {r["id"]: skill_row(r) for r in rows}
            return [found.get(i) for i in ids]

        return await self._call(run)

    async def get_items(self, ids: Sequence[str]) -> list[Item | None]:
        def run(conn: sqlite3.Connection) -> list[Item | None]:
            found = {item.id: item for item in load_items(conn, "id IN "
                     "(SELECT value FROM json_each(?))", (ids_json(ids),))}
            return [found.get(i) for i in ids]

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
    ) -> list[Skill]:
        check_limit(limit)
        where, params = ["1"], []
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
        if after is not None:
            where.append("id > ?")
            params.append(after)
        sql = f"SELECT {SKILL_COLS} FROM skills WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"

        def run(conn: sqlite3.Connection) -> list[Skill]:
            return [skill_row(r) for r in conn.execute(sql, (*params, limit))]

        return await self._call(run)

    async def list_items(
        self,
        *,
        skill_id: str | None = None,
        kind: ItemKind | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Item]:
        check_limit(limit)
        where, params = ["1"], []
        if skill_id is not None:
            where.append("id IN (SELECT item_id FROM item_skills WHERE skill_id = ?)")
            params.append(skill_id)
        if kind is not None:
            where.append("kind = ?")
            params.append(item_kind(kind).value)
        if after is not None:
            where.append("id > ?")
            params.append(after)

        def run(conn: sqlite3.Connection) -> list[Item]:
            return load_items(conn, " AND ".join(where), params, limit=limit)

        return await self._call(run)

    async def items_for_skills(self, skill_ids: Sequence[str]) -> list[list[Item]]:
        def run(conn: sqlite3.Connection) -> list[list[Item]]:
            links = conn.execute(
                "SELECT skill_id, item_id FROM item_skills"
                " WHERE skill_id IN (SELECT value FROM json_each(?)) ORDER BY item_id",
                (ids_json(skill_ids),),
            ).fetchall()
            item_ids = sorted({r["item_id"] for r in links})
            items = {i.id: i for i in load_items(
                conn, "id IN (SELECT value FROM json_each(?))", (ids_json(item_ids),))}
            by_skill: dict[str, list[Item]] = defaultdict(list)
            for r in links:
                by_skill[r["skill_id"]].append(items[r["item_id"]])
            return [list(by_skill.get(s, [])) for s in skill_ids]

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

        return await self._call(run)

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

    # -- curriculum writes -----------------------------------------------------------------

    async def upsert_skills(self, skills: Sequence[Skill], *, actor: str) -> None:
        for s in skills:
            if not s.id:
                raise ValidationError("skill.id", "a skill needs a non-empty id")
        rows = [(s.id, s.name, s.description, s.topic, s.area, json.dumps(list(s.tags)))
                for s in skills]
        log = [("upsert", "skill", s.id, {"name": s.name, "topic": s.topic, "area": s.area})
               for s in skills]
        at = to_us(self._clock(), "clock")

        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(
                f"INSERT INTO skills ({SKILL_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " description = excluded.description, topic = excluded.topic,"
                " area = excluded.area, tags = excluded.tags",
                rows,
            )
            append_log(conn, actor, at, log)

        await self._write(run)

    async def upsert_items(self, items: Sequence[Item], *, actor: str) -> None:
        for item in items:
            validate_item(item)
        items = last_per_id(items)
        skill_ids = {w.skill_id for item in items for w in item.skills}
        at = to_us(self._clock(), "clock")
        item_rows = [(i.id, ItemKind(i.kind).value, i.title, i.body, i.url, float(i.difficulty),
                      i.expected_seconds) for i in items]
        link_rows = [(i.id, w.skill_id, float(w.weight), pos)
                     for i in items for pos, w in enumerate(i.skills)]
        log = [("upsert", "item", i.id, {"kind": ItemKind(i.kind).value, "title": i.title,
                "skills": [w.skill_id for w in i.skills]}) for i in items]

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "skills", "skill", skill_ids)
            conn.executemany(
                f"INSERT INTO items ({ITEM_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, title = excluded.title,"
                " body = excluded.body, url = excluded.url, difficulty = excluded.difficulty,"
                " expected_seconds = excluded.expected_seconds",
                item_rows,
            )
            conn.execute(
                "DELETE FROM item_skills WHERE item_id IN (SELECT value FROM json_each(?))",
                (ids_json(i.id for i in items),),
            )
            conn.executemany(
                "INSERT INTO item_skills (item_id, skill_id, weight, position) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (item_id, skill_id) DO UPDATE SET weight = excluded.weight,"
                " position = excluded.position",
                link_rows,
            )
            append_log(conn, actor, at, log)

        await self._write(run)

    async def upsert_prerequisites(self, edges: Sequence[Prerequisite], *, actor: str) -> None:
        for e in edges:
            if e.source == e.target:
                raise ValidationError(
                    "prerequisite", f"self-loop {e.source!r} -> {e.target!r}: a skill cannot "
                    "be its own prerequisite; remove this edge")
            if not in_range(e.strength, 0.0, 1.0):
                raise ValidationError(
                    "strength", f"{e.strength!r} on {e.source!r} -> {e.target!r} is outside "
                    "[0, 1]; use 1 for a strict prerequisite, less for a weaker one")
        new = [(e.source, e.target) for e in edges]
        rows = [(e.source, e.target, float(e.strength)) for e in edges]
        log = [("upsert", "prerequisite", f"{e.source}->{e.target}",
                {"source": e.source, "target": e.target, "strength": float(e.strength)})
               for e in edges]
        at = to_us(self._clock(), "clock")

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "skills", "skill", {s for pair in new for s in pair})
            stored = conn.execute("SELECT source, target FROM prerequisites").fetchall()
            cycle = find_cycle([(r[0], r[1]) for r in stored] + new, new)
            if cycle:
                raise CycleError(cycle)
            conn.executemany(
                "INSERT INTO prerequisites (source, target, strength) VALUES (?, ?, ?)"
                " ON CONFLICT (source, target) DO UPDATE SET strength = excluded.strength",
                rows,
            )
            append_log(conn, actor, at, log)

        await self._write(run)

    async def remove_skills(self, ids: Sequence[str], *, actor: str) -> None:
        at = to_us(self._clock(), "clock")

        def run(conn: sqlite3.Connection) -> None:
            wanted = ids_json(ids)
            existing = {r[0] for r in conn.execute(
                "SELECT id FROM skills WHERE id IN (SELECT value FROM json_each(?))", (wanted,))}
            edges = conn.execute(
                "SELECT source, target FROM prerequisites WHERE source IN (SELECT value FROM"
                " json_each(?1)) OR target IN (SELECT value FROM json_each(?1))"
                " ORDER BY source, target", (wanted,)).fetchall()
            conn.execute("DELETE FROM skills WHERE id IN (SELECT value FROM json_each(?))",
                         (wanted,))
            log = [("remove", "prerequisite", f"{s}->{t}", {"source": s, "target": t})
                   for s, t in edges]
            log += [("remove", "skill", i, {}) for i in dict.fromkeys(ids) if i in existing]
            append_log(conn, actor, at, log)

        await self._write(run)

    async def remove_items(self, ids: Sequence[str], *, actor: str) -> None:
        at = to_us(self._clock(), "clock")

        def run(conn: sqlite3.Connection) -> None:
            wanted = ids_json(ids)
            existing = {r[0] for r in conn.execute(
                "SELECT id FROM items WHERE id IN (SELECT value FROM json_each(?))", (wanted,))}
            conn.execute("DELETE FROM items WHERE id IN (SELECT value FROM json_each(?))",
                         (wanted,))
            append_log(conn, actor, at,
                        [("remove", "item", i, {}) for i in dict.fromkeys(ids) if i in existing])

        await self._write(run)

    async def remove_prerequisites(
        self, edges: Sequence[tuple[str, str]], *, actor: str
    ) -> None:
        at = to_us(self._clock(), "clock")
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

        def run(conn: sqlite3.Connection) -> list[CurriculumChange]:
            rows = conn.execute(
                "SELECT seq, actor, at_us, action, entity, entity_id, detail FROM change_log"
                " WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))
            return [CurriculumChange(seq=r[0], actor=r[1], at=from_us(r[2]), action=r[3],
                                     entity=r[4], entity_id=r[5], detail=json.loads(r[6]))
                    for r in rows]

        return await self._call(run)

    # -- people ----------------------------------------------------------------------------

    async def get_learners(self, ids: Sequence[str]) -> list[Learner | None]:
        def run(conn: sqlite3.Connection) -> list[Learner | None]:
            found = {l.id: l for l in load_learners(conn, ids_json(ids))}  # noqa: E741
            return [found.get(i) for i in ids]

        return await self._call(run)

    async def list_learners(self, *, after: str | None = None, limit: int = 100
                            ) -> list[Learner]:
        check_limit(limit)
        return await self._call(learner_page, after, limit)

    async def get_users(self, ids: Sequence[str]) -> list[User | None]:
        def run(conn: sqlite3.Connection) -> list[User | None]:
            rows = conn.execute(
                "SELECT id, display_name, role FROM users"
                " WHERE id IN (SELECT value FROM json_each(?))", (ids_json(ids),))
            found = {r[0]: User(r[0], r[1], Role(r[2])) for r in rows}
            return [found.get(i) for i in ids]

        return await self._call(run)

    async def get_groups(self, ids: Sequence[str]) -> list[Group | None]:
        def run(conn: sqlite3.Connection) -> list[Group | None]:
            found = {g.id: g for g in load_groups(conn, "id IN "
                     "(SELECT value FROM json_each(?))", (ids_json(ids),))}
            return [found.get(i) for i in ids]

        return await self._call(run)

    async def upsert_learners(self, learners: Sequence[Learner]) -> None:
        learners = last_per_id(learners)
        for learner in learners:
            if not learner.id:
                raise ValidationError("learner.id", "a learner needs a non-empty id")
            if len(set(learner.goals)) != len(learner.goals):
                raise ValidationError(
                    "learner.goals", f"{learner.goals!r} of {learner.id!r} repeats a skill")
            check_learner_retention(learner)
        goals = {g for learner in learners for g in learner.goals}

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "skills", "skill", goals)
            conn.executemany(
                "INSERT INTO learners (id, display_name, target_retention) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name,"
                " target_retention = excluded.target_retention",
                [(lr.id, lr.display_name, lr.target_retention) for lr in learners])
            conn.execute(
                "DELETE FROM learner_goals WHERE learner_id IN (SELECT value FROM json_each(?))",
                (ids_json(lr.id for lr in learners),))
            conn.executemany(
                "INSERT OR REPLACE INTO learner_goals (learner_id, skill_id, position)"
                " VALUES (?, ?, ?)",
                [(lr.id, g, pos) for lr in learners for pos, g in enumerate(lr.goals)])

        await self._write(run)

    async def upsert_users(self, users: Sequence[User]) -> None:
        rows = []
        for u in users:
            if not u.id:
                raise ValidationError("user.id", "a user needs a non-empty id")
            try:
                rows.append((u.id, u.display_name, Role(u.role).value))
            except ValueError:
                raise ValidationError("user.role", f"{u.role!r} of {u.id!r} is not one of "
                                      f"{', '.join(r.value for r in Role)}") from None

        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO users (id, display_name, role) VALUES (?, ?, ?) ON CONFLICT (id)"
                " DO UPDATE SET display_name = excluded.display_name, role = excluded.role",
                rows)

        await self._write(run)

    async def upsert_groups(self, groups: Sequence[Group]) -> None:
        groups = last_per_id(groups)
        for g in groups:
            if not g.id:
                raise ValidationError("group.id", "a group needs a non-empty id")
            for field, members in (("learner_ids", g.learner_ids),
                                   ("teacher_ids", g.teacher_ids)):
                if len(set(members)) != len(members):
                    raise ValidationError(f"group.{field}", f"{members!r} of {g.id!r} repeats "
                                          "an id; list each member once")
        learner_ids = {lid for g in groups for lid in g.learner_ids}
        wanted = ids_json(g.id for g in groups)

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "learners", "learner", learner_ids)
            conn.executemany(
                "INSERT INTO groups (id, name) VALUES (?, ?) ON CONFLICT (id)"
                " DO UPDATE SET name = excluded.name", [(g.id, g.name) for g in groups])
            for table in ("group_teachers", "group_learners"):
                conn.execute(f"DELETE FROM {table} WHERE group_id IN"
                             " (SELECT value FROM json_each(?))", (wanted,))
            conn.executemany(
                "INSERT OR REPLACE INTO group_teachers (group_id, teacher_id, position)"
                " VALUES (?, ?, ?)",
                [(g.id, t, pos) for g in groups for pos, t in enumerate(g.teacher_ids)])
            conn.executemany(
                "INSERT OR REPLACE INTO group_learners (group_id, learner_id, position)"
                " VALUES (?, ?, ?)",
                [(g.id, lid, pos) for g in groups for pos, lid in enumerate(g.learner_ids)])

        await self._write(run)

    async def remove_groups(self, ids: Sequence[str]) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM groups WHERE id IN (SELECT value FROM json_each(?))",
                         (ids_json(ids),))

        await self._write(run)

    async def groups_of_teacher(self, teacher_id: str) -> list[Group]:
        def run(conn: sqlite3.Connection) -> list[Group]:
            return load_groups(conn, "id IN (SELECT group_id FROM group_teachers"
                                " WHERE teacher_id = ?)", (teacher_id,))

        return await self._call(run)

    async def groups_of_learners(self, learner_ids: Sequence[str]) -> list[list[Group]]:
        def run(conn: sqlite3.Connection) -> list[list[Group]]:
            links = conn.execute(
                "SELECT learner_id, group_id FROM group_learners"
                " WHERE learner_id IN (SELECT value FROM json_each(?))",
                (ids_json(learner_ids),)).fetchall()
            groups = {g.id: g for g in load_groups(
                conn, "id IN (SELECT value FROM json_each(?))",
                (ids_json({r[1] for r in links}),))}
            by_learner: dict[str, list[Group]] = defaultdict(list)
            for lid, gid in sorted((r[0], r[1]) for r in links):
                by_learner[lid].append(groups[gid])
            return [list(by_learner.get(lid, [])) for lid in learner_ids]

        return await self._call(run)

    async def learners_of_groups(self, group_ids: Sequence[str]) -> list[list[Learner]]:
        def run(conn: sqlite3.Connection) -> list[list[Learner]]:
            links = conn.execute(
                "SELECT group_id, learner_id FROM group_learners"
                " WHERE group_id IN (SELECT value FROM json_each(?))",
                (ids_json(group_ids),)).fetchall()
            learners = {lr.id: lr for lr in load_learners(conn, ids_json({r[1] for r in links}))}
            by_group: dict[str, list[Learner]] = defaultdict(list)
            for gid, lid in sorted((r[0], r[1]) for r in links):
                by_group[gid].append(learners[lid])
            return [list(by_group.get(gid, [])) for gid in group_ids]

        return await self._call(run)

    # -- attempts --------------------------------------------------------------------------

    async def record_attempts(self, attempts: Sequence[Attempt]) -> RecordResult:
        rows = [attempt_values(a) for a in attempts]

        def run(conn: sqlite3.Connection) -> RecordResult:
            require(conn, "learners", "learner", {r[1] for r in rows})
            require(conn, "items", "item", {r[2] for r in rows})
            # one look-up of the ids already stored (a savepoint-and-undo fast path was
            # measured slower: SQLite copies every touched page to a sub-journal for it)
            wanted = ids_json(r[0] for r in rows)
            stored = {r[0]: tuple(r) for r in conn.execute(
                f"SELECT {ATTEMPT_COLS} FROM attempts"
                " WHERE attempt_id IN (SELECT value FROM json_each(?))", (wanted,))}
            new: list[tuple[Any, ...]] = []
            new_ids: list[str] = []
            duplicates: list[str] = []
            conflicts: list[str] = []
            for row in rows:
                seen = stored.get(row[0])
                if seen is None:
                    stored[row[0]] = row
                    new.append(row)
                    new_ids.append(row[0])
                elif seen == row:
                    duplicates.append(row[0])
                else:
                    conflicts.append(row[0])
            if conflicts:
                raise AttemptConflictError(list(dict.fromkeys(conflicts)))
            conn.executemany(
                f"INSERT INTO attempts ({ATTEMPT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)", new)
            return RecordResult(stored=tuple(new_ids), duplicates=tuple(duplicates))

        return await self._write(run)

    async def attempts_of(
        self,
        learner_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        since: datetime | None = None,
    ) -> AttemptPage:
        check_limit(limit)
        where: list[str] = ["learner_id = ?"]
        params: list[Any] = [learner_id]
        if cursor is not None:
            ts_us, attempt_id = decode_cursor(cursor)
            where.append("(ts_us < ? OR (ts_us = ? AND attempt_id < ?))")
            params += [ts_us, ts_us, attempt_id]
        if since is not None:
            where.append("ts_us >= ?")
            params.append(to_us(since, "since"))
        sql = (f"SELECT {ATTEMPT_COLS} FROM attempts WHERE {' AND '.join(where)}"
               " ORDER BY ts_us DESC, attempt_id DESC LIMIT ?")

        def run(conn: sqlite3.Connection) -> AttemptPage:
            rows = conn.execute(sql, (*params, limit + 1)).fetchall()
            page = rows[:limit]
            nxt = (encode_cursor(page[-1]["ts_us"], page[-1]["attempt_id"])
                   if len(rows) > limit else None)
            return AttemptPage(tuple(attempt_row(r) for r in page), nxt)

        return await self._call(run)

    async def attempt_count(self, learner_id: str | None = None) -> int:
        def run(conn: sqlite3.Connection) -> int:
            if learner_id is None:
                return int(conn.execute("SELECT count(*) FROM attempts").fetchone()[0])
            return int(conn.execute("SELECT count(*) FROM attempts WHERE learner_id = ?",
                                    (learner_id,)).fetchone()[0])

        return await self._call(run)

    async def item_gain_counts(
        self, item_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[int, int]]:
        if item_ids is not None and not item_ids:
            return {}
        wanted = None if item_ids is None else list(dict.fromkeys(item_ids))
        # a scan and sort of every attempt: keep it off the worker thread other calls wait on
        return await self._read_aside(gain_counts, wanted)

    # -- mastery ---------------------------------------------------------------------------

    async def save_mastery(self, rows: Sequence[Mastery]) -> None:
        values = []
        for m in rows:
            if not in_range(m.probability, 0.0, 1.0):
                raise ValidationError("probability", f"{m.probability!r} for "
                                      f"({m.learner_id!r}, {m.skill_id!r}) is outside [0, 1]")
            if not in_range(m.uncertainty, 0.0, math.inf):
                raise ValidationError("uncertainty", f"{m.uncertainty!r} for "
                                      f"({m.learner_id!r}, {m.skill_id!r}) must be >= 0")
            values.append((m.learner_id, m.skill_id, float(m.probability),
                           float(m.uncertainty), to_us(m.updated_at, "updated_at"),
                           m.model_version))

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "learners", "learner", {v[0] for v in values})
            require(conn, "skills", "skill", {v[1] for v in values})
            conn.executemany(
                f"INSERT OR REPLACE INTO mastery ({MASTERY_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                values)

        await self._write(run)

    async def mastery_of(self, learner_ids: Sequence[str]) -> list[list[Mastery]]:
        def run(conn: sqlite3.Connection) -> list[list[Mastery]]:
            return mastery_by_learner(conn, learner_ids)

        return await self._call(run)

    async def mastery_of_group(self, group_id: str) -> Mapping[str, list[Mastery]]:
        def run(conn: sqlite3.Connection) -> dict[str, list[Mastery]]:
            members = [r[0] for r in conn.execute(
                "SELECT learner_id FROM group_learners WHERE group_id = ? ORDER BY learner_id",
                (group_id,))]
            return dict(zip(members, mastery_by_learner(conn, members), strict=True))

        return await self._call(run)

    # -- tracer state ----------------------------------------------------------------------

    async def load_tracer_states(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[bytes | None]:
        def run(conn: sqlite3.Connection) -> list[bytes | None]:
            rows = conn.execute(
                "SELECT learner_id, state FROM tracer_states WHERE model_version = ?"
                " AND learner_id IN (SELECT value FROM json_each(?))",
                (model_version, ids_json(learner_ids)))
            found = {r[0]: bytes(r[1]) for r in rows}
            return [found.get(i) for i in learner_ids]

        return await self._call(run)

    async def save_tracer_states(self, states: Sequence[tuple[str, str, bytes]]) -> None:
        for lid, version, state in states:
            if not isinstance(state, bytes | bytearray | memoryview):
                raise ValidationError("state", f"tracer state of {lid!r} for {version!r} is "
                                      f"{type(state).__name__}; serialize it to bytes first")
        rows = [(lid, version, bytes(state)) for lid, version, state in states]

        def run(conn: sqlite3.Connection) -> None:
            require(conn, "learners", "learner", {r[0] for r in rows})
            conn.executemany(
                "INSERT OR REPLACE INTO tracer_states (learner_id, model_version, state)"
                " VALUES (?, ?, ?)", rows)

        await self._write(run)


__all__ = ["SqliteStore", "from_us", "to_us"]
