"""Planned curriculum edits on SQLite: the snapshot a plan reads, the whole diff written in
one transaction (with the learners' data of deleted skills archived, and restored on undo),
and the change log read by batch. See :mod:`graph.curriculum_edit`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

from graph.checks import check_actor
from graph.curriculum_edit import Applied, CurriculumDiff, CurriculumMovedError, Snapshot
from graph.models import CurriculumChange, Prerequisite
from graph.sqlite_core import SqliteCore
from graph.sqlite_queries import (
    append_log,
    delete_present,
    load_items,
    write_edges,
    write_items,
    write_skills,
)
from graph.sqlite_rows import CHANGE_COLS, MASTERY_COLS, SKILL_COLS, change_row, ids_json, skill_row


def _last_seq(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM change_log").fetchone()[0])


def _archive(conn: sqlite3.Connection, batch: int, skill_ids: Sequence[str]
             ) -> dict[str, tuple[int, int, int]]:
    counts: dict[str, tuple[int, int, int]] = {}
    for sid in skill_ids:
        mastery = [list(r) for r in conn.execute(
            f"SELECT {MASTERY_COLS} FROM mastery WHERE skill_id = ? ORDER BY learner_id",
            (sid,))]
        goals = [list(r) for r in conn.execute(
            "SELECT learner_id, position FROM learner_goals WHERE skill_id = ?"
            " ORDER BY learner_id", (sid,))]
        classes = [list(r) for r in conn.execute(
            "SELECT group_id, position, due_us, note, set_by FROM group_goals WHERE skill_id = ?"
            " ORDER BY group_id", (sid,))]
        conn.execute("INSERT INTO curriculum_archive (batch, skill_id, mastery, goals,"
                     " class_goals) VALUES (?, ?, ?, ?, ?)",
                     (batch, sid, json.dumps(mastery), json.dumps(goals), json.dumps(classes)))
        counts[sid] = (len(mastery), len(goals), len(classes))
    return counts


def _restore(conn: sqlite3.Connection, skill_id: str, batch: int) -> tuple[int, int, int]:
    """Put back the archived mastery rows, goals and class goals of ``skill_id`` for the
    learners and groups that still exist (a row or goal made again since is kept as it is)."""
    row = conn.execute("SELECT mastery, goals, class_goals FROM curriculum_archive WHERE"
                       " batch = ? AND skill_id = ?", (batch, skill_id)).fetchone()
    if row is None:
        return (0, 0, 0)
    mastery: list[list[Any]] = json.loads(row[0])
    goals: list[list[Any]] = json.loads(row[1])
    ids = {r[0] for r in conn.execute(
        "SELECT id FROM learners WHERE id IN (SELECT value FROM json_each(?))",
        (ids_json({m[0] for m in mastery} | {g[0] for g in goals}),))}
    m_rows = [m for m in mastery if m[0] in ids]
    g_rows = [(g[0], skill_id, g[1]) for g in goals if g[0] in ids]
    before = conn.total_changes
    conn.executemany(f"INSERT OR IGNORE INTO mastery ({MASTERY_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                     m_rows)
    restored_mastery = conn.total_changes - before
    before = conn.total_changes
    conn.executemany("INSERT OR IGNORE INTO learner_goals (learner_id, skill_id, position)"
                     " VALUES (?, ?, ?)", g_rows)
    restored_goals = conn.total_changes - before
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO group_goals (group_id, skill_id, position, due_us, note, set_by)"
        " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM groups WHERE id = ?1)",
        # archives written before migration 0010 have no setter (4 fields)
        [(c[0], skill_id, c[1], c[2], c[3], c[4] if len(c) > 4 else None)
         for c in json.loads(row[2])])
    return (restored_mastery, restored_goals, conn.total_changes - before)


class SqliteEdits(SqliteCore):
    """``GraphStore.curriculum_snapshot`` / ``apply_curriculum`` / ``change_batch`` on SQLite."""

    async def last_change_seq(self) -> int:
        return await self._call(_last_seq)

    async def curriculum_snapshot(
        self, item_ids: Collection[str] = (), skill_ids: Collection[str] = ()
    ) -> Snapshot:
        def run(conn: sqlite3.Connection) -> Snapshot:
            conn.execute("BEGIN")  # one read snapshot (WAL) for the seq and the rows
            try:
                seq = _last_seq(conn)
                skills = {s.id: s for s in (skill_row(r) for r in conn.execute(
                    f"SELECT {SKILL_COLS} FROM skills"))}
                edges = {(r[0], r[1]): Prerequisite(r[0], r[1], r[2]) for r in conn.execute(
                    "SELECT source, target, strength FROM prerequisites")}
                items = load_items(
                    conn, "id IN (SELECT value FROM json_each(?1)) OR id IN (SELECT item_id"
                    " FROM item_skills WHERE skill_id IN (SELECT value FROM json_each(?2)))",
                    (ids_json(item_ids), ids_json(skill_ids)))
            finally:
                conn.execute("COMMIT")
            return Snapshot(seq, skills, edges, {i.id: i for i in items})

        return await self._call(run)

    async def apply_curriculum(
        self, diff: CurriculumDiff, *, actor: str, base_seq: int
    ) -> Applied:
        check_actor(actor)
        at = self._now_us()
        log = [(c.action, c.entity, c.entity_id, c.detail) for c in diff.changes]
        states = [(c.before, c.after) for c in diff.changes]

        def run(conn: sqlite3.Connection) -> Applied:
            found = _last_seq(conn)
            if found != base_seq:
                raise CurriculumMovedError(base_seq, found)
            batch = append_log(conn, actor, at, log, states)
            if batch is None:
                return Applied(None)
            for s, t in diff.remove_edges:
                conn.execute("DELETE FROM prerequisites WHERE source = ? AND target = ?", (s, t))
            delete_present(conn, "items", diff.remove_items)
            archived = _archive(conn, batch, diff.remove_skills)
            delete_present(conn, "skills", diff.remove_skills)  # edges, links, mastery cascade
            write_skills(conn, diff.skills)
            write_edges(conn, diff.edges)
            write_items(conn, diff.items)
            restored = {sid: _restore(conn, sid, b) for sid, b in diff.restore.items()}
            changes = [change_row(r) for r in conn.execute(
                f"SELECT {CHANGE_COLS} FROM change_log WHERE seq >= ? ORDER BY seq", (batch,))]
            return Applied(batch, tuple(changes), archived, restored)

        return await self._write(run)

    async def change_batch(self, seq: int) -> list[CurriculumChange]:
        def run(conn: sqlite3.Connection) -> list[CurriculumChange]:
            row = conn.execute("SELECT coalesce(batch, seq) FROM change_log WHERE seq = ?",
                               (seq,)).fetchone()
            if row is None:
                return []
            return [change_row(r) for r in conn.execute(
                f"SELECT {CHANGE_COLS} FROM change_log WHERE batch = ?1 OR (seq = ?1 AND batch"
                " IS NULL) ORDER BY seq", (row[0],))]

        return await self._call(run)
