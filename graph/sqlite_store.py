"""The embedded store: one SQLite file, the default ``GraphStore``.

Durability: WAL journal, ``synchronous=NORMAL`` (a crash loses at most the last commits, never
corrupts), foreign keys on. Every call runs on one dedicated worker thread that owns the
connection, so calls are serialized and the event loop never blocks on disk. Each write is one
``BEGIN IMMEDIATE`` transaction: it writes everything or nothing.

The schema lives in ``migrations/sqlite/``; only the bookkeeping table ``schema_migrations`` is
created here. Timestamps are stored as integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import networkx as nx

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
    SkillWeight,
    User,
    utcnow,
)
from graph.store import (
    AttemptConflictError,
    CycleError,
    GraphStoreError,
    MigrationError,
    NotFoundError,
    StoreUnavailableError,
    ValidationError,
)

T = TypeVar("T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MIGRATIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
    " applied_us INTEGER NOT NULL)"
)
_SKILL_COLS = "id, name, description, topic, area, tags"
_ITEM_COLS = "id, kind, title, body, url, difficulty, expected_seconds"
_ATTEMPT_COLS = "attempt_id, learner_id, item_id, score, ts_us, response_time_ms, hints_used"
_MASTERY_COLS = "learner_id, skill_id, probability, uncertainty, updated_us, model_version"


# -- conversions ---------------------------------------------------------------------------


def to_us(moment: datetime, field: str) -> int:
    """Microseconds since the epoch of a timezone-aware datetime (naive ones are refused)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError(
            field, f"{moment.isoformat()} has no timezone; pass an aware datetime (UTC)"
        )
    return (moment - _EPOCH) // _MICROSECOND


def from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def _ids_json(ids: Iterable[str]) -> str:
    return json.dumps(list(ids))


def _in_range(value: float, lo: float, hi: float) -> bool:
    """``lo <= value <= hi`` for a real number (NaN and non-numbers are out of range)."""
    try:
        return lo <= value <= hi and not isinstance(value, bool)
    except TypeError:
        return False


