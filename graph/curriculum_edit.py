"""Curriculum edits planned as a whole before anything is written.

A list of :data:`Edit` values (one API mutation, a bulk edit, an import, an undo) is applied in
order to an in-memory :class:`Snapshot` of the curriculum by :func:`plan`: every edit is
checked with the stores' own rules (``graph.checks``), ids must exist (or must not, for a
create), and an edge that would close a cycle is refused with the cycle spelled out. Any
problem raises the store's error and nothing is written; otherwise the :class:`Plan` holds the
net :class:`CurriculumDiff` to write in one transaction (``GraphStore.apply_curriculum``) and
one :class:`Change` per entity touched, with its state before and after (the change log).

Deleting a skill says what it drops: its edges, its entry in each item's Q-matrix row (items
left with no skill are listed), and, counted by the store when it writes, the learners'
mastery rows and goals of it, which the store archives under the change's batch so that an
undo (:func:`undo_edits`) restores them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import networkx as nx

from graph import checks
from graph.curriculum_json import edge_from_json, item_from_json, skill_from_json, to_json
from graph.models import CurriculumChange, Item, ItemKind, Prerequisite, Skill
from graph.store import CycleError, GraphStoreError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from graph.store import GraphStore

T = TypeVar("T")

# -- edits ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PutSkill:
    """Create (``create=True``: refused if the id exists) or replace a skill."""

    skill: Skill
    create: bool = False


@dataclass(frozen=True, slots=True)
class PatchSkill:
    """Change some fields of an existing skill (``fields``: Skill field name -> value)."""

    id: str
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DropSkill:
    id: str


@dataclass(frozen=True, slots=True)
class PutItem:
    item: Item
    create: bool = False


@dataclass(frozen=True, slots=True)
class PatchItem:
    id: str
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DropItem:
    id: str


@dataclass(frozen=True, slots=True)
class PutPrerequisite:
    """Add an edge or change its strength."""

    edge: Prerequisite


@dataclass(frozen=True, slots=True)
class DropPrerequisite:
    """Remove an edge; an absent edge is ignored."""

    source: str
    target: str


Edit = PutSkill | PatchSkill | DropSkill | PutItem | PatchItem | DropItem | PutPrerequisite | \
    DropPrerequisite


# -- what is planned --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The part of the curriculum a plan reads: every skill and edge, and the items that the
    edits name or that assess a skill the edits drop (see :func:`items_needed`). ``seq`` is the
    change log's last seq when it was read: the write is refused if the log has moved since."""

    seq: int
    skills: Mapping[str, Skill]
    edges: Mapping[tuple[str, str], Prerequisite]
    items: Mapping[str, Item]


@dataclass(frozen=True, slots=True)
class Change:
    """One entry the plan adds to the change log."""

    action: str  # upsert | remove
    entity: str  # skill | item | prerequisite
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CurriculumDiff:
    """The net writes of a plan, in the order a store applies them: edges, items and skills
    removed (a removed skill's learner data archived first), skills, edges and items written,
    then archived learner data of ``restore`` (skill id -> the batch that archived it) put
    back, and ``changes`` appended to the log as one batch."""

    remove_edges: tuple[tuple[str, str], ...] = ()
    remove_items: tuple[str, ...] = ()
    remove_skills: tuple[str, ...] = ()
    skills: tuple[Skill, ...] = ()
    edges: tuple[Prerequisite, ...] = ()
    items: tuple[Item, ...] = ()
    restore: Mapping[str, int] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.remove_edges or self.remove_items or self.remove_skills or self.skills
                    or self.edges or self.items or self.restore)


@dataclass(frozen=True, slots=True)
class Dropped:
    """What deleting skills or items drops with them (before the learners' data, which the
    store counts as it archives it)."""

    edges: tuple[tuple[str, str], ...] = ()
    item_links: tuple[tuple[str, str], ...] = ()  # (item, skill) Q-matrix entries
    items_left_without_skill: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    diff: CurriculumDiff
    dropped: Dropped
    before_edges: tuple[Prerequisite, ...]
    after_edges: tuple[Prerequisite, ...]
    before_skills: tuple[str, ...]
    after_skills: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Applied:
    """What a store wrote: the batch (seq of its first change, None if nothing changed), the
    data it archived for each removed skill and restored for each restored one, as
    ``skill id -> (learners' mastery rows, learners' goals, class goals)``."""

    batch: int | None
    changes: tuple[CurriculumChange, ...] = ()
    archived: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)
    restored: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)


