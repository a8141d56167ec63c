"""Path to a goal: what is left to learn before a set of goal skills, in a learnable order.

The path is every unmastered skill in the goals' prerequisite closure (the goals included),
ordered so that each skill comes after its prerequisites on the path (Kahn's algorithm), and
among the skills available at each step it prefers the one that **unblocks** most of the
remaining path (number of path skills that transitively depend on it), then the cheaper one
(expected seconds to master), then the curriculum's topological order.

Expected effort per skill follows the BKT learning model (Corbett & Anderson, 1995): with a
per-practice learning probability ``T`` and current mastery ``p``, after ``n`` practices
``P(mastered) = 1 - (1 - p)(1 - T)^n``; reaching ``threshold`` takes

    n = ceil( log((1 - threshold) / (1 - p)) / log(1 - T) ),  at least 1,

and each practice costs the mean ``expected_seconds`` of the skill's items.

Costs: the closure is memoised per goal set by :class:`~recommender.index.CurriculumIndex`;
the rest is O(k log k) in the number ``k`` of unmastered path skills, with the "unblocks"
counts exact (bitsets over the path) up to ``exact_unblocks_limit`` skills and a path-count
approximation (capped at k - 1) beyond.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recommender.errors import InvalidParameterError
from recommender.frontier import DEFAULT_THRESHOLD, check_mastery
from recommender.index import CurriculumIndex, FloatArray, IntArray, gather

DEFAULT_LEARN_RATE = 0.2


@dataclass(frozen=True, slots=True)
class PathStep:
    skill: str
    mastery: float
    estimated_items: int
    estimated_seconds: float
    unblocks: int
    ready: bool


@dataclass(frozen=True, slots=True)
class LearningPath:
    goals: tuple[str, ...]
    steps: tuple[PathStep, ...]
    estimated_items: int
    estimated_seconds: float

    @property
    def skills(self) -> tuple[str, ...]:
        return tuple(s.skill for s in self.steps)


def expected_items(
    mastery: FloatArray,
    threshold: float = DEFAULT_THRESHOLD,
    learn_rate: float = DEFAULT_LEARN_RATE,
) -> IntArray:
    """Practices to reach ``threshold`` from ``mastery`` under BKT learning (0 if reached)."""
    if not 0.0 < learn_rate < 1.0:
        raise InvalidParameterError("learn_rate", learn_rate, "a probability in (0, 1)")
    p = np.clip(np.asarray(mastery, dtype=np.float64), 0.0, 1.0)
    todo = p < threshold
    ratio = (1.0 - threshold) / np.maximum(1.0 - p, 1e-12)
    n = np.ceil(np.log(np.maximum(ratio, 1e-12)) / math.log(1.0 - learn_rate) - 1e-9)
    return np.where(todo, np.maximum(n, 1), 0).astype(np.int64)


def unblock_counts(index: CurriculumIndex, nodes: IntArray, exact_limit: int = 20_000) -> IntArray:
    """For each of ``nodes`` (a set of skill positions), how many others of the set transitively
    depend on it through paths inside the set."""
    k = nodes.size
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    local = np.full(index.n_skills, -1, dtype=np.int64)
    local[nodes] = np.arange(k)
    kids_all = gather(index.chi_ptr, index.chi_idx, nodes)
    owner = np.repeat(np.arange(k), index.n_children[nodes])
    keep = local[kids_all] >= 0
    src = owner[keep]
    dst = local[kids_all[keep]]
    order = np.argsort(-index.topo_rank[nodes], kind="stable")  # dependents first
    ptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=k), out=ptr[1:])
    dst_sorted = dst[np.argsort(src, kind="stable")].tolist()
    ptr_l = ptr.tolist()
    out = np.zeros(k, dtype=np.int64)
    if k <= exact_limit:
        bits: list[int] = [0] * k
        for u in order.tolist():
            acc = 0
            for c in dst_sorted[ptr_l[u] : ptr_l[u + 1]]:
                acc |= bits[c] | (1 << c)
            bits[u] = acc
            out[u] = acc.bit_count()
        return out
    counts = [0] * k
    for u in order.tolist():
        counts[u] = min(k - 1, sum(counts[c] + 1 for c in dst_sorted[ptr_l[u] : ptr_l[u + 1]]))
    return np.asarray(counts, dtype=np.int64)


def path_order(
    index: CurriculumIndex, nodes: IntArray, unblocks: IntArray, cost: FloatArray
) -> IntArray:
    """Positions ``nodes`` in an order where every skill follows its prerequisites among
    ``nodes``, preferring at each step more ``unblocks``, then lower ``cost``."""
    k = nodes.size
    local = np.full(index.n_skills, -1, dtype=np.int64)
    local[nodes] = np.arange(k)
    pars = gather(index.par_ptr, index.par_idx, nodes)
    owner = np.repeat(np.arange(k), index.n_parents[nodes])
    indeg = np.bincount(owner[local[pars] >= 0], minlength=k).tolist()
    chi_ptr = index.chi_ptr
    chi_idx = index.chi_idx
    local_l = local
    keys = list(
        zip((-unblocks).tolist(), cost.tolist(), index.topo_rank[nodes].tolist(), strict=True)
    )
    heap = [(*keys[i], i) for i in range(k) if indeg[i] == 0]
    heapq.heapify(heap)
    out: list[int] = []
    nodes_l = nodes.tolist()
    while heap:
        i = heapq.heappop(heap)[-1]
        out.append(nodes_l[i])
        u = nodes_l[i]
        for c in local_l[chi_idx[chi_ptr[u] : chi_ptr[u + 1]]].tolist():
            if c >= 0:
                indeg[c] -= 1
                if indeg[c] == 0:
                    heapq.heappush(heap, (*keys[c], c))
    return np.asarray(out, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class ReadySteps:
    """The ready skills of a goal path in path priority, without ordering the whole path."""

    skills: IntArray  # positions, best first
    unblocks: IntArray  # aligned with ``skills``
    remaining: int  # unmastered skills on the whole path


def ready_on_path(
    index: CurriculumIndex,
    mastery: FloatArray,
    goals: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    learn_rate: float = DEFAULT_LEARN_RATE,
    min_strength: float = 0.0,
) -> ReadySteps:
    """The skills :func:`learning_path` would let the learner start now (every blocking
    prerequisite mastered), in the priority it uses: most unblocking, then cheapest, then
    topological. Costs O(path) with no per-step objects: what the next-item policy needs."""
    check_mastery(index, mastery, threshold)
    if not goals:
        raise InvalidParameterError("goals", list(goals), "at least one goal skill id")
    closure = index.ancestors(index.skill_positions(goals).tolist())
    need = closure[mastery[closure] < threshold]
    if need.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return ReadySteps(empty, empty, 0)
    mastered = mastery >= threshold
    pars = gather(index.par_ptr, index.par_idx, need)
    strong = gather(index.par_ptr, index.par_strength, need)
    owner = np.repeat(np.arange(need.size), index.n_parents[need])
    blocked = np.bincount(
        owner, weights=(~mastered[pars]) & (strong >= min_strength), minlength=need.size
    )
    ready_mask = blocked == 0
    unblocks = unblock_counts(index, need)[ready_mask]
    ready = need[ready_mask]
    cost = expected_items(mastery[ready], threshold, learn_rate) * index.skill_seconds[ready]
    order = np.lexsort((index.topo_rank[ready], cost, -unblocks))
    return ReadySteps(ready[order], unblocks[order], int(need.size))


def learning_path(
    index: CurriculumIndex,
    mastery: FloatArray,
    goals: Sequence[str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    learn_rate: float = DEFAULT_LEARN_RATE,
    exact_unblocks_limit: int = 20_000,
) -> LearningPath:
    """The unmastered skills before ``goals``, in learnable, prioritised order.

    Args:
        mastery: ``(n_skills,)`` P(mastered) per skill.
        goals: goal skill ids (UnknownIdError for ids not in the curriculum).
        threshold: mastery at which a skill counts as mastered.
        learn_rate: BKT P(learn) per practice, for the effort estimate.
    """
    check_mastery(index, mastery, threshold)
    if not goals:
        raise InvalidParameterError("goals", list(goals), "at least one goal skill id")
    gpos = index.skill_positions(goals)
    closure = index.ancestors(gpos.tolist())
    need = closure[mastery[closure] < threshold]
    if need.size == 0:
        return LearningPath(tuple(goals), (), 0, 0.0)
    n_items = expected_items(mastery[need], threshold, learn_rate)
    seconds = n_items * index.skill_seconds[need]
    unblocks = unblock_counts(index, need, exact_unblocks_limit)
    order = path_order(index, need, unblocks, seconds)
    local = np.full(index.n_skills, -1, dtype=np.int64)
    local[need] = np.arange(need.size)
    mastered = mastery >= threshold
    # a skill is ready when every prerequisite is mastered (those off the closure included)
    blocked = np.bincount(
        np.repeat(np.arange(need.size), index.n_parents[need]),
        weights=~mastered[gather(index.par_ptr, index.par_idx, need)],
        minlength=need.size,
    )
    steps = []
    for u in order.tolist():
        j = local[u]
        steps.append(
            PathStep(
                skill=index.skill_ids[u],
                mastery=float(mastery[u]),
                estimated_items=int(n_items[j]),
                estimated_seconds=float(seconds[j]),
                unblocks=int(unblocks[j]),
                ready=bool(blocked[j] == 0),
            )
        )
    return LearningPath(
        goals=tuple(goals),
        steps=tuple(steps),
        estimated_items=int(n_items.sum()),
        estimated_seconds=float(seconds.sum()),
    )
