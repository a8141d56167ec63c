"""Segments of a class: k-means on the learners' mastery vectors, with a next skill per segment.

Each learner is the vector of P(mastered) over the chosen skills (a skill the learner has no
estimate for gets the class's mean of it, or the prior 0.3 when nobody has one). k-means
(scikit-learn, ``n_init=10``, seeded) splits the class into ``k`` segments, k at most the
number of distinct learners. Each segment's **next skill** is, at the segment's centroid, the
ready unmastered skill (all prerequisites at or above the threshold) that the class goals
need, first in topological order; with no class goals (or none of them left), the ready
skill that unlocks the most others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from analytics.errors import AnalyticsError
from recommender.frontier import outer_fringe
from recommender.index import CurriculumIndex

PRIOR = 0.3


@dataclass(frozen=True, slots=True)
class Segment:
    learners: tuple[str, ...]
    centroid: dict[str, float]
    next_skill: str | None
    weakest: tuple[str, ...]


def segment(
    index: CurriculumIndex,
    mastery: Mapping[str, Mapping[str, float]],
    *,
    k: int = 3,
    goals: Sequence[str] = (),
    threshold: float = 0.8,
    seed: int = 0,
) -> list[Segment]:
    """``mastery``: learner id -> skill id -> P(mastered). Segments largest first."""
    from sklearn.cluster import KMeans

    if k < 1:
        raise AnalyticsError(f"k={k}: ask for at least one segment")
    learners = sorted(mastery)
    if not learners:
        return []
    skills = list(index.skill_ids)
    x = np.full((len(learners), len(skills)), np.nan)
    for i, lid in enumerate(learners):
        for s, p in mastery[lid].items():
            j = index.skill_pos.get(s)
            if j is not None:
                x[i, j] = p
    seen = ~np.all(np.isnan(x), axis=0)
    means = np.where(seen, np.nanmean(np.where(seen, x, 0.0), axis=0), PRIOR)
    x = np.where(np.isnan(x), means, x)
    k = min(k, len(np.unique(x, axis=0)))
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
    goal_pos = [index.skill_pos[g] for g in goals if g in index.skill_pos]
    need = set(index.ancestors(goal_pos).tolist()) if goal_pos else set()
    out = []
    for c in range(k):
        members = tuple(lid for lid, lab in zip(learners, km.labels_, strict=True) if lab == c)
        centre = km.cluster_centers_[c]
        ready = outer_fringe(index, np.clip(centre, 0.0, 1.0), threshold).tolist()
        on_goal = sorted((r for r in ready if r in need), key=lambda r: int(index.topo_rank[r]))
        if on_goal:
            nxt: str | None = skills[on_goal[0]]
        elif ready:
            unlocks = [len(index.descendants([r])) for r in ready]
            nxt = skills[ready[int(np.argmax(unlocks))]]
        else:
            nxt = None
        practised = np.flatnonzero(seen)
        weakest = practised[np.argsort(centre[practised], kind="stable")][:3]
        out.append(
            Segment(
                members,
                {skills[j]: float(centre[j]) for j in practised.tolist()},
                nxt,
                tuple(skills[j] for j in weakest.tolist()),
            )
        )
    out.sort(key=lambda s: (-len(s.learners), s.learners))
    return out
