"""Queries of the SQLite store that run on its worker thread, given the connection: opening
it, the transaction wrapper, existence checks, the change log and the multi-table loaders."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from graph.models import (
    Group,
    Item,
    ItemKind,
    Learner,
    Mastery,
    Prerequisite,
    PrerequisiteGraph,
    Skill,
    SkillWeight,
)
from graph.sqlite_rows import (
    ITEM_COLS,
    MASTERY_COLS,
    SKILL_COLS,
    ids_json,
    mastery_row,
    skill_row,
)
from graph.store import NotFoundError, StoreUnavailableError

T = TypeVar("T")
V = TypeVar("V")

MIGRATIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
    " applied_us INTEGER NOT NULL)"
)


def connect(path: str) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA cache_size = -65536")  # up to 64 MiB of pages, used as needed
        conn.create_function("lg_lower", 1, lower, deterministic=True)
    except sqlite3.Error as exc:
        raise StoreUnavailableError(
            f"cannot open SQLite database {path!r}: {exc}; check that the directory exists "
            "and is writable") from exc
    return conn


def lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def in_transaction(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, *args)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def require(conn: sqlite3.Connection, table: str, entity: str, ids: Iterable[str]) -> None:
    wanted = sorted(set(ids))
    if not wanted:
        return
    found = {r[0] for r in conn.execute(
        f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
        (ids_json(wanted),))}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise NotFoundError(entity, missing)


def delete_present(conn: sqlite3.Connection, table: str, ids: Sequence[str]) -> list[str]:
    """Delete the rows of ``table`` with these ids; the ids that were there, each once, in
    the order given (for the change log)."""
    wanted = ids_json(ids)
    existing = {r[0] for r in conn.execute(
        f"SELECT id FROM {table} WHERE id IN (SELECT value FROM json_each(?))", (wanted,))}
    conn.execute(f"DELETE FROM {table} WHERE id IN (SELECT value FROM json_each(?))", (wanted,))
    return [i for i in dict.fromkeys(ids) if i in existing]


def grouped(keys: Sequence[str], pairs: Iterable[tuple[str, str]],
            found: Mapping[str, V]) -> list[list[V]]:
    """For each of ``keys``, ``found[v]`` of every ``(key, v)`` link in ``pairs``, in ``v``
    order; an empty list for a key without links."""
    by_key: dict[str, list[V]] = defaultdict(list)
    for key, value in sorted(pairs):
        by_key[key].append(found[value])
    return [list(by_key.get(k, [])) for k in keys]


def append_log(conn: sqlite3.Connection, actor: str, at_us: int,
               entries: Sequence[tuple[str, str, str, dict[str, Any]]],
               states: Sequence[tuple[dict[str, Any] | None, dict[str, Any] | None]] = ()
               ) -> int | None:
    """Append one batch of change-log entries (``states``: each entry's before and after,
    when known); returns the batch (the first entry's seq), None for no entries."""
    batch: int | None = None
    for k, (action, entity, eid, detail) in enumerate(entries):
        before, after = states[k] if k < len(states) else (None, None)
        cur = conn.execute(
            "INSERT INTO change_log (actor, at_us, action, entity, entity_id, detail, batch,"
            " before_json, after_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (actor, at_us, action, entity, eid, json.dumps(detail, sort_keys=True), batch,
             None if before is None else json.dumps(before, sort_keys=True),
             None if after is None else json.dumps(after, sort_keys=True)))
        if batch is None:
            batch = cur.lastrowid
            conn.execute("UPDATE change_log SET batch = ? WHERE seq = ?", (batch, batch))
    return batch


def write_skills(conn: sqlite3.Connection, skills: Sequence[Skill]) -> None:
    conn.executemany(
        f"INSERT INTO skills ({SKILL_COLS}) VALUES (?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
        " description = excluded.description, topic = excluded.topic,"
        " area = excluded.area, tags = excluded.tags",
        [(s.id, s.name, s.description, s.topic, s.area, json.dumps(list(s.tags)))
         for s in skills],
    )


def write_items(conn: sqlite3.Connection, items: Sequence[Item]) -> None:
    """Insert or replace items and their whole Q-matrix rows (skills checked by the caller)."""
    conn.executemany(
        f"INSERT INTO items ({ITEM_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, title = excluded.title,"
        " body = excluded.body, url = excluded.url, difficulty = excluded.difficulty,"
        " expected_seconds = excluded.expected_seconds, prompt = excluded.prompt,"
        " choices = excluded.choices, answers = excluded.answers,"
        " hints = excluded.hints, explanation = excluded.explanation",
        [(i.id, ItemKind(i.kind).value, i.title, i.body, i.url, float(i.difficulty),
          int(i.expected_seconds), i.prompt, json.dumps(list(i.choices)),
          json.dumps(list(i.answers)), json.dumps(list(i.hints)), i.explanation)
         for i in items],
    )
    conn.execute(
        "DELETE FROM item_skills WHERE item_id IN (SELECT value FROM json_each(?))",
        (ids_json(i.id for i in items),),
    )
    conn.executemany(
        "INSERT INTO item_skills (item_id, skill_id, weight, position) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (item_id, skill_id) DO UPDATE SET weight = excluded.weight,"
        " position = excluded.position",
        [(i.id, w.skill_id, float(w.weight), pos) for i in items for pos, w in enumerate(i.skills)],
    )


