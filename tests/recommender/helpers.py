"""Tiny hand-built curricula shared by the recommender tests."""

from __future__ import annotations

import numpy as np

from recommender.index import CurriculumIndex, ItemSpec


def diamond(items_per_skill: int = 2) -> CurriculumIndex:
    """A -> B, A -> C, B -> D, C -> D (A is the prerequisite of B and C; D needs both)."""
    skills = ["A", "B", "C", "D"]
    edges = [("A", "B", 1.0), ("A", "C", 1.0), ("B", "D", 1.0), ("C", "D", 1.0)]
    items = [
        ItemSpec(f"{s}{k}", (s,), expected_seconds=30.0 * (k + 1), difficulty=0.3 + 0.2 * k)
        for s in skills
        for k in range(items_per_skill)
    ]
    return CurriculumIndex(skills, edges, items, version="diamond")


def chain(n: int, items_per_skill: int = 1) -> CurriculumIndex:
    """S0 -> S1 -> ... -> S(n-1)."""
    skills = [f"S{i}" for i in range(n)]
    edges = [(skills[i], skills[i + 1], 1.0) for i in range(n - 1)]
    items = [ItemSpec(f"{s}-{k}", (s,)) for s in skills for k in range(items_per_skill)]
    return CurriculumIndex(skills, edges, items, version=f"chain{n}")


def random_dag(rng: np.random.Generator, n: int, p: float) -> CurriculumIndex:
    """A random DAG on ``n`` skills: each pair i < j is an edge with probability ``p``."""
    skills = [f"k{i}" for i in range(n)]
    edges = [
        (skills[i], skills[j], 1.0) for i in range(n) for j in range(i + 1, n) if rng.random() < p
    ]
    perm = rng.permutation(n)
    shuffled = [skills[i] for i in perm]
    items = [ItemSpec(f"it{s}", (s,)) for s in skills]
    return CurriculumIndex(shuffled, edges, items)


def mastery_of(index: CurriculumIndex, **values: float) -> np.ndarray:
    return index.mastery_array(values)
