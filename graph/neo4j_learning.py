"""The learning part of the Neo4j store: attempts (idempotent on the client's id), item gain
counts, mastery and tracer states."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from graph import checks, cypher
from graph import neo4j_core as core
from graph import neo4j_values as v
from graph.models import (
    Attempt,
    AttemptPage,
    HistoryWindow,
    Mastery,
    RecordResult,
    TracerRecord,
    TracerWrite,
    WindowRequest,
)
from graph.neo4j_core import Rows, Tx
from graph.neo4j_history import Neo4jHistory
from graph.store import AttemptConflictError, GraphStoreError, NotFoundError


class Neo4jLearning(Neo4jHistory):
    """The attempt, mastery and tracer-state methods of ``GraphStore`` on Neo4j."""

    # -- attempts --------------------------------------------------------------------------

    async def record_attempts(
        self, attempts: Sequence[Attempt], *, untimed: Collection[str] = ()
    ) -> RecordResult:
        """One statement per call on the happy path: write the new ids, get the stored ones
        back, compare in Python. Any problem (unknown learner or item, an id reused with other
        content) is diagnosed in the same transaction and raised, which rolls it all back."""
        checks.check_attempts(attempts)
        untimed = frozenset(untimed)
        rows = [v.attempt_row(a) for a in attempts]
        first: dict[str, dict[str, Any]] = {}
        for row in rows:
            first.setdefault(row["id"], row)
        unique = list(first.values())

        async def work(tx: Tx) -> RecordResult:
            out = (await core.fetch(tx, cypher.INSERT_ATTEMPTS, rows=unique))[0]
            stored = {p["id"]: v.attempt(p) for p in out["existing"]}
            new_ids = [r["id"] for r in unique if r["id"] not in stored]
            duplicates: list[str] = []
            conflicts: list[str] = []
            timestamps: dict[str, datetime] = {}
            seen: set[str] = set()
            for row in rows:
                aid = row["id"]
                if aid not in stored and aid not in seen:
                    seen.add(aid)  # the first occurrence of a new id: stored
                    continue
                before = stored[aid] if aid in stored else v.attempt(first[aid])
                given = v.attempt(row)
                if before == given:
                    duplicates.append(aid)
                elif aid in untimed and before == replace(given, timestamp=before.timestamp):
                    duplicates.append(aid)  # the same answer, its time filled in again
                    timestamps[aid] = before.timestamp
                else:
                    conflicts.append(aid)
            if out["created"] != len(new_ids) or conflicts:
                await self._diagnose_attempts(tx, rows)
                if conflicts:
                    raise AttemptConflictError(list(dict.fromkeys(conflicts)))
                raise GraphStoreError(  # only if a learner or item vanished mid-transaction
                    f"stored {out['created']} of {len(new_ids)} new attempts; retry the call")
            return RecordResult(
                stored=tuple(new_ids), duplicates=tuple(duplicates), timestamps=timestamps
            )

        if not rows:
            return RecordResult(stored=(), duplicates=())
        try:
            return await self._tx(True, work)
        except core.ConstraintRace:
            # A concurrent call stored one of these ids first; the retry sees it as stored.
            return await self._tx(True, work)

    @staticmethod
    async def _diagnose_attempts(tx: Tx, rows: Rows) -> None:
        check = (await core.fetch(tx, cypher.MISSING_LEARNERS_AND_ITEMS,
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
        checks.check_limit(limit)
        found, more, _, _ = await self._history("Attempt", learner_id, v.attempt, limit=limit,
                                                after=cursor, since=since,
                                                after_field="cursor")
        return AttemptPage(tuple(a for a, _ in found), found[-1][1] if more else None)

    async def attempts_window(self, learner_id: str, window: WindowRequest
                             ) -> HistoryWindow[Attempt]:
        return await self._window("Attempt", learner_id, v.attempt, window)

    async def latest_attempts(
        self, learner_ids: Sequence[str], *, limit: int
    ) -> list[tuple[Attempt, ...]]:
        checks.check_limit(limit)
        ids = list(dict.fromkeys(learner_ids))
        if not ids:
            return []
        rows = await self._read(cypher.LATEST_ATTEMPTS, ids=ids, limit=limit)
        found = {r["lid"]: tuple(v.attempt(p) for p in r["rows"]) for r in rows}
        return [found.get(lid, ()) for lid in learner_ids]

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
        checks.check_mastery(rows)
        values = [v.mastery_row(m) for m in rows]

        async def work(tx: Tx) -> None:
            written = (await core.fetch(tx, cypher.SAVE_MASTERY, rows=values))[0]["written"]
            if written != len(values):  # diagnose, raise, roll back
                await core.missing(tx, "Learner", "learner", {r["learner_id"] for r in values})
                await core.missing(tx, "Skill", "skill", {r["skill_id"] for r in values})
                raise GraphStoreError(f"saved {written} of {len(values)} mastery rows; retry")

        if values:
            await self._tx(True, work)

    async def mastery_of(self, learner_ids: Sequence[str]) -> list[list[Mastery]]:
        rows = await self._read_all(cypher.MASTERY_OF, ids=list(dict.fromkeys(learner_ids)))
        grouped = core.by_key(rows, "lid", lambda r: v.mastery(r["lid"], r["mastery"]))
        return [sorted(grouped.get(i, []), key=lambda m: m.skill_id) for i in learner_ids]

    async def mastery_of_group(self, group_id: str) -> Mapping[str, list[Mastery]]:
        rows = await self._read_all(cypher.MASTERY_OF_GROUP, group_id=group_id)
        return {r["lid"]: sorted((v.mastery(r["lid"], m) for m in r["masteries"]),
                                 key=lambda m: m.skill_id) for r in rows}

    async def mastery_probabilities(
        self, learner_id: str, skill_ids: Sequence[str] | None = None
    ) -> dict[str, float]:
        [row] = await self._read(
            cypher.MASTERY_PROBABILITIES,
            id=learner_id,
            skill_ids=None if skill_ids is None else list(skill_ids),
        )
        return dict(zip(row["skills"], map(float, row["probabilities"]), strict=True))

    # -- tracer state ----------------------------------------------------------------------

    async def load_tracer_states(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[bytes | None]:
        rows = await self._read_all(cypher.LOAD_TRACER_STATES, ids=list(dict.fromkeys(learner_ids)),
                                model_version=model_version)
        found = {r["lid"]: bytes(r["state"]) for r in rows}
        return [found.get(i) for i in learner_ids]

    async def save_tracer_states(self, states: Sequence[tuple[str, str, bytes]]) -> None:
        checks.check_tracer_states(states)
        rows: Rows = [{"learner_id": lid, "model_version": mv, "state": bytes(state)}
                for lid, mv, state in states]

        async def work(tx: Tx) -> None:
            written = (await core.fetch(tx, cypher.SAVE_TRACER_STATES, rows=rows))[0]["written"]
            if written != len(rows):  # diagnose, raise, roll back
                await core.missing(tx, "Learner", "learner", {r["learner_id"] for r in rows})
                raise GraphStoreError(f"saved {written} of {len(rows)} tracer states; retry")

        if rows:
            await self._tx(True, work)

    async def load_tracer_records(
        self, learner_ids: Sequence[str], model_version: str
    ) -> list[TracerRecord | None]:
        rows = await self._read_all(cypher.LOAD_TRACER_RECORDS,
                                    ids=list(dict.fromkeys(learner_ids)),
                                    model_version=model_version)
        found = {r["lid"]: TracerRecord(bytes(r["state"]), int(r["version"])) for r in rows}
        return [found.get(i) for i in learner_ids]

    async def save_traced(
        self, writes: Sequence[TracerWrite], mastery: Sequence[Mastery]
    ) -> tuple[str, ...]:
        checks.check_traced(writes, mastery)
        rows: Rows = [{"learner_id": w.learner_id, "model_version": w.model_version,
                       "state": bytes(w.state), "expected": w.expected}
                      for w in sorted(writes, key=lambda w: w.learner_id)]  # one lock order
        values = [v.mastery_row(m) for m in mastery]

        async def work(tx: Tx) -> tuple[str, ...]:
            written = set((await core.fetch(tx, cypher.SAVE_TRACED, rows=rows))[0]["written"])
            moved = [r["learner_id"] for r in rows if r["learner_id"] not in written]
            if moved:  # an unknown learner raises NotFoundError and rolls everything back
                await core.missing(tx, "Learner", "learner", set(moved))
            mine = [m for m in values if m["learner_id"] in written]
            if mine:
                saved = (await core.fetch(tx, cypher.SAVE_MASTERY, rows=mine))[0]["written"]
                if saved != len(mine):
                    await core.missing(tx, "Skill", "skill", {m["skill_id"] for m in mine})
                    raise GraphStoreError(f"saved {saved} of {len(mine)} mastery rows; retry")
            return tuple(moved)

        if not rows:
            return ()
        return await self._tx(True, work)
