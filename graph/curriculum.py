"""Curriculum validation and import: check a whole curriculum before anything is written.

A curriculum bundle (skills, prerequisite edges, items) is read by :mod:`graph.curriculum_io`
from CSV or JSON, each record tagged with where it came from. :func:`validate` finds every
problem at once: malformed rows, duplicate ids, self-loops, edges or items naming unknown skills,
and prerequisite cycles, each cycle spelled out (``a -> b -> c -> a``). :func:`import_bundle`
refuses the whole import when anything is wrong and writes nothing; with ``skip_invalid`` it
writes everything that is valid and reports what it skipped and why.

Cycles are found by adding edges in file order to the graph already in the store: an edge that
would close a cycle is the one reported (and, with ``skip_invalid``, the one left out), so the
result is deterministic and every other edge is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import networkx as nx

from graph import curriculum_edit as ce
from graph.models import Item, Prerequisite, Skill
from graph.store import GraphStore, GraphStoreError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a record cannot be imported; ``where`` is e.g. ``skills.csv line 12``."""

    where: str
    kind: str  # malformed | duplicate | self-loop | unknown-skill | cycle
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.message}"


@dataclass(frozen=True, slots=True)
class Sourced(Generic[T]):
    """A parsed record and the place in the input it came from."""

    value: T
    where: str


@dataclass
class Bundle:
    """What one import file (or directory) holds, before validation."""

    skills: list[Sourced[Skill]] = field(default_factory=list)
    edges: list[Sourced[Prerequisite]] = field(default_factory=list)
    items: list[Sourced[Item]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # rows that did not even parse


@dataclass(frozen=True, slots=True)
class Validated:
    """The records that passed validation, and every problem found."""

    skills: tuple[Skill, ...]
    edges: tuple[Prerequisite, ...]
    items: tuple[Item, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class CurriculumImportError(GraphStoreError):
    """The import was refused; ``problems`` says why. Nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(
            f"curriculum import refused, nothing written ({len(self.problems)} problem(s)):\n"
            f"{lines}{more}\nfix them, or re-run with --skip-invalid to import the rest"
        )


@dataclass(frozen=True, slots=True)
class ImportReport:
    skills: int
    edges: int
    items: int
    skipped: tuple[Problem, ...]


def _dedupe(records: Iterable[Sourced[T]], key_of: str, problems: list[Problem]) -> list[T]:
    """Keep the first record of each id; later ones are duplicates (a problem each)."""
    first: dict[str, str] = {}
    kept: list[T] = []
    for rec in records:
        key = getattr(rec.value, key_of)
        if key in first:
            problems.append(
                Problem(rec.where, "duplicate", f"id {key!r} already defined at {first[key]}")
            )
            continue
        first[key] = rec.where
        kept.append(rec.value)
    return kept


def spell_cycle(graph: nx.DiGraph, source: str, target: str) -> list[str]:
    """The cycle that edge ``source -> target`` would close in ``graph``, as a list of ids with
    the first repeated last (``[source, target, ..., source]``)."""
    path: list[str] = nx.shortest_path(graph, target, source)
    return [source, *path]


def validate(bundle: Bundle, existing: nx.DiGraph | None = None) -> Validated:
    """Check a bundle against itself and against the store's current graph ``existing``
    (nodes are skill ids, edges prerequisites). Returns the valid records and all problems."""
    problems = list(bundle.problems)
    skills = _dedupe(bundle.skills, "id", problems)
    known = {s.id for s in skills} | set(existing.nodes if existing is not None else ())

    graph: nx.DiGraph = nx.DiGraph(existing) if existing is not None else nx.DiGraph()
    graph.add_nodes_from(s.id for s in skills)
    edges: dict[tuple[str, str], Prerequisite] = {}
    edge_where: dict[tuple[str, str], str] = {}
    for rec in bundle.edges:
        e = rec.value
        pair = (e.source, e.target)
        unknown = [x for x in pair if x not in known]
        if unknown:
            problems.append(
                Problem(rec.where, "unknown-skill", f"edge {e.source} -> {e.target} names "
                        f"unknown skill(s) {', '.join(map(repr, unknown))}")
            )
        elif e.source == e.target:
            problems.append(Problem(rec.where, "self-loop", f"{e.source!r} requires itself"))
        elif pair in edges:
            if edges[pair].strength != e.strength:
                problems.append(
                    Problem(rec.where, "duplicate", f"edge {e.source} -> {e.target} already "
                            f"given at {edge_where[pair]} with another strength")
                )
        elif graph.has_edge(*pair):  # already in the store: an update of its strength
            edges[pair], edge_where[pair] = e, rec.where
        elif nx.has_path(graph, e.target, e.source):
            cycle = spell_cycle(graph, e.source, e.target)
            problems.append(
                Problem(rec.where, "cycle", "edge would close the cycle " + " -> ".join(cycle))
            )
        else:
            graph.add_edge(*pair)
            edges[pair], edge_where[pair] = e, rec.where

    items: list[Item] = []
    for item in _dedupe(bundle.items, "id", problems):
        missing = [w.skill_id for w in item.skills if w.skill_id not in known]
        if missing:
            where = next(r.where for r in bundle.items if r.value is item)
            problems.append(
                Problem(where, "unknown-skill", f"item {item.id!r} assesses unknown skill(s) "
                        f"{', '.join(map(repr, missing))}")
            )
            continue
        items.append(item)
    return Validated(tuple(skills), tuple(edges.values()), tuple(items), tuple(problems))


async def existing_graph(store: GraphStore) -> nx.DiGraph:
    """The store's prerequisite graph as a networkx DiGraph of skill ids."""
    current = await store.prerequisite_graph()
    graph: nx.DiGraph = nx.DiGraph()
    graph.add_nodes_from(s.id for s in current.skills)
    graph.add_edges_from((e.source, e.target) for e in current.edges)
    return graph


async def import_bundle(
    store: GraphStore, bundle: Bundle, *, actor: str, skip_invalid: bool = False
) -> ImportReport:
    """Validate ``bundle`` against the store, then write it in one transaction (skills, edges,
    items; one change-log batch with each record's before and after, so
    ``undoCurriculumChange`` undoes the import).

    Raises CurriculumImportError (nothing written) when any problem is found, unless
    ``skip_invalid``, in which case the valid records are written and the problems returned.
    """
    checked = validate(bundle, await existing_graph(store))
    if checked.problems and not skip_invalid:
        raise CurriculumImportError(checked.problems)
    edits: list[ce.Edit] = [
        *(ce.PutSkill(s) for s in checked.skills),
        *(ce.PutPrerequisite(e) for e in checked.edges),
        *(ce.PutItem(i) for i in checked.items),
    ]
    if edits:
        await ce.run_edits(store, edits, actor=actor)
    return ImportReport(
        len(checked.skills), len(checked.edges), len(checked.items), checked.problems
    )