class CurriculumMovedError(GraphStoreError):
    """The change log moved between reading the snapshot and writing: plan again."""

    def __init__(self, expected: int, found: int) -> None:
        self.expected, self.found = expected, found
        super().__init__(f"the curriculum changed (log at seq {found}, planned on {expected});"
                         " read it again and re-plan")


# -- planning ---------------------------------------------------------------------------------


def items_needed(edits: Sequence[Edit]) -> tuple[set[str], set[str]]:
    """(item ids the edits name, skill ids they drop): what :class:`Snapshot` must hold."""
    item_ids = {e.item.id for e in edits if isinstance(e, PutItem)}
    item_ids |= {e.id for e in edits if isinstance(e, PatchItem | DropItem)}
    return item_ids, {e.id for e in edits if isinstance(e, DropSkill)}


def _skill_detail(s: Skill) -> dict[str, Any]:
    return {"name": s.name, "topic": s.topic, "area": s.area}


def _item_detail(i: Item) -> dict[str, Any]:
    return {"kind": ItemKind(i.kind).value, "title": i.title, "skills": list(i.skill_ids)}


def _edge_detail(e: Prerequisite) -> dict[str, Any]:
    return {"source": e.source, "target": e.target, "strength": float(e.strength)}


class _State:
    def __init__(self, snap: Snapshot) -> None:
        self.skills = dict(snap.skills)
        self.edges = dict(snap.edges)
        self.items = dict(snap.items)
        self.graph: nx.DiGraph = nx.DiGraph()
        self.graph.add_nodes_from(self.skills)
        self.graph.add_edges_from(self.edges)
        self.changes: list[Change] = []
        self.dropped_edges: list[tuple[str, str]] = []
        self.dropped_links: list[tuple[str, str]] = []

    def log(self, entity: str, eid: str, before: Any, after: Any, detail: dict[str, Any]
            ) -> None:
        self.changes.append(Change("remove" if after is None else "upsert", entity, eid,
                                   None if before is None else to_json(before),
                                   None if after is None else to_json(after), detail))

    def skill(self, sid: str) -> Skill:
        found = self.skills.get(sid)
        if found is None:
            raise NotFoundError("skill", [sid])
        return found

    def item(self, iid: str) -> Item:
        found = self.items.get(iid)
        if found is None:
            raise NotFoundError("item", [iid])
        return found

    def put_skill(self, skill: Skill, create: bool) -> None:
        checks.check_skills([skill])
        old = self.skills.get(skill.id)
        if create and old is not None:
            raise ValidationError("id", f"skill {skill.id!r} exists; use updateSkill to change it")
        if old != skill:
            self.skills[skill.id] = skill
            self.graph.add_node(skill.id)
            self.log("skill", skill.id, old, skill, _skill_detail(skill))

    def drop_skill(self, sid: str) -> None:
        old = self.skill(sid)
        for pair in sorted([*self.graph.in_edges(sid), *self.graph.out_edges(sid)]):
            self.drop_edge(*pair)
            self.dropped_edges.append(pair)
        for item in sorted(self.items.values(), key=lambda i: i.id):
            if sid in item.skill_ids:
                kept = tuple(w for w in item.skills if w.skill_id != sid)
                self.put_item(replace(item, skills=kept), False)
                self.dropped_links.append((item.id, sid))
        del self.skills[sid]
        self.graph.remove_node(sid)
        self.log("skill", sid, old, None, {})

    def put_item(self, item: Item, create: bool) -> None:
        checks.check_items([item])
        missing = sorted({w.skill_id for w in item.skills} - set(self.skills))
        if missing:
            raise NotFoundError("skill", missing)
        old = self.items.get(item.id)
        if create and old is not None:
            raise ValidationError("id", f"item {item.id!r} exists; use updateItem to change it")
        if old != item:
            self.items[item.id] = item
            self.log("item", item.id, old, item, _item_detail(item))

    def drop_item(self, iid: str) -> None:
        old = self.item(iid)
        del self.items[iid]
        self.log("item", iid, old, None, {})

    def put_edge(self, edge: Prerequisite) -> None:
        checks.check_prerequisites([edge])
        missing = [s for s in dict.fromkeys((edge.source, edge.target)) if s not in self.skills]
        if missing:
            raise NotFoundError("skill", missing)
        pair = (edge.source, edge.target)
        old = self.edges.get(pair)
        if old is None and nx.has_path(self.graph, edge.target, edge.source):
            path: list[str] = nx.shortest_path(self.graph, edge.target, edge.source)
            raise CycleError([edge.source, *path])
        edge = Prerequisite(edge.source, edge.target, float(edge.strength))
        if old != edge:
            self.edges[pair] = edge
            self.graph.add_edge(*pair)
            self.log("prerequisite", f"{edge.source}->{edge.target}", old, edge,
                     _edge_detail(edge))

    def drop_edge(self, source: str, target: str) -> None:
        old = self.edges.pop((source, target), None)
        if old is not None:
            self.graph.remove_edge(source, target)
            self.log("prerequisite", f"{source}->{target}", old, None,
                     {"source": source, "target": target})

    def apply(self, edit: Edit) -> None:
        match edit:
            case PutSkill(skill, create):
                self.put_skill(skill, create)
            case PatchSkill(sid, fields):
                self.put_skill(replace(self.skill(sid), **fields), False)
            case DropSkill(sid):
                self.drop_skill(sid)
            case PutItem(item, create):
                self.put_item(item, create)
            case PatchItem(iid, fields):
                self.put_item(replace(self.item(iid), **fields), False)
            case DropItem(iid):
                self.drop_item(iid)
            case PutPrerequisite(edge):
                self.put_edge(edge)
            case DropPrerequisite(source, target):
                self.drop_edge(source, target)