def _encode_cursor(ts_us: int, attempt_id: str) -> str:
    raw = json.dumps([ts_us, attempt_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts_us, attempt_id = json.loads(raw)
        if isinstance(ts_us, int) and isinstance(attempt_id, str):
            return ts_us, attempt_id
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        pass
    raise ValidationError("cursor", f"{cursor!r} is not a cursor this store issued; pass "
                          "the next_cursor of a previous page, or None for the first page")


def _check_limit(limit: int) -> None:
    if not isinstance(limit, int) or limit < 1:
        raise ValidationError("limit", f"{limit!r} must be a positive integer")


def _check_depth(depth: int | None) -> None:
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValidationError("depth", f"{depth!r} must be None (unbounded) or an integer >= 0")


def _skill_row(row: sqlite3.Row) -> Skill:
    return Skill(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        topic=row["topic"],
        area=row["area"],
        tags=() if row["tags"] == "[]" else tuple(json.loads(row["tags"])),
    )


def _attempt_row(row: sqlite3.Row) -> Attempt:
    return Attempt(
        attempt_id=row["attempt_id"],
        learner_id=row["learner_id"],
        item_id=row["item_id"],
        score=row["score"],
        timestamp=from_us(row["ts_us"]),
        response_time_ms=row["response_time_ms"],
        hints_used=row["hints_used"],
    )


def _mastery_row(row: sqlite3.Row) -> Mastery:
    return Mastery(
        learner_id=row["learner_id"],
        skill_id=row["skill_id"],
        probability=row["probability"],
        uncertainty=row["uncertainty"],
        updated_at=from_us(row["updated_us"]),
        model_version=row["model_version"],
    )


def _find_cycle(edges: Iterable[tuple[str, str]], new: Sequence[tuple[str, str]]) -> list[str]:
    """A cycle (first id repeated last) in ``edges``, starting at the source of a new edge;
    [] when the graph is acyclic."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_edges_from(edges)
    if nx.is_directed_acyclic_graph(graph):
        return []
    for source, target in new:
        if nx.has_path(graph, target, source):
            path: list[str] = nx.shortest_path(graph, target, source)
            return [source, *path]
    cycle = [u for u, _ in nx.find_cycle(graph)]  # only reachable if the stored graph had one
    return [*cycle, cycle[0]]


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

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: str, *, clock: Callable[[], datetime] = utcnow) -> SqliteStore:
        """Open (creating if needed) the database file at ``path`` (``:memory:`` works too)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="learngraph-sqlite")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, _connect, path)
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
        await loop.run_in_executor(self._executor, self._conn.close)
        self._executor.shutdown(wait=True)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise StoreUnavailableError(f"the SQLite store {self._path!r} is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, self._conn, *args)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise MigrationError(
                    f"the SQLite store {self._path!r} is not migrated ({exc}); run "
                    f"`learngraph migrate --db sqlite:///{self._path}`") from exc
            raise GraphStoreError(f"SQLite error on {self._path!r}: {exc}") from exc
        except sqlite3.Error as exc:
            raise GraphStoreError(f"SQLite error on {self._path!r}: {exc}") from exc

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._call(_in_transaction, fn, *args)

    # -- migrations ------------------------------------------------------------------------

    async def applied_migrations(self) -> dict[int, str]:
        def run(conn: sqlite3.Connection) -> dict[int, str]:
            conn.execute(_MIGRATIONS_DDL)
            rows = conn.execute("SELECT version, checksum FROM schema_migrations ORDER BY version")
            return {int(r["version"]): str(r["checksum"]) for r in rows}

        return await self._call(run)

    async def apply_migration(
        self, version: int, name: str, checksum: str, statements: Sequence[str]
    ) -> None:
        now = to_us(self._clock(), "clock")

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(_MIGRATIONS_DDL)
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
                f"SELECT {_SKILL_COLS} FROM skills WHERE id IN (SELECT value FROM json_each(?))",
                (_ids_json(ids),),
            )
            found = {r["id"]: _skill_row(r) for r in rows}
            return [found.get(i) for i in ids]

        return await self._call(run)

    async def get_items(self, ids: Sequence[str]) -> list[Item | None]:
        def run(conn: sqlite3.Connection) -> list[Item | None]:
            found = {item.id: item for item in _load_items(conn, "id IN "
                     "(SELECT value FROM json_each(?))", (_ids_json(ids),))}
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
        _check_limit(limit)
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
        sql = f"SELECT {_SKILL_COLS} FROM skills WHERE {' AND '.join(where)} ORDER BY id LIMIT ?"

        def run(conn: sqlite3.Connection) -> list[Skill]:
            return [_skill_row(r) for r in conn.execute(sql, (*params, limit))]

        return await self._call(run)

    async def list_items(
        self,
        *,
        skill_id: str | None = None,
        kind: ItemKind | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Item]:
        _check_limit(limit)
        where, params = ["1"], []
        if skill_id is not None:
            where.append("id IN (SELECT item_id FROM item_skills WHERE skill_id = ?)")
            params.append(skill_id)
        if kind is not None:
            where.append("kind = ?")
            params.append(ItemKind(kind).value)
        if after is not None:
            where.append("id > ?")
            params.append(after)

        def run(conn: sqlite3.Connection) -> list[Item]:
            return _load_items(conn, " AND ".join(where), params, limit=limit)

        return await self._call(run)

    async def items_for_skills(self, skill_ids: Sequence[str]) -> list[list[Item]]:
        def run(conn: sqlite3.Connection) -> list[list[Item]]:
            links = conn.execute(
                "SELECT skill_id, item_id FROM item_skills"
                " WHERE skill_id IN (SELECT value FROM json_each(?)) ORDER BY item_id",
                (_ids_json(skill_ids),),
            ).fetchall()
            item_ids = sorted({r["item_id"] for r in links})
            items = {i.id: i for i in _load_items(
                conn, "id IN (SELECT value FROM json_each(?))", (_ids_json(item_ids),))}
            by_skill: dict[str, list[Item]] = defaultdict(list)
            for r in links:
                by_skill[r["skill_id"]].append(items[r["item_id"]])
            return [list(by_skill.get(s, [])) for s in skill_ids]

        return await self._call(run)

    async def prerequisite_graph(self) -> PrerequisiteGraph:
        def run(conn: sqlite3.Connection) -> PrerequisiteGraph:
            skills = conn.execute(f"SELECT {_SKILL_COLS} FROM skills ORDER BY id")
            edges = conn.execute(
                "SELECT source, target, strength FROM prerequisites ORDER BY source, target"
            )
            return PrerequisiteGraph(
                skills=tuple(_skill_row(r) for r in skills),
                edges=tuple(Prerequisite(r[0], r[1], r[2]) for r in edges),
            )

        return await self._call(run)

    async def prerequisites_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        return await self._call(_edges_by, "target", skill_ids)

    async def dependents_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        return await self._call(_edges_by, "source", skill_ids)

    async def ancestors(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        _check_depth(depth)
        return await self._call(_closure, skill_ids, depth, "source", "target")

    async def descendants(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        _check_depth(depth)
        return await self._call(_closure, skill_ids, depth, "target", "source")

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
                f"INSERT INTO skills ({_SKILL_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " description = excluded.description, topic = excluded.topic,"
                " area = excluded.area, tags = excluded.tags",
                rows,
            )
            _append_log(conn, actor, at, log)

        await self._write(run)

    async def upsert_items(self, items: Sequence[Item], *, actor: str) -> None:
        for item in items:
            _validate_item(item)
        skill_ids = {w.skill_id for item in items for w in item.skills}
        at = to_us(self._clock(), "clock")
        item_rows = [(i.id, ItemKind(i.kind).value, i.title, i.body, i.url, float(i.difficulty),
                      i.expected_seconds) for i in items]
        link_rows = [(i.id, w.skill_id, float(w.weight), pos)
                     for i in items for pos, w in enumerate(i.skills)]
        log = [("upsert", "item", i.id, {"kind": ItemKind(i.kind).value, "title": i.title,
                "skills": [w.skill_id for w in i.skills]}) for i in items]

        def run(conn: sqlite3.Connection) -> None:
            _require(conn, "skills", "skill", skill_ids)
            conn.executemany(
                f"INSERT INTO items ({_ITEM_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, title = excluded.title,"
                " body = excluded.body, url = excluded.url, difficulty = excluded.difficulty,"
                " expected_seconds = excluded.expected_seconds",
                item_rows,
            )
            conn.execute(
                "DELETE FROM item_skills WHERE item_id IN (SELECT value FROM json_each(?))",
                (_ids_json(i.id for i in items),),
            )
            conn.executemany(
                "INSERT INTO item_skills (item_id, skill_id, weight, position) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (item_id, skill_id) DO UPDATE SET weight = excluded.weight,"
                " position = excluded.position",
                link_rows,
            )
            _append_log(conn, actor, at, log)

        await self._write(run)

    async def upsert_prerequisites(self, edges: Sequence[Prerequisite], *, actor: str) -> None:
        for e in edges:
            if e.source == e.target:
                raise ValidationError(
                    "prerequisite", f"self-loop {e.source!r} -> {e.target!r}: a skill cannot "
                    "be its own prerequisite; remove this edge")
            if not _in_range(e.strength, 0.0, 1.0):
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
            _require(conn, "skills", "skill", {s for pair in new for s in pair})
            stored = conn.execute("SELECT source, target FROM prerequisites").fetchall()
            cycle = _find_cycle([(r[0], r[1]) for r in stored] + new, new)
            if cycle:
                raise CycleError(cycle)
            conn.executemany(
                "INSERT INTO prerequisites (source, target, strength) VALUES (?, ?, ?)"
                " ON CONFLICT (source, target) DO UPDATE SET strength = excluded.strength",
                rows,
            )
            _append_log(conn, actor, at, log)

        await self._write(run)

    async def remove_skills(self, ids: Sequence[str], *, actor: str) -> None:
        at = to_us(self._clock(), "clock")

        def run(conn: sqlite3.Connection) -> None:
            ids_json = _ids_json(ids)
            existing = {r[0] for r in conn.execute(
                "SELECT id FROM skills WHERE id IN (SELECT value FROM json_each(?))", (ids_json,))}
            edges = conn.execute(
                "SELECT source, target FROM prerequisites WHERE source IN (SELECT value FROM"
                " json_each(?1)) OR target IN (SELECT value FROM json_each(?1))"
                " ORDER BY source, target", (ids_json,)).fetchall()
            conn.execute("DELETE FROM skills WHERE id IN (SELECT value FROM json_each(?))",
                         (ids_json,))
            log = [("remove", "prerequisite", f"{s}->{t}", {"source": s, "target": t})
                   for s, t in edges]
            log += [("remove", "skill", i, {}) for i in dict.fromkeys(ids) if i in existing]
            _append_log(conn, actor, at, log)

        await self._write(run)

    async def remove_items(self, ids: Sequence[str], *, actor: str) -> None:
        at = to_us(self._clock(), "clock")

        def run(conn: sqlite3.Connection) -> None:
            ids_json = _ids_json(ids)
            existing = {r[0] for r in conn.execute(
                "SELECT id FROM items WHERE id IN (SELECT value FROM json_each(?))", (ids_json,))}
            conn.execute("DELETE FROM items WHERE id IN (SELECT value FROM json_each(?))",
                         (ids_json,))
            _append_log(conn, actor, at,
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
            _append_log(conn, actor, at, log)

        await self._write(run)

    async def change_log(
        self, *, after_seq: int = 0, limit: int = 100
    ) -> list[CurriculumChange]:
        _check_limit(limit)

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
            found = {l.id: l for l in _load_learners(conn, _ids_json(ids))}  # noqa: E741
            return [found.get(i) for i in ids]

        return await self._call(run)

    async def get_users(self, ids: Sequence[str]) -> list[User | None]:
        def run(conn: sqlite3.Connection) -> list[User | None]:
            rows = conn.execute(
                "SELECT id, display_name, role FROM users"
                " WHERE id IN (SELECT value FROM json_each(?))", (_ids_json(ids),))
            found = {r[0]: User(r[0], r[1], Role(r[2])) for r in rows}
            return [found.get(i) for i in ids]

        return await self._call(run)

    async def get_groups(self, ids: Sequence[str]) -> list[Group | None]:
        def run(conn: sqlite3.Connection) -> list[Group | None]:
            found = {g.id: g for g in _load_groups(conn, "id IN "
                     "(SELECT value FROM json_each(?))", (_ids_json(ids),))}
            return [found.get(i) for i in ids]

        return await self._call(run)

    async def upsert_learners(self, learners: Sequence[Learner]) -> None:
        for learner in learners:
            if not learner.id:
                raise ValidationError("learner.id", "a learner needs a non-empty id")
            if len(set(learner.goals)) != len(learner.goals):
                raise ValidationError(
                    "learner.goals", f"{learner.goals!r} of {learner.id!r} repeats a skill")
        goals = {g for learner in learners for g in learner.goals}

        def run(conn: sqlite3.Connection) -> None:
            _require(conn, "skills", "skill", goals)
            conn.executemany(
                "INSERT INTO learners (id, display_name) VALUES (?, ?) ON CONFLICT (id)"
                " DO UPDATE SET display_name = excluded.display_name",
                [(lr.id, lr.display_name) for lr in learners])
            conn.execute(
                "DELETE FROM learner_goals WHERE learner_id IN (SELECT value FROM json_each(?))",
                (_ids_json(lr.id for lr in learners),))
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
        for g in groups:
            if not g.id:
                raise ValidationError("group.id", "a group needs a non-empty id")
            for field, members in (("learner_ids", g.learner_ids),
                                   ("teacher_ids", g.teacher_ids)):
                if len(set(members)) != len(members):
                    raise ValidationError(f"group.{field}", f"{members!r} of {g.id!r} repeats "
                                          "an id; list each member once")
        learner_ids = {lid for g in groups for lid in g.learner_ids}
        ids_json = _ids_json(g.id for g in groups)

        def run(conn: sqlite3.Connection) -> None:
            _require(conn, "learners", "learner", learner_ids)
            conn.executemany(
                "INSERT INTO groups (id, name) VALUES (?, ?) ON CONFLICT (id)"
                " DO UPDATE SET name = excluded.name", [(g.id, g.name) for g in groups])
            for table in ("group_teachers", "group_learners"):
                conn.execute(f"DELETE FROM {table} WHERE group_id IN"
                             " (SELECT value FROM json_each(?))", (ids_json,))
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
                         (_ids_json(ids),))

        await self._write(run)

    async def groups_of_teacher(self, teacher_id: str) -> list[Group]:
        def run(conn: sqlite3.Connection) -> list[Group]:
            return _load_groups(conn, "id IN (SELECT group_id FROM group_teachers"
                                " WHERE teacher_id = ?)", (teacher_id,))

        return await self._call(run)

    async def groups_of_learners(self, learner_ids: Sequence[str]) -> list[list[Group]]:
        def run(conn: sqlite3.Connection) -> list[list[Group]]:
            links = conn.execute(
                "SELECT learner_id, group_id FROM group_learners"
                " WHERE learner_id IN (SELECT value FROM json_each(?))",
                (_ids_json(learner_ids),)).fetchall()
            groups = {g.id: g for g in _load_groups(
                conn, "id IN (SELECT value FROM json_each(?))",
                (_ids_json({r[1] for r in links}),))}
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
                (_ids_json(group_ids),)).fetchall()
            learners = {lr.id: lr for lr in _load_learners(conn, _ids_json({r[1] for r in links}))}
            by_group: dict[str, list[Learner]] = defaultdict(list)
            for gid, lid in sorted((r[0], r[1]) for r in links):
                by_group[gid].append(learners[lid])
            return [list(by_group.get(gid, [])) for gid in group_ids]

        return await self._call(run)

    # -- attempts --------------------------------------------------------------------------

    async def record_attempts(self, attempts: Sequence[Attempt]) -> RecordResult:
        rows = [_attempt_values(a) for a in attempts]

        def run(conn: sqlite3.Connection) -> RecordResult:
            _require(conn, "learners", "learner", {r[1] for r in rows})
            _require(conn, "items", "item", {r[2] for r in rows})
            # fast path, the usual case: every id is new, so inserting them all changes
            # len(rows) rows; otherwise undo and sort new ids from retries and conflicts
            before = conn.total_changes
            conn.execute("SAVEPOINT record_new")
            conn.executemany(
                f"INSERT INTO attempts ({_ATTEMPT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (attempt_id) DO NOTHING", rows)
            if conn.total_changes - before == len(rows):
                conn.execute("RELEASE record_new")
                return RecordResult(stored=tuple(r[0] for r in rows), duplicates=())
            conn.execute("ROLLBACK TO record_new")
            conn.execute("RELEASE record_new")
            ids_json = _ids_json(r[0] for r in rows)
            stored = {r[0]: tuple(r) for r in conn.execute(
                f"SELECT {_ATTEMPT_COLS} FROM attempts"
                " WHERE attempt_id IN (SELECT value FROM json_each(?))", (ids_json,))}
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
                f"INSERT INTO attempts ({_ATTEMPT_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)", new)
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
        _check_limit(limit)
        where: list[str] = ["learner_id = ?"]
        params: list[Any] = [learner_id]
        if cursor is not None:
            ts_us, attempt_id = _decode_cursor(cursor)
            where.append("(ts_us < ? OR (ts_us = ? AND attempt_id < ?))")
            params += [ts_us, ts_us, attempt_id]
        if since is not None:
            where.append("ts_us >= ?")
            params.append(to_us(since, "since"))
        sql = (f"SELECT {_ATTEMPT_COLS} FROM attempts WHERE {' AND '.join(where)}"
               " ORDER BY ts_us DESC, attempt_id DESC LIMIT ?")

        def run(conn: sqlite3.Connection) -> AttemptPage:
            rows = conn.execute(sql, (*params, limit + 1)).fetchall()
            page = rows[:limit]
            nxt = (_encode_cursor(page[-1]["ts_us"], page[-1]["attempt_id"])
                   if len(rows) > limit else None)
            return AttemptPage(tuple(_attempt_row(r) for r in page), nxt)

        return await self._call(run)

    async def attempt_count(self, learner_id: str | None = None) -> int:
        def run(conn: sqlite3.Connection) -> int:
            if learner_id is None:
                return int(conn.execute("SELECT count(*) FROM attempts").fetchone()[0])
            return int(conn.execute("SELECT count(*) FROM attempts WHERE learner_id = ?",
                                    (learner_id,)).fetchone()[0])

        return await self._call(run)

    # -- mastery ---------------------------------------------------------------------------

    async def save_mastery(self, rows: Sequence[Mastery]) -> None:
        values = []
        for m in rows:
            if not _in_range(m.probability, 0.0, 1.0):
                raise ValidationError("probability", f"{m.probability!r} for "
                                      f"({m.learner_id!r}, {m.skill_id!r}) is outside [0, 1]")
            if not _in_range(m.uncertainty, 0.0, math.inf):
                raise ValidationError("uncertainty", f"{m.uncertainty!r} for "
                                      f"({m.learner_id!r}, {m.skill_id!r}) must be >= 0")
            values.append((m.learner_id, m.skill_id, float(m.probability),
                           float(m.uncertainty), to_us(m.updated_at, "updated_at"),
                           m.model_version))

        def run(conn: sqlite3.Connection) -> None:
            _require(conn, "learners", "learner", {v[0] for v in values})
            _require(conn, "skills", "skill", {v[1] for v in values})
            conn.executemany(
                f"INSERT OR REPLACE INTO mastery ({_MASTERY_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                values)

        await self._write(run)

    async def mastery_of(self, learner_ids: Sequence[str]) -> list[list[Mastery]]:
        def run(conn: sqlite3.Connection) -> list[list[Mastery]]:
            return _mastery_by_learner(conn, learner_ids)

        return await self._call(run)

    async def mastery_of_group(self, group_id: str) -> Mapping[str, list[Mastery]]:
        def run(conn: sqlite3.Connection) -> dict[str, list[Mastery]]:
            members = [r[0] for r in conn.execute(
                "SELECT learner_id FROM group_learners WHERE group_id = ? ORDER BY learner_id",
                (group_id,))]
            return dict(zip(members, _mastery_by_learner(conn, members), strict=True))

        return await self._call(run)

    # -- tracer state ----------------------------------------------------------------------

    async def load_tracer_states(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[bytes | None]:
        def run(conn: sqlite3.Connection) -> list[bytes | None]:
            rows = conn.execute(
                "SELECT learner_id, state FROM tracer_states WHERE model_version = ?"
                " AND learner_id IN (SELECT value FROM json_each(?))",
                (model_version, _ids_json(learner_ids)))
            found = {r[0]: bytes(r[1]) for r in rows}
            return [found.get(i) for i in learner_ids]

        return await self._call(run)

    async def save_tracer_states(self, states: Sequence[tuple[str, str, bytes]]) -> None:
        rows = [(lid, version, sqlite3.Binary(state)) for lid, version, state in states]

        def run(conn: sqlite3.Connection) -> None:
            _require(conn, "learners", "learner", {r[0] for r in rows})
            conn.executemany(
                "INSERT OR REPLACE INTO tracer_states (learner_id, model_version, state)"
                " VALUES (?, ?, ?)", rows)

        await self._write(run)


# -- helpers run on the worker thread -----------------------------------------------------


def _connect(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")  # up to 64 MiB of pages, used as needed
        conn.create_function("lg_lower", 1, _lower, deterministic=True)
    except sqlite3.Error as exc:
        raise StoreUnavailableError(
            f"cannot open SQLite database {path!r}: {exc}; check that the directory exists "
            "and is writable") from exc
    return conn


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _in_transaction(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _require(conn: sqlite3.Connection, table: str, entity: str, ids: Iterable[str]) -> None:
    wanted = sorted(set(ids))
    if not wanted:
        return
    found = {r[0] for r in conn.execute(
        f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
        (_ids_json(wanted),))}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFoundError(entity, missing)


def _append_log(conn: sqlite3.Connection, actor: str, at_us: int,
                entries: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
    conn.executemany(
        "INSERT INTO change_log (actor, at_us, action, entity, entity_id, detail)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(actor, at_us, action, entity, eid, json.dumps(detail, sort_keys=True))
         for action, entity, eid, detail in entries])


def _validate_item(item: Item) -> None:
    if not item.id:
        raise ValidationError("item.id", "an item needs a non-empty id")
    try:
        ItemKind(item.kind)
    except ValueError:
        raise ValidationError("item.kind", f"{item.kind!r} of {item.id!r} is not one of "
                              f"{', '.join(k.value for k in ItemKind)}") from None
    if not _in_range(item.difficulty, 0.0, 1.0):
        raise ValidationError("item.difficulty", f"{item.difficulty!r} of {item.id!r} is "
                              "outside [0, 1] (0 easiest, 1 hardest)")
    if not isinstance(item.expected_seconds, int) or item.expected_seconds < 0:
        raise ValidationError("item.expected_seconds", f"{item.expected_seconds!r} of "
                              f"{item.id!r} must be a whole number of seconds >= 0")
    seen: set[str] = set()
    for w in item.skills:
        if not _in_range(w.weight, 0.0, 1.0) or w.weight == 0:
            raise ValidationError("item.skills.weight", f"{w.weight!r} for skill "
                                  f"{w.skill_id!r} of {item.id!r} must be in (0, 1]")
        if w.skill_id in seen:
            raise ValidationError("item.skills", f"{item.id!r} lists skill {w.skill_id!r} "
                                  "twice; give each skill once with one weight")
        seen.add(w.skill_id)


def _attempt_values(a: Attempt) -> tuple[Any, ...]:
    if not a.attempt_id:
        raise ValidationError("attempt_id", "an attempt needs a non-empty, client-chosen id")
    if not _in_range(a.score, 0.0, 1.0):
        raise ValidationError("score", f"{a.score!r} of attempt {a.attempt_id!r} is outside "
                              "[0, 1]; use 1.0 for right, 0.0 for wrong")
    if a.response_time_ms is not None and (
            not isinstance(a.response_time_ms, int) or a.response_time_ms < 0):
        raise ValidationError("response_time_ms", f"{a.response_time_ms!r} of attempt "
                              f"{a.attempt_id!r} must be None or an integer >= 0")
    if not isinstance(a.hints_used, int) or a.hints_used < 0:
        raise ValidationError("hints_used", f"{a.hints_used!r} of attempt {a.attempt_id!r} "
                              "must be an integer >= 0")
    return (a.attempt_id, a.learner_id, a.item_id, float(a.score),
            to_us(a.timestamp, "timestamp"), a.response_time_ms, a.hints_used)


def _load_items(conn: sqlite3.Connection, where: str, params: Sequence[Any],
                limit: int | None = None) -> list[Item]:
    sql = f"SELECT {_ITEM_COLS} FROM items WHERE {where} ORDER BY id"
    rows = conn.execute(sql + (" LIMIT ?" if limit is not None else ""),
                        (*params, limit) if limit is not None else tuple(params)).fetchall()
    links: dict[str, list[SkillWeight]] = defaultdict(list)
    for r in conn.execute(
            "SELECT item_id, skill_id, weight FROM item_skills WHERE item_id IN"
            " (SELECT value FROM json_each(?)) ORDER BY item_id, position",
            (_ids_json(r["id"] for r in rows),)):
        links[r[0]].append(SkillWeight(r[1], r[2]))
    return [Item(id=r["id"], kind=ItemKind(r["kind"]), title=r["title"],
                 skills=tuple(links.get(r["id"], ())), body=r["body"], url=r["url"],
                 difficulty=r["difficulty"], expected_seconds=r["expected_seconds"])
            for r in rows]


def _load_learners(conn: sqlite3.Connection, ids_json: str) -> list[Learner]:
    goals: dict[str, list[str]] = defaultdict(list)
    for r in conn.execute(
            "SELECT learner_id, skill_id FROM learner_goals WHERE learner_id IN"
            " (SELECT value FROM json_each(?)) ORDER BY learner_id, position", (ids_json,)):
        goals[r[0]].append(r[1])
    rows = conn.execute("SELECT id, display_name FROM learners WHERE id IN"
                        " (SELECT value FROM json_each(?)) ORDER BY id", (ids_json,))
    return [Learner(r[0], r[1], tuple(goals.get(r[0], ()))) for r in rows]


def _load_groups(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[Group]:
    rows = conn.execute(f"SELECT id, name FROM groups WHERE {where} ORDER BY id",
                        tuple(params)).fetchall()
    ids_json = _ids_json(r[0] for r in rows)
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    for table, column in (("group_teachers", "teacher_id"), ("group_learners", "learner_id")):
        for r in conn.execute(
                f"SELECT group_id, {column} FROM {table} WHERE group_id IN"
                " (SELECT value FROM json_each(?)) ORDER BY group_id, position", (ids_json,)):
            members[(table, r[0])].append(r[1])
    return [Group(r[0], r[1], tuple(members.get(("group_teachers", r[0]), ())),
                  tuple(members.get(("group_learners", r[0]), ()))) for r in rows]


def _edges_by(conn: sqlite3.Connection, column: str,
              skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
    rows = conn.execute(
        f"SELECT source, target, strength FROM prerequisites WHERE {column} IN"
        " (SELECT value FROM json_each(?)) ORDER BY source, target", (_ids_json(skill_ids),))
    by_skill: dict[str, list[Prerequisite]] = defaultdict(list)
    for r in rows:
        by_skill[r[column]].append(Prerequisite(r[0], r[1], r[2]))
    return [list(by_skill.get(s, [])) for s in skill_ids]


def _closure(conn: sqlite3.Connection, skill_ids: Sequence[str], depth: int | None,
             step: str, anchor: str) -> PrerequisiteGraph:
    """The skills reachable from ``skill_ids`` by following edges from ``anchor`` to ``step``
    (ancestors: target -> source), within ``depth`` edges, and the edges among them."""
    rows = conn.execute(
        f"""
        WITH RECURSIVE reach(id, d) AS (
            SELECT id, 0 FROM skills WHERE id IN (SELECT value FROM json_each(?1))
            UNION
            SELECT p.{step}, CASE WHEN ?2 IS NULL THEN 0 ELSE reach.d + 1 END
            FROM prerequisites p JOIN reach ON p.{anchor} = reach.id
            WHERE ?2 IS NULL OR reach.d < ?2
        )
        SELECT {_SKILL_COLS} FROM skills WHERE id IN (SELECT id FROM reach) ORDER BY id
        """,
        (_ids_json(skill_ids), depth),
    ).fetchall()
    members = {r["id"] for r in rows}
    # incoming edges of every member (one index probe each), kept when the source is a member
    # too; a double "IN (list)" filter would probe every pair instead
    incoming = conn.execute(
        "SELECT p.source, p.target, p.strength FROM json_each(?) j"
        " JOIN prerequisites p ON p.target = j.value", (_ids_json(members),))
    edges = sorted((Prerequisite(e[0], e[1], e[2]) for e in incoming if e[0] in members),
                   key=lambda e: (e.source, e.target))
    return PrerequisiteGraph(tuple(_skill_row(r) for r in rows), tuple(edges))


def _mastery_by_learner(conn: sqlite3.Connection,
                        learner_ids: Sequence[str]) -> list[list[Mastery]]:
    rows = conn.execute(
        f"SELECT {_MASTERY_COLS} FROM mastery WHERE learner_id IN"
        " (SELECT value FROM json_each(?)) ORDER BY learner_id, skill_id",
        (_ids_json(learner_ids),))
    by_learner: dict[str, list[Mastery]] = defaultdict(list)
    for r in rows:
        by_learner[r["learner_id"]].append(_mastery_row(r))
    return [list(by_learner.get(lid, [])) for lid in learner_ids]


__all__ = ["SqliteStore", "from_us", "to_us"]
