"""The production store: a Neo4j server, reached with the official async driver.

Every call is one managed transaction (``execute_read`` / ``execute_write``: the driver retries
it on transient errors such as deadlocks or a leader switch) with a server-side timeout, and
runs a fixed, small number of statements whatever the batch size: batches travel as one
``UNWIND $rows`` parameter. All Cypher lives in :mod:`graph.cypher`; conversions and input
checks (the same rules as the embedded store) in :mod:`graph.neo4j_values`.

Writes are atomic: a write's checks (unknown ids, conflicting attempts, prerequisite cycles)
run inside its transaction, and raising from the transaction function rolls everything back.
Packstream encoding uses the ``neo4j-rust-ext`` extension when it is installed; see
:func:`rust_extension_loaded`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, Query, unit_of_work
from neo4j.exceptions import (
    ConfigurationError,
    ConstraintError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)

from graph import cypher
from graph import neo4j_values as v
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
    Skill,
    User,
    utcnow,
)
from graph.store import (
    AttemptConflictError,
    CycleError,
    GraphStoreError,
    NotFoundError,
    StoreUnavailableError,
)

T = TypeVar("T")
Tx = AsyncManagedTransaction
Rows = list[dict[str, Any]]
Change = tuple[str, str, str, dict[str, Any]]

DEFAULT_TIMEOUT_S = 60.0
log = logging.getLogger(__name__)


class _ConstraintRace(GraphStoreError):
    """Internal: a uniqueness constraint refused a write, e.g. a concurrent call stored the
    same new attempt id first; record_attempts retries once, others report it."""


def rust_extension_loaded() -> bool:
    """Whether the driver packs and unpacks Bolt messages with ``neo4j-rust-ext``."""
    import neo4j._codec.packstream as packstream
    import neo4j._codec.packstream.v1 as v1

    return (bool(getattr(packstream, "RUST_AVAILABLE", False))
            and getattr(v1, "_rust_pack", None) is not None
            and getattr(v1, "_rust_unpack", None) is not None)


async def _rows(tx: Tx, query: str, **params: Any) -> Rows:
    """The records as dicts. The queries return only maps, lists and scalars, so the values
    need none of ``Record.data()``'s (costly) recursive conversion."""
    result = await tx.run(query, params)
    keys = result.keys()
    return [dict(zip(keys, record, strict=True)) async for record in result]


async def _missing(tx: Tx, label: str, entity: str, ids: set[str]) -> None:
    if ids:
        rows = await _rows(tx, cypher.missing_ids(label), ids=sorted(ids))
        if rows[0]["missing"]:
            raise NotFoundError(entity, sorted(rows[0]["missing"]))


def _by_key(rows: Rows, key: str, value: Callable[[dict[str, Any]], T]) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(value(row))
    return grouped