def plan(edits: Sequence[Edit], snap: Snapshot, *, restore: Mapping[str, int] | None = None
         ) -> Plan:
    """Apply ``edits`` in order to ``snap`` in memory. Raises NotFoundError, ValidationError or
    CycleError for the first edit that cannot be made (nothing is written); ``restore`` names
    skills whose archived learner data an undo puts back."""
    state = _State(snap)
    for edit in edits:
        state.apply(edit)
    skills = tuple(s for k, s in sorted(state.skills.items()) if snap.skills.get(k) != s)
    edges = tuple(e for k, e in sorted(state.edges.items()) if snap.edges.get(k) != e)
    items = tuple(i for k, i in sorted(state.items.items()) if snap.items.get(k) != i)
    removed_skills = tuple(sorted(set(snap.skills) - set(state.skills)))
    gone = set(removed_skills)
    diff = CurriculumDiff(
        remove_edges=tuple(p for p in sorted(set(snap.edges) - set(state.edges))
                           if not gone & set(p)),
        remove_items=tuple(sorted(set(snap.items) - set(state.items))),
        remove_skills=removed_skills,
        skills=skills, edges=edges, items=items,
        restore=dict(restore or {}),
        changes=tuple(state.changes),
    )
    linked = {i for i, _ in state.dropped_links}
    dropped = Dropped(
        edges=tuple(state.dropped_edges),
        item_links=tuple(state.dropped_links),
        items_left_without_skill=tuple(sorted(
            i for i in linked if i in state.items and not state.items[i].skills)),
    )
    return Plan(diff, dropped,
                before_edges=tuple(snap.edges.values()), after_edges=tuple(state.edges.values()),
                before_skills=tuple(snap.skills), after_skills=tuple(state.skills))


# -- undo -------------------------------------------------------------------------------------


