"""What a curriculum edit changes for the learners: the impact preview a designer sees before
applying it.

For every learner, from their stored mastery (a skill is mastered at ``p >= threshold``, as in
:mod:`recommender.frontier`) and goals, before and after the edit:

* **frontier**: the outer fringe of Knowledge Space Theory, the unmastered skills whose
  prerequisites are all mastered. Only skills whose incoming edges change, or that appear or
  disappear, can enter or leave a fringe, so only those are compared (one vectorised column
  per skill, all learners at once);
* **path**: the unmastered skills among the goals and everything they require
  (:func:`recommender.paths.learning_path`'s skill set); a learner's path changes when that
  set does (goals of a deleted skill are dropped with it);
* **mastery**: the mastery rows and goals a deleted skill takes with it.

Each set of learners is reported as a count and a sample of ids (the first ones by id).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from graph.models import Prerequisite
from graph.store import GraphStore
from recommender.frontier import DEFAULT_THRESHOLD

SAMPLE = 10
PAGE = 1000


@dataclass(frozen=True, slots=True)
class LearnerState:
    id: str
    goals: tuple[str, ...]
    mastery: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class LearnerSet:
    """``count`` learners; ``sample``: the first of them by id (at most :data:`SAMPLE`)."""

    count: int
    sample: tuple[str, ...]

    @classmethod
    def of(cls, ids: Iterable[str], sample: int = SAMPLE) -> LearnerSet:
        ordered = sorted(ids)
        return cls(len(ordered), tuple(ordered[:sample]))


@dataclass(frozen=True, slots=True)
class SkillCount:
    """A skill and how many learners it concerns."""

    skill_id: str
    learners: int


@dataclass(frozen=True, slots=True)
class Impact:
    learners: int
    frontier_changed: LearnerSet
    path_changed: LearnerSet
    mastery_dropped: LearnerSet
    mastery_rows_dropped: int
    goals_dropped: LearnerSet
    frontier_added: tuple[SkillCount, ...]
    frontier_removed: tuple[SkillCount, ...]


def _preds(edges: Iterable[Prerequisite]) -> dict[str, set[str]]:
    preds: dict[str, set[str]] = {}
    for e in edges:
        preds.setdefault(e.target, set()).add(e.source)
    return preds


def _closure(graph: nx.DiGraph, goals: Sequence[str]) -> frozenset[str]:
    out: set[str] = set()
    for g in goals:
        if g in graph:
            out.add(g)
            out |= nx.ancestors(graph, g)
    return frozenset(out)


def compute_impact(
    learners: Sequence[LearnerState],
    skills_before: Iterable[str],
    edges_before: Iterable[Prerequisite],
    skills_after: Iterable[str],
    edges_after: Iterable[Prerequisite],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    sample: int = SAMPLE,
) -> Impact:
    """The impact of going from the ``before`` curriculum to the ``after`` one (pure)."""
    before_s, after_s = set(skills_before), set(skills_after)
    edges_b, edges_a = list(edges_before), list(edges_after)
    pb, pa = _preds(edges_b), _preds(edges_a)
    touched = sorted((before_s ^ after_s) | {s for s in before_s | after_s
                                             if pb.get(s, set()) != pa.get(s, set())})
    removed = before_s - after_s
    ids = [ln.id for ln in learners]
    cols = sorted(set(touched) | {p for s in touched for p in pb.get(s, set()) | pa.get(s, set())})
    pos = {s: k for k, s in enumerate(cols)}
    mastered = np.zeros((len(learners), len(cols)), dtype=bool)
    for r, ln in enumerate(learners):
        for s, p in ln.mastery.items():
            k = pos.get(s)
            if k is not None and p >= threshold:
                mastered[r, k] = True

    def fringe(s: str, exists: set[str], preds: dict[str, set[str]]) -> np.ndarray:
        if s not in exists:
            return np.zeros(len(learners), dtype=bool)
        ready = ~mastered[:, pos[s]]
        for p in preds.get(s, ()):
            ready = ready & mastered[:, pos[p]]
        return ready

    changed = np.zeros(len(learners), dtype=bool)
    added: list[SkillCount] = []
    dropped: list[SkillCount] = []
    for s in touched:
        fb, fa = fringe(s, before_s, pb), fringe(s, after_s, pa)
        changed |= fb != fa
        if n := int((fa & ~fb).sum()):
            added.append(SkillCount(s, n))
        if n := int((fb & ~fa).sum()):
            dropped.append(SkillCount(s, n))

    gb: nx.DiGraph = nx.DiGraph()
    gb.add_nodes_from(before_s)
    gb.add_edges_from((e.source, e.target) for e in edges_b)
    ga: nx.DiGraph = nx.DiGraph()
    ga.add_nodes_from(after_s)
    ga.add_edges_from((e.source, e.target) for e in edges_a)
    memo: dict[tuple[str, ...], tuple[frozenset[str], frozenset[str]]] = {}
    path_changed, goals_lost, mastery_lost = [], [], []
    rows_lost = 0
    for ln in learners:
        if removed & set(ln.goals):
            goals_lost.append(ln.id)
        lost = [s for s in ln.mastery if s in removed]
        if lost:
            mastery_lost.append(ln.id)
            rows_lost += len(lost)
        if not ln.goals:
            continue
        if ln.goals not in memo:
            memo[ln.goals] = (_closure(gb, ln.goals),
                              _closure(ga, [g for g in ln.goals if g in after_s]))
        cb, ca = memo[ln.goals]
        if any(ln.mastery.get(s, 0.0) < threshold for s in cb ^ ca):
            path_changed.append(ln.id)

    return Impact(
        learners=len(learners),
        frontier_changed=LearnerSet.of((i for i, c in zip(ids, changed, strict=True) if c),
                                       sample),
        path_changed=LearnerSet.of(path_changed, sample),
        mastery_dropped=LearnerSet.of(mastery_lost, sample),
        mastery_rows_dropped=rows_lost,
        goals_dropped=LearnerSet.of(goals_lost, sample),
        frontier_added=tuple(sorted(added, key=lambda c: (-c.learners, c.skill_id))),
        frontier_removed=tuple(sorted(dropped, key=lambda c: (-c.learners, c.skill_id))),
    )


async def learner_states(store: GraphStore) -> list[LearnerState]:
    """Every learner with their goals and stored mastery, read a page at a time."""
    out: list[LearnerState] = []
    after: str | None = None
    while True:
        page = await store.list_learners(after=after, limit=PAGE)
        rows = await store.mastery_of([ln.id for ln in page]) if page else []
        out.extend(LearnerState(ln.id, tuple(ln.goals), {m.skill_id: m.probability for m in ms})
                   for ln, ms in zip(page, rows, strict=True))
        if len(page) < PAGE:
            return out
        after = page[-1].id