class Neo4jStore:
    """``GraphStore`` on a Neo4j 5 server. Open with ``await Neo4jStore.open(uri, auth=...)``."""

    kind = "neo4j"

    def __init__(
        self,
        driver: AsyncDriver,
        *,
        database: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._driver = driver
        self._database = database
        self._timeout = timeout
        self._clock = clock
        self._closed = False

    @classmethod
    async def open(
        cls,
        uri: str,
        *,
        auth: tuple[str, str] | None = None,
        database: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], datetime] = utcnow,
    ) -> Neo4jStore:
        """Connect to ``uri`` and check that the server answers (StoreUnavailableError if not)."""
        try:
            driver = AsyncGraphDatabase.driver(uri, auth=auth, connection_timeout=10.0)
        except (DriverError, Neo4jError, ValueError) as exc:
            raise StoreUnavailableError(
                f"bad Neo4j URL {uri!r}: {exc}; use bolt://host:7687 or neo4j://host:7687"
            ) from exc
        try:
            await driver.verify_connectivity()
        except (ConfigurationError, ValueError) as exc:  # e.g. a port that is not a number
            await driver.close()
            raise StoreUnavailableError(
                f"bad Neo4j URL {uri!r}: {exc}; use bolt://host:7687 or neo4j://host:7687"
            ) from exc
        except (DriverError, Neo4jError, OSError) as exc:
            await driver.close()
            raise StoreUnavailableError(
                f"cannot reach Neo4j at {uri} ({type(exc).__name__}: {exc}); start a server "
                "with `learngraph neo4j start` or check the URL and NEO4J_USER/NEO4J_PASSWORD"
            ) from exc
        if not rust_extension_loaded():
            log.warning("neo4j-rust-ext is not loaded: Bolt messages are packed in pure Python "
                        "(several times slower); install neo4j-rust-ext matching neo4j")
        return cls(driver, database=database, timeout=timeout, clock=clock)

    async def close(self) -> None:
        self._closed = True
        await self._driver.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreUnavailableError("this Neo4j store is closed; open a new one")

    # -- transactions ----------------------------------------------------------------------

    async def _tx(self, write: bool, work: Callable[[Tx], Awaitable[T]]) -> T:
        self._check_open()
        bounded = unit_of_work(timeout=self._timeout)(work)
        try:
            async with self._driver.session(database=self._database) as session:
                if write:
                    return await session.execute_write(bounded)
                return await session.execute_read(bounded)
        except GraphStoreError:
            raise
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise StoreUnavailableError(f"Neo4j is unavailable: {exc}") from exc
        except ConstraintError as exc:
            raise _ConstraintRace(f"Neo4j constraint violated (a concurrent write?): {exc}; "
                                  "retry the call") from exc
        except (Neo4jError, DriverError) as exc:
            raise GraphStoreError(f"Neo4j error: {exc}") from exc

    async def _read(self, query: str, **params: Any) -> Rows:
        async def work(tx: Tx) -> Rows:
            return await _rows(tx, query, **params)

        return await self._tx(False, work)

    async def _read_all(self, query: str, **params: Any) -> Rows:
        """For queries returning one record whose ``rows`` column collects the result."""
        rows: Rows = (await self._read(query, **params))[0]["rows"]
        return rows

    async def _run_auto_commit(
        self, query: str, *, timeout: float | None = None, **params: Any
    ) -> None:
        """Schema statements and ``CALL {} IN TRANSACTIONS`` need an auto-commit transaction."""
        self._check_open()
        bounded = Query(query, timeout=self._timeout if timeout is None else timeout)
        try:
            async with self._driver.session(database=self._database) as session:
                result = await session.run(bounded, params)
                await result.consume()
        except (ServiceUnavailable, SessionExpired, OSError) as exc:
            raise StoreUnavailableError(f"Neo4j is unavailable: {exc}") from exc
        except (Neo4jError, DriverError) as exc:
            raise GraphStoreError(f"Neo4j error running {query.strip()[:80]!r}: {exc}") from exc

    async def _append_changes(self, tx: Tx, actor: str, changes: Sequence[Change]) -> None:
        if changes:
            rows = [v.change_row(*c) for c in changes]
            await _rows(tx, cypher.APPEND_CHANGES, changes=rows, actor=actor, at=self._clock())

    # -- migrations and tests --------------------------------------------------------------

    async def applied_migrations(self) -> dict[int, str]:
        rows = await self._read(cypher.APPLIED_MIGRATIONS)
        return {int(r["version"]): str(r["checksum"]) for r in rows}

    async def apply_migration(
        self, version: int, name: str, checksum: str, statements: Sequence[str]
    ) -> None:
        """Neo4j cannot mix schema and data in one transaction: each statement runs on its
        own (the shipped ones are ``IF NOT EXISTS``, so a re-run after a crash is safe), then
        the migration is recorded."""
        for statement in statements:
            await self._run_auto_commit(statement)

        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.RECORD_MIGRATION, version=version, name=name,
                        checksum=checksum, applied_at=self._clock())

        await self._tx(True, work)

    async def wipe_all_data_for_tests(self) -> None:
        """TEST ONLY: delete every node and relationship except migration records."""
        # batched deletes of a benchmark-sized database can outlast the per-call timeout
        await self._run_auto_commit(cypher.WIPE_ALL_DATA_FOR_TESTS,
                                    timeout=max(self._timeout, 900.0))

    # -- curriculum reads ------------------------------------------------------------------

    async def get_skills(self, ids: Sequence[str]) -> list[Skill | None]:
        rows = await self._read_all(cypher.GET_SKILLS, ids=list(ids))
        found = {r["skill"]["id"]: v.skill(r["skill"]) for r in rows}
        return [found.get(i) for i in ids]

    async def get_items(self, ids: Sequence[str]) -> list[Item | None]:
        rows = await self._read_all(cypher.GET_ITEMS, ids=list(ids))
        found = {r["item"]["id"]: v.item(r["item"]) for r in rows}
        return [found.get(i) for i in ids]

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
        v.check_limit(limit)
        query = cypher.list_skills(topic=topic is not None, area=area is not None,
                                   search=search is not None, has_prerequisite=has_prerequisite)
        rows = await self._read_all(query, after=after or "", limit=limit, topic=topic, area=area,
                                search=None if search is None else search.lower())
        return [v.skill(r["skill"]) for r in rows]

    async def list_items(
        self,
        *,
        skill_id: str | None = None,
        kind: ItemKind | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> list[Item]:
        v.check_limit(limit)
        query = cypher.list_items(skill=skill_id is not None, kind=kind is not None)
        rows = await self._read_all(query, after=after or "", limit=limit, skill_id=skill_id,
                                kind=None if kind is None else ItemKind(kind).value)
        return [v.item(r["item"]) for r in rows]

    async def items_for_skills(self, skill_ids: Sequence[str]) -> list[list[Item]]:
        rows = await self._read_all(cypher.ITEMS_FOR_SKILLS, ids=list(dict.fromkeys(skill_ids)))
        grouped = _by_key(rows, "sid", lambda r: v.item(r["item"]))
        return [sorted(grouped.get(s, []), key=lambda i: i.id) for s in skill_ids]

    async def prerequisite_graph(self) -> PrerequisiteGraph:
        return self._graph(await self._read_all(cypher.PREREQUISITE_GRAPH), keep_all_edges=True)

    @staticmethod
    def _graph(rows: Rows, *, keep_all_edges: bool = False) -> PrerequisiteGraph:
        # Deduplicated here: with several start ids, Neo4j 5.26 can plan the closure's
        # ``WITH DISTINCT`` away (a unique-index seek feeding the pruning expand) and return a
        # skill reachable from two starts twice.
        unique = {r["skill"]["id"]: r for r in rows}
        skills = sorted((v.skill(r["skill"]) for r in unique.values()), key=lambda s: s.id)
        edges = [e for sid, r in unique.items() for e in v.edges_into(sid, r["incoming"])
                 if keep_all_edges or e.source in unique]
        edges.sort(key=lambda e: (e.source, e.target))
        return PrerequisiteGraph(tuple(skills), tuple(edges))

    async def prerequisites_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        rows = await self._read_all(cypher.PREREQUISITES_OF, ids=list(dict.fromkeys(skill_ids)))
        grouped = _by_key(rows, "sid", lambda r: Prerequisite(r["other"], r["sid"],
                                                              float(r["strength"])))
        return [sorted(grouped.get(s, []), key=lambda e: e.source) for s in skill_ids]

    async def dependents_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        rows = await self._read_all(cypher.DEPENDENTS_OF, ids=list(dict.fromkeys(skill_ids)))
        grouped = _by_key(rows, "sid", lambda r: Prerequisite(r["sid"], r["other"],
                                                              float(r["strength"])))
        return [sorted(grouped.get(s, []), key=lambda e: e.target) for s in skill_ids]

    async def ancestors(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        v.check_depth(depth)
        rows = await self._read_all(cypher.closure("ancestors", depth), ids=list(skill_ids))
        return self._graph(rows)

    async def descendants(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        v.check_depth(depth)
        rows = await self._read_all(cypher.closure("descendants", depth), ids=list(skill_ids))
        return self._graph(rows)

    # -- curriculum writes -----------------------------------------------------------------

    async def upsert_skills(self, skills: Sequence[Skill], *, actor: str) -> None:
        rows = [v.skill_props(s) for s in skills]
        log: list[Change] = [("upsert", "skill", s.id,
                              {"name": s.name, "topic": s.topic, "area": s.area})
                             for s in skills]

        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.LOCK_CURRICULUM)
            await _rows(tx, cypher.UPSERT_SKILLS, rows=rows)
            await self._append_changes(tx, actor, log)

        await self._tx(True, work)

    async def upsert_items(self, items: Sequence[Item], *, actor: str) -> None:
        rows = [v.item_row(i) for i in items]
        skill_ids = {w.skill_id for i in items for w in i.skills}
        log: list[Change] = [("upsert", "item", i.id,
                              {"kind": ItemKind(i.kind).value, "title": i.title,
                               "skills": [w.skill_id for w in i.skills]}) for i in items]

        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.LOCK_CURRICULUM)
            await _missing(tx, "Skill", "skill", skill_ids)
            await _rows(tx, cypher.UPSERT_ITEMS, rows=rows)
            await self._append_changes(tx, actor, log)

        await self._tx(True, work)

    async def upsert_prerequisites(self, edges: Sequence[Prerequisite], *, actor: str) -> None:
        rows = [v.prerequisite_row(e) for e in edges]
        log: list[Change] = [("upsert", "prerequisite", f"{r['source']}->{r['target']}", r)
                             for r in rows]

        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.LOCK_CURRICULUM)
            await _missing(tx, "Skill", "skill", {s for r in rows for s in (r["source"],
                                                                              r["target"])})
            await _rows(tx, cypher.UPSERT_PREREQUISITES, rows=rows)
            found = await _rows(tx, cypher.FIND_CYCLE, rows=rows)
            if found:  # raising rolls the edges back
                source = rows[found[0]["k"]]["source"]
                raise CycleError([source, *found[0]["path"]])
            await self._append_changes(tx, actor, log)

        if rows:
            await self._tx(True, work)

    async def remove_skills(self, ids: Sequence[str], *, actor: str) -> None:
        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.LOCK_CURRICULUM)
            removed = await _rows(tx, cypher.REMOVE_SKILLS, ids=list(ids))
            existing = {r["id"] for r in removed}
            edges = sorted({(s, t) for r in removed for s, t in r["edges"]})
            log: list[Change] = [("remove", "prerequisite", f"{s}->{t}",
                                  {"source": s, "target": t}) for s, t in edges]
            log += [("remove", "skill", i, {}) for i in dict.fromkeys(ids) if i in existing]
            await self._append_changes(tx, actor, log)

        await self._tx(True, work)

    async def remove_items(self, ids: Sequence[str], *, actor: str) -> None:
        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.LOCK_CURRICULUM)
            existing = {r["id"] for r in await _rows(tx, cypher.REMOVE_ITEMS, ids=list(ids))}
            await self._append_changes(
                tx, actor, [("remove", "item", i, {}) for i in dict.fromkeys(ids)
                            if i in existing])

        await self._tx(True, work)

    async def remove_prerequisites(
        self, edges: Sequence[tuple[str, str]], *, actor: str
    ) -> None:
        pairs = list(dict.fromkeys((s, t) for s, t in edges))
        rows = [{"source": s, "target": t} for s, t in pairs]

        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.LOCK_CURRICULUM)
            gone = {(r["source"], r["target"])
                    for r in await _rows(tx, cypher.REMOVE_PREREQUISITES, rows=rows)}
            await self._append_changes(
                tx, actor, [("remove", "prerequisite", f"{s}->{t}", {"source": s, "target": t})
                            for s, t in pairs if (s, t) in gone])

        await self._tx(True, work)

    async def change_log(
        self, *, after_seq: int = 0, limit: int = 100
    ) -> list[CurriculumChange]:
        v.check_limit(limit)
        rows = await self._read_all(cypher.CHANGE_LOG, after_seq=after_seq, limit=limit)
        return [v.change(r["change"]) for r in rows]

    # -- people ----------------------------------------------------------------------------

    async def get_learners(self, ids: Sequence[str]) -> list[Learner | None]:
        rows = await self._read_all(cypher.GET_LEARNERS, ids=list(ids))
        found = {r["learner"]["id"]: v.learner(r["learner"]) for r in rows}
        return [found.get(i) for i in ids]

    async def list_learners(self, *, after: str | None = None, limit: int = 100
                            ) -> list[Learner]:
        v.check_limit(limit)
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
        rows = [v.learner_row(lr) for lr in learners]

        async def work(tx: Tx) -> None:
            await _missing(tx, "Skill", "skill", {g for r in rows for g in r["goals"]})
            await _rows(tx, cypher.UPSERT_LEARNERS, rows=rows)

        await self._tx(True, work)

    async def upsert_users(self, users: Sequence[User]) -> None:
        rows = [v.user_props(u) for u in users]

        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.UPSERT_USERS, rows=rows)

        await self._tx(True, work)

    async def upsert_groups(self, groups: Sequence[Group]) -> None:
        rows = [v.group_row(g) for g in groups]

        async def work(tx: Tx) -> None:
            await _missing(tx, "Learner", "learner", {m for r in rows for m in r["learner_ids"]})
            await _rows(tx, cypher.UPSERT_GROUPS, rows=rows)

        await self._tx(True, work)

    async def remove_groups(self, ids: Sequence[str]) -> None:
        async def work(tx: Tx) -> None:
            await _rows(tx, cypher.REMOVE_GROUPS, ids=list(ids))

        await self._tx(True, work)

    async def groups_of_teacher(self, teacher_id: str) -> list[Group]:
        rows = await self._read_all(cypher.GROUPS_OF_TEACHER, teacher_id=teacher_id)
        return [v.group(r["grp"]) for r in rows]

    async def groups_of_learners(self, learner_ids: Sequence[str]) -> list[list[Group]]:
        rows = await self._read_all(cypher.GROUPS_OF_LEARNERS, ids=list(dict.fromkeys(learner_ids)))
        grouped = _by_key(rows, "lid", lambda r: v.group(r["grp"]))
        return [sorted(grouped.get(i, []), key=lambda g: g.id) for i in learner_ids]

    async def learners_of_groups(self, group_ids: Sequence[str]) -> list[list[Learner]]:
        rows = await self._read_all(cypher.LEARNERS_OF_GROUPS, ids=list(dict.fromkeys(group_ids)))
        grouped = _by_key(rows, "gid", lambda r: v.learner(r["learner"]))
        return [sorted(grouped.get(i, []), key=lambda lr: lr.id) for i in group_ids]

    # -- attempts --------------------------------------------------------------------------

    async def record_attempts(self, attempts: Sequence[Attempt]) -> RecordResult:
        """One statement per call on the happy path: write the new ids, get the stored ones
        back, compare in Python. Any problem (unknown learner or item, an id reused with other
        content) is diagnosed in the same transaction and raised, which rolls it all back."""
        rows = [v.attempt_row(a) for a in attempts]
        first: dict[str, dict[str, Any]] = {}
        for row in rows:
            first.setdefault(row["id"], row)
        unique = list(first.values())

        async def work(tx: Tx) -> RecordResult:
            out = (await _rows(tx, cypher.INSERT_ATTEMPTS, rows=unique))[0]
            stored = {p["id"]: v.attempt(p) for p in out["existing"]}
            new_ids = [r["id"] for r in unique if r["id"] not in stored]
            duplicates: list[str] = []
            conflicts: list[str] = []
            seen: set[str] = set()
            for row in rows:
                aid = row["id"]
                if aid not in stored and aid not in seen:
                    seen.add(aid)  # the first occurrence of a new id: stored
                    continue
                before = stored[aid] if aid in stored else v.attempt(first[aid])
                (duplicates if before == v.attempt(row) else conflicts).append(aid)
            if out["created"] != len(new_ids) or conflicts:
                await self._diagnose_attempts(tx, rows)
                if conflicts:
                    raise AttemptConflictError(list(dict.fromkeys(conflicts)))
                raise GraphStoreError(  # only if a learner or item vanished mid-transaction
                    f"stored {out['created']} of {len(new_ids)} new attempts; retry the call")
            return RecordResult(stored=tuple(new_ids), duplicates=tuple(duplicates))

        if not rows:
            return RecordResult(stored=(), duplicates=())
        try:
            return await self._tx(True, work)
        except _ConstraintRace:
            # A concurrent call stored one of these ids first; the retry sees it as stored.
            return await self._tx(True, work)

    @staticmethod
    async def _diagnose_attempts(tx: Tx, rows: Rows) -> None:
        check = (await _rows(tx, cypher.MISSING_LEARNERS_AND_ITEMS,
                             learner_ids=sorted({r["learner_id"] for r in rows}),
                             item_ids=sorted({r["item_id"] for r in rows})))[0]
        if check["missing_learners"]:
            raise NotFoundError("learner", check["missing_learners"])
        if check["missing_items"]:
            raise NotFoundError("item", check["missing_items"])

    async def attempts_of(
        self,
        learner_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        since: datetime | None = None,
    ) -> AttemptPage:
        v.check_limit(limit)
        params: dict[str, Any] = {"learner_id": learner_id, "limit": limit + 1}
        if cursor is not None:
            params["ts"], params["aid"] = v.decode_cursor(cursor)
        if since is not None:
            params["since"] = v.utc(since, "since")
        query = cypher.attempts_of(since=since is not None, cursor=cursor is not None)
        found = [v.attempt(r["attempt"]) for r in await self._read_all(query, **params)]
        page = found[:limit]
        nxt = (v.encode_cursor(page[-1].timestamp, page[-1].attempt_id)
               if len(found) > limit else None)
        return AttemptPage(tuple(page), nxt)

    async def attempt_count(self, learner_id: str | None = None) -> int:
        if learner_id is None:
            rows = await self._read(cypher.ATTEMPT_COUNT_ALL)
        else:
            rows = await self._read(cypher.ATTEMPT_COUNT_OF, learner_id=learner_id)
        return int(rows[0]["n"])

    async def item_gain_counts(
        self, item_ids: Sequence[str] | None = None
    ) -> dict[str, tuple[int, int]]:
        if item_ids is None:
            rows = await self._read_all(cypher.item_gain_counts(only=False))
        elif not item_ids:
            return {}
        else:
            rows = await self._read_all(
                cypher.item_gain_counts(only=True), ids=list(dict.fromkeys(item_ids))
            )
        return {str(r["item"]): (int(r["s"]), int(r["f"])) for r in rows}

    # -- mastery ---------------------------------------------------------------------------

    async def save_mastery(self, rows: Sequence[Mastery]) -> None:
        values = [v.mastery_row(m) for m in rows]

        async def work(tx: Tx) -> None:
            written = (await _rows(tx, cypher.SAVE_MASTERY, rows=values))[0]["written"]
            if written != len(values):  # diagnose, raise, roll back
                await _missing(tx, "Learner", "learner", {r["learner_id"] for r in values})
                await _missing(tx, "Skill", "skill", {r["skill_id"] for r in values})
                raise GraphStoreError(f"saved {written} of {len(values)} mastery rows; retry")

        if values:
            await self._tx(True, work)

    async def mastery_of(self, learner_ids: Sequence[str]) -> list[list[Mastery]]:
        rows = await self._read_all(cypher.MASTERY_OF, ids=list(dict.fromkeys(learner_ids)))
        grouped = _by_key(rows, "lid", lambda r: v.mastery(r["lid"], r["mastery"]))
        return [sorted(grouped.get(i, []), key=lambda m: m.skill_id) for i in learner_ids]

    async def mastery_of_group(self, group_id: str) -> Mapping[str, list[Mastery]]:
        rows = await self._read_all(cypher.MASTERY_OF_GROUP, group_id=group_id)
        return {r["lid"]: sorted((v.mastery(r["lid"], m) for m in r["masteries"]),
                                 key=lambda m: m.skill_id) for r in rows}

    # -- tracer state ----------------------------------------------------------------------

    async def load_tracer_states(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[bytes | None]:
        rows = await self._read_all(cypher.LOAD_TRACER_STATES, ids=list(dict.fromkeys(learner_ids)),
                                model_version=model_version)
        found = {r["lid"]: bytes(r["state"]) for r in rows}
        return [found.get(i) for i in learner_ids]

    async def save_tracer_states(self, states: Sequence[tuple[str, str, bytes]]) -> None:
        rows: Rows = [{"learner_id": lid, "model_version": mv, "state": bytes(state)}
                for lid, mv, state in states]

        async def work(tx: Tx) -> None:
            written = (await _rows(tx, cypher.SAVE_TRACER_STATES, rows=rows))[0]["written"]
            if written != len(rows):  # diagnose, raise, roll back
                await _missing(tx, "Learner", "learner", {r["learner_id"] for r in rows})
                raise GraphStoreError(f"saved {written} of {len(rows)} tracer states; retry")

        if rows:
            await self._tx(True, work)


__all__ = ["Neo4jStore", "rust_extension_loaded"]