class UndoRefusedError(ValidationError):
    """A batch cannot be undone; the message says why and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__("seq", message)


def undo_edits(batch: Sequence[CurriculumChange], later: Sequence[CurriculumChange]
               ) -> tuple[list[Edit], dict[str, int]]:
    """The edits that undo ``batch`` (the changes of one transaction), newest first, and the
    skills whose archived learner data to restore (skill id -> batch). ``later`` is every change
    logged after the batch: an entity changed again since refuses the undo (undo the later
    change first), as does a change logged without its before and after."""
    if not batch:
        raise UndoRefusedError("no change has this seq")
    first = batch[0].batch or batch[0].seq
    touched = {(c.entity, c.entity_id) for c in batch}
    for c in later:
        if (c.entity, c.entity_id) in touched:
            raise UndoRefusedError(
                f"{c.entity} {c.entity_id!r} changed again at seq {c.seq} (batch "
                f"{c.batch or c.seq}); undo that batch first")
    edits: list[Edit] = []
    restore: dict[str, int] = {}
    for c in reversed(batch):
        if c.before is None and c.after is None:
            raise UndoRefusedError(
                f"change {c.seq} ({c.action} {c.entity} {c.entity_id!r}) was logged without its "
                "before and after (a CLI bulk write, or before this log kept them); it cannot "
                "be undone from the log")
        if c.entity == "skill":
            if c.before is None:
                edits.append(DropSkill(c.entity_id))
            else:
                edits.append(PutSkill(skill_from_json(c.before)))
                if c.after is None:
                    restore[c.entity_id] = first
        elif c.entity == "item":
            edits.append(DropItem(c.entity_id) if c.before is None
                         else PutItem(item_from_json(c.before)))
        elif c.entity == "prerequisite":
            if c.before is None:
                assert c.after is not None
                edge = edge_from_json(c.after)
                edits.append(DropPrerequisite(edge.source, edge.target))
            else:
                edits.append(PutPrerequisite(edge_from_json(c.before)))
    return edits, restore


# -- running edits against a store --------------------------------------------------------------

#: how many times :func:`run_edits` plans again when another write moved the log meanwhile
REPLANS = 5


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """A plan, what ``assess`` said of it, and what was written (None for a dry run)."""

    plan: Plan
    assessment: T | None
    applied: Applied | None


async def run_edits(
    store: GraphStore,
    edits: Sequence[Edit],
    *,
    actor: str,
    dry_run: bool = False,
    restore: Mapping[str, int] | None = None,
    assess: Callable[[Plan], Awaitable[T]] | None = None,
) -> Outcome[T]:
    """Plan ``edits`` on a fresh snapshot, ``assess`` the plan (e.g. its impact on learners),
    then, unless ``dry_run``, write it in one transaction. A write that finds the log moved
    since the snapshot plans again (up to :data:`REPLANS` times). Raises the store's errors."""
    item_ids, skill_ids = items_needed(edits)
    for _ in range(REPLANS):
        snap = await store.curriculum_snapshot(item_ids, skill_ids)
        planned = plan(edits, snap, restore=restore)
        assessment = None if assess is None else await assess(planned)
        if dry_run:
            return Outcome(planned, assessment, None)
        try:
            applied = await store.apply_curriculum(planned.diff, actor=actor, base_seq=snap.seq)
        except CurriculumMovedError:
            continue
        return Outcome(planned, assessment, applied)
    raise GraphStoreError(f"the curriculum kept changing during {REPLANS} tries of this edit; "
                          "send it again")


async def undo_batch(store: GraphStore, seq: int) -> tuple[list[Edit], dict[str, int], int]:
    """The edits undoing the batch of change ``seq`` (see :func:`undo_edits`), the skills to
    restore, and the batch's first seq."""
    batch = await store.change_batch(seq)
    later: list[CurriculumChange] = []
    if batch:
        after = batch[-1].seq
        while page := await store.change_log(after_seq=after, limit=1000):
            later.extend(page)
            after = page[-1].seq
    edits, restore = undo_edits(batch, later)
    return edits, restore, batch[0].batch or batch[0].seq
