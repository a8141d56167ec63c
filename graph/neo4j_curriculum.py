"""The curriculum part of the Neo4j store: skills, items, prerequisite edges (with the cycle
check inside the write's transaction), the closures over them, and the change log every
curriculum write appends to under one lock.
"""

from __future__ import annotations

from collections.abc import Sequence

from graph import checks, cypher
from graph import neo4j_core as core
from graph import neo4j_values as v
from graph.models import CurriculumChange, Item, ItemKind, Prerequisite, PrerequisiteGraph, Skill
from graph.neo4j_core import Change, Neo4jCore, Rows, Tx
from graph.store import CycleError


class Neo4jCurriculum(Neo4jCore):
    """The curriculum and change-log methods of ``GraphStore`` on Neo4j."""

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
        before: str | None = None,
        backward: bool = False,
    ) -> list[Skill]:
        checks.check_limit(limit)
        query = cypher.list_skills(topic=topic is not None, area=area is not None,
                                   search=search is not None, has_prerequisite=has_prerequisite,
                                   before=before is not None, backward=backward)
        rows = await self._read_all(query, after=after or "", limit=limit, topic=topic, area=area,
                                search=None if search is None else search.lower(),
                                before=before)
        found = [v.skill(r["skill"]) for r in rows]
        return found[::-1] if backward else found

    async def count_skills(
        self,
        *,
        topic: str | None = None,
        area: str | None = None,
        search: str | None = None,
        has_prerequisite: bool | None = None,
    ) -> int:
        query = cypher.list_skills(topic=topic is not None, area=area is not None,
                                   search=search is not None, has_prerequisite=has_prerequisite,
                                   count=True)
        rows = await self._read(query, topic=topic, area=area,
                                search=None if search is None else search.lower())
        return int(rows[0]["n"])

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
        checks.check_limit(limit)
        query = cypher.list_items(skill=skill_id is not None, kind=kind is not None,
                                  before=before is not None, backward=backward)
        rows = await self._read_all(query, after=after or "", limit=limit, skill_id=skill_id,
                                kind=None if kind is None else checks.check_kind(kind).value,
                                before=before)
        found = [v.item(r["item"]) for r in rows]
        return found[::-1] if backward else found

    async def count_items(
        self, *, skill_id: str | None = None, kind: ItemKind | None = None
    ) -> int:
        query = cypher.list_items(skill=skill_id is not None, kind=kind is not None, count=True)
        rows = await self._read(query, skill_id=skill_id,
                                kind=None if kind is None else checks.check_kind(kind).value)
        return int(rows[0]["n"])

    async def items_for_skills(self, skill_ids: Sequence[str]) -> list[list[Item]]:
        rows = await self._read_all(cypher.ITEMS_FOR_SKILLS, ids=list(dict.fromkeys(skill_ids)))
        grouped = core.by_key(rows, "sid", lambda r: v.item(r["item"]))
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
        grouped = core.by_key(rows, "sid", lambda r: Prerequisite(r["other"], r["sid"],
                                                              float(r["strength"])))
        return [sorted(grouped.get(s, []), key=lambda e: e.source) for s in skill_ids]

    async def dependents_of(self, skill_ids: Sequence[str]) -> list[list[Prerequisite]]:
        rows = await self._read_all(cypher.DEPENDENTS_OF, ids=list(dict.fromkeys(skill_ids)))
        grouped = core.by_key(rows, "sid", lambda r: Prerequisite(r["sid"], r["other"],
                                                              float(r["strength"])))
        return [sorted(grouped.get(s, []), key=lambda e: e.target) for s in skill_ids]

    async def ancestors(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        checks.check_depth(depth)
        rows = await self._read_all(cypher.closure("ancestors", depth), ids=list(skill_ids))
        return self._graph(rows)

    async def descendants(
        self, skill_ids: Sequence[str], depth: int | None = None
    ) -> PrerequisiteGraph:
        checks.check_depth(depth)
        rows = await self._read_all(cypher.closure("descendants", depth), ids=list(skill_ids))
        return self._graph(rows)

    # -- curriculum writes -----------------------------------------------------------------

    async def upsert_skills(self, skills: Sequence[Skill], *, actor: str) -> None:
        checks.check_actor(actor)
        checks.check_skills(skills)
        rows = [v.skill_props(s) for s in skills]
        log: list[Change] = [("upsert", "skill", s.id,
                              {"name": s.name, "topic": s.topic, "area": s.area})
                             for s in skills]

        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.LOCK_CURRICULUM)
            await core.fetch(tx, cypher.UPSERT_SKILLS, rows=rows)
            await self._append_changes(tx, actor, log)

        await self._tx(True, work)

    async def upsert_items(self, items: Sequence[Item], *, actor: str) -> None:
        checks.check_actor(actor)
        checks.check_items(items)
        rows = [v.item_row(i) for i in items]
        skill_ids = {w.skill_id for i in items for w in i.skills}
        log: list[Change] = [("upsert", "item", i.id,
                              {"kind": ItemKind(i.kind).value, "title": i.title,
                               "skills": [w.skill_id for w in i.skills]}) for i in items]

        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.LOCK_CURRICULUM)
            await core.missing(tx, "Skill", "skill", skill_ids)
            await core.fetch(tx, cypher.UPSERT_ITEMS, rows=rows)
            await self._append_changes(tx, actor, log)

        await self._tx(True, work)

    async def upsert_prerequisites(self, edges: Sequence[Prerequisite], *, actor: str) -> None:
        checks.check_actor(actor)
        checks.check_prerequisites(edges)
        rows = [v.prerequisite_row(e) for e in edges]
        log: list[Change] = [("upsert", "prerequisite", f"{r['source']}->{r['target']}", r)
                             for r in rows]

        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.LOCK_CURRICULUM)
            await core.missing(tx, "Skill", "skill", {s for r in rows for s in (r["source"],
                                                                              r["target"])})
            await core.fetch(tx, cypher.UPSERT_PREREQUISITES, rows=rows)
            found = await core.fetch(tx, cypher.FIND_CYCLE, rows=rows)
            if found:  # raising rolls the edges back
                source = rows[found[0]["k"]]["source"]
                raise CycleError([source, *found[0]["path"]])
            await self._append_changes(tx, actor, log)

        if rows:
            await self._tx(True, work)

    async def remove_skills(self, ids: Sequence[str], *, actor: str) -> None:
        checks.check_actor(actor)
        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.LOCK_CURRICULUM)
            removed = await core.fetch(tx, cypher.REMOVE_SKILLS, ids=list(ids))
            existing = {r["id"] for r in removed}
            edges = sorted({(s, t) for r in removed for s, t in r["edges"]})
            log: list[Change] = [("remove", "prerequisite", f"{s}->{t}",
                                  {"source": s, "target": t}) for s, t in edges]
            log += [("remove", "skill", i, {}) for i in dict.fromkeys(ids) if i in existing]
            await self._append_changes(tx, actor, log)

        await self._tx(True, work)

    async def remove_items(self, ids: Sequence[str], *, actor: str) -> None:
        checks.check_actor(actor)
        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.LOCK_CURRICULUM)
            existing = {r["id"] for r in await core.fetch(tx, cypher.REMOVE_ITEMS, ids=list(ids))}
            await self._append_changes(
                tx, actor, [("remove", "item", i, {}) for i in dict.fromkeys(ids)
                            if i in existing])

        await self._tx(True, work)

    async def remove_prerequisites(
        self, edges: Sequence[tuple[str, str]], *, actor: str
    ) -> None:
        checks.check_actor(actor)
        pairs = list(dict.fromkeys((s, t) for s, t in edges))
        rows = [{"source": s, "target": t} for s, t in pairs]

        async def work(tx: Tx) -> None:
            await core.fetch(tx, cypher.LOCK_CURRICULUM)
            gone = {(r["source"], r["target"])
                    for r in await core.fetch(tx, cypher.REMOVE_PREREQUISITES, rows=rows)}
            await self._append_changes(
                tx, actor, [("remove", "prerequisite", f"{s}->{t}", {"source": s, "target": t})
                            for s, t in pairs if (s, t) in gone])

        await self._tx(True, work)

    async def change_log(
        self, *, after_seq: int = 0, limit: int = 100
    ) -> list[CurriculumChange]:
        checks.check_limit(limit)
        checks.check_after_seq(after_seq)
        rows = await self._read_all(cypher.CHANGE_LOG, after_seq=after_seq, limit=limit)
        return [v.change(r["change"]) for r in rows]