def write_edges(conn: sqlite3.Connection, edges: Sequence[Prerequisite]) -> None:
    conn.executemany(
        "INSERT INTO prerequisites (source, target, strength) VALUES (?, ?, ?)"
        " ON CONFLICT (source, target) DO UPDATE SET strength = excluded.strength",
        [(e.source, e.target, float(e.strength)) for e in edges],
    )


def load_items(conn: sqlite3.Connection, where: str, params: Sequence[Any],
                limit: int | None = None, descending: bool = False) -> list[Item]:
    sql = f"SELECT {ITEM_COLS} FROM items WHERE {where} ORDER BY id{' DESC' if descending else ''}"
    rows = conn.execute(sql + (" LIMIT ?" if limit is not None else ""),
                        (*params, limit) if limit is not None else tuple(params)).fetchall()
    links: dict[str, list[SkillWeight]] = defaultdict(list)
    for r in conn.execute(
            "SELECT item_id, skill_id, weight FROM item_skills WHERE item_id IN"
            " (SELECT value FROM json_each(?)) ORDER BY item_id, position",
            (ids_json(r["id"] for r in rows),)):
        links[r[0]].append(SkillWeight(r[1], r[2]))
    return [Item(id=r["id"], kind=ItemKind(r["kind"]), title=r["title"],
                 skills=tuple(links.get(r["id"], ())), body=r["body"], url=r["url"],
                 difficulty=r["difficulty"], expected_seconds=r["expected_seconds"],
                 prompt=r["prompt"], choices=tuple(json.loads(r["choices"])),
                 answers=tuple(json.loads(r["answers"])), hints=tuple(json.loads(r["hints"])),
                 explanation=r["explanation"])
            for r in rows]


def learner_page(conn: sqlite3.Connection, after: str | None, limit: int) -> list[Learner]:
    """Learners with id > ``after`` (all when None), ordered by id, at most ``limit``."""
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM learners WHERE ?1 IS NULL OR id > ?1 ORDER BY id LIMIT ?2",
        (after, limit))]
    return load_learners(conn, ids_json(ids))


def load_learners(conn: sqlite3.Connection, wanted: str) -> list[Learner]:
    goals: dict[str, list[str]] = defaultdict(list)
    for r in conn.execute(
            "SELECT learner_id, skill_id FROM learner_goals WHERE learner_id IN"
            " (SELECT value FROM json_each(?)) ORDER BY learner_id, position", (wanted,)):
        goals[r[0]].append(r[1])
    rows = conn.execute("SELECT id, display_name, target_retention FROM learners WHERE id IN"
                        " (SELECT value FROM json_each(?)) ORDER BY id", (wanted,))
    return [Learner(r[0], r[1], tuple(goals.get(r[0], ())), r[2]) for r in rows]


def load_groups(conn: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[Group]:
    rows = conn.execute(f"SELECT id, name FROM groups WHERE {where} ORDER BY id",
                        tuple(params)).fetchall()
    wanted = ids_json(r[0] for r in rows)
    members: dict[tuple[str, str], list[str]] = defaultdict(list)
    for table, column in (("group_teachers", "teacher_id"), ("group_learners", "learner_id")):
        for r in conn.execute(
                f"SELECT group_id, {column} FROM {table} WHERE group_id IN"
                " (SELECT value FROM json_each(?)) ORDER BY group_id, position", (wanted,)):
            members[(table, r[0])].append(r[1])
    return [Group(r[0], r[1], tuple(members.get(("group_teachers", r[0]), ())),
                  tuple(members.get(("group_learners", r[0]), ()))) for r in rows]


def edges_by(conn: sqlite3.Connection, column: str,
              skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
    rows = conn.execute(
        f"SELECT source, target, strength FROM prerequisites WHERE {column} IN"
        " (SELECT value FROM json_each(?)) ORDER BY source, target", (ids_json(skill_ids),))
    by_skill: dict[str, list[Prerequisite]] = defaultdict(list)
    for r in rows:
        by_skill[r[column]].append(Prerequisite(r[0], r[1], r[2]))
    return [list(by_skill.get(s, [])) for s in skill_ids]


def closure(conn: sqlite3.Connection, skill_ids: Sequence[str], depth: int | None,
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
        SELECT {SKILL_COLS} FROM skills WHERE id IN (SELECT id FROM reach) ORDER BY id
        """,
        (ids_json(skill_ids), depth),
    ).fetchall()
    members = {r["id"] for r in rows}
    # incoming edges of every member (one index probe each), kept when the source is a member
    # too; a double "IN (list)" filter would probe every pair instead
    incoming = conn.execute(
        "SELECT p.source, p.target, p.strength FROM json_each(?) j"
        " JOIN prerequisites p ON p.target = j.value", (ids_json(members),))
    edges = sorted((Prerequisite(e[0], e[1], e[2]) for e in incoming if e[0] in members),
                   key=lambda e: (e.source, e.target))
    return PrerequisiteGraph(tuple(skill_row(r) for r in rows), tuple(edges))


def mastery_by_learner(conn: sqlite3.Connection,
                        learner_ids: Sequence[str]) -> list[list[Mastery]]:
    rows = conn.execute(
        f"SELECT {MASTERY_COLS} FROM mastery WHERE learner_id IN"
        " (SELECT value FROM json_each(?)) ORDER BY learner_id, skill_id",
        (ids_json(learner_ids),))
    by_learner: dict[str, list[Mastery]] = defaultdict(list)
    for r in rows:
        by_learner[r["learner_id"]].append(mastery_row(r))
    return [list(by_learner.get(lid, [])) for lid in learner_ids]


def mastery_probabilities(conn: sqlite3.Connection, learner_id: str,
                          skill_ids: Sequence[str] | None) -> dict[str, float]:
    """``{skill_id: probability}`` of one learner (along the primary key), optionally only
    ``skill_ids``: two columns, no row objects (plain tuples straight into the dict: every
    recommendation reads a row per skill, and ``sqlite3.Row`` objects cost a fifth more)."""
    cur = conn.cursor()
    cur.row_factory = None
    if skill_ids is None:
        rows = cur.execute(
            "SELECT skill_id, probability FROM mastery WHERE learner_id = ?", (learner_id,))
    else:
        rows = cur.execute(
            "SELECT skill_id, probability FROM mastery WHERE learner_id = ?"
            " AND skill_id IN (SELECT value FROM json_each(?))",
            (learner_id, ids_json(skill_ids)))
    return dict(rows)


#: Each item's main skill: the first of its Q-matrix row (lowest position).
_MAIN_SKILL = """
main AS (
    SELECT item_id, skill_id FROM (
        SELECT item_id, skill_id,
               row_number() OVER (PARTITION BY item_id ORDER BY position) AS rn
        FROM item_skills)
    WHERE rn = 1)"""

#: Per learner and main skill, in (timestamp, attempt id) order, whether the next attempt was
#: correct. Every attempt: read along the learner index, sorted within each learner.
_GAIN_COUNTS_ALL = """
WITH {main},
pairs AS (
    SELECT a.item_id AS item_id,
           lead(a.score >= 0.5) OVER (
               PARTITION BY a.learner_id, m.skill_id ORDER BY a.ts_us, a.attempt_id) AS nxt
    FROM attempts a JOIN main m ON m.item_id = a.item_id)
SELECT item_id, sum(nxt), count(*) - sum(nxt) FROM pairs
WHERE nxt IS NOT NULL
GROUP BY item_id
"""

#: The same for the items of ?1 (a JSON array): only the sequences of their main skills.
#: Those attempts are picked in one plain scan of the table (``+item_id`` and the primary-key
#: order keep SQLite off the learner index, whose every row costs a primary-key lookup), so
#: only they are sorted: about 4x faster than filtering the full query (200,000 attempts).
_GAIN_COUNTS_SOME = """
WITH {main},
scope AS (
    SELECT item_id, skill_id FROM main WHERE skill_id IN (
        SELECT skill_id FROM main WHERE item_id IN (SELECT value FROM json_each(?1)))),
picked AS (
    SELECT learner_id, item_id, score, ts_us, attempt_id FROM attempts
    WHERE +item_id IN (SELECT item_id FROM scope) ORDER BY attempt_id),
pairs AS (
    SELECT a.item_id AS item_id,
           lead(a.score >= 0.5) OVER (
               PARTITION BY a.learner_id, s.skill_id ORDER BY a.ts_us, a.attempt_id) AS nxt
    FROM picked a JOIN scope s ON s.item_id = a.item_id)
SELECT item_id, sum(nxt), count(*) - sum(nxt) FROM pairs
WHERE nxt IS NOT NULL AND item_id IN (SELECT value FROM json_each(?1))
GROUP BY item_id
"""


def gain_counts(conn: sqlite3.Connection,
                item_ids: Sequence[str] | None) -> dict[str, tuple[int, int]]:
    """``GraphStore.item_gain_counts`` in one statement (the definition is documented there)."""
    params: tuple[str, ...] = ()
    if item_ids is None:
        sql = _GAIN_COUNTS_ALL.format(main=_MAIN_SKILL)
    else:
        sql = _GAIN_COUNTS_SOME.format(main=_MAIN_SKILL)
        params = (ids_json(item_ids),)
    return {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(sql, params)}
