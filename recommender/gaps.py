"""Gaps: what stands between a learner (or a group) and a goal, down to the root causes.

For a learner and goal skills, the **gaps** are the unmastered skills of the goals'
prerequisite closure. Each gap's **root causes** are the gaps at the bottom of its chain: the
unmastered skills among it and its prerequisites whose own prerequisites are all mastered
(the learner could start on them today; a ready gap is its own root cause).

For a group, the skills where the most learners are stuck are the root causes counted over
learners: each comes with the learners for whom it is a root cause (what a teacher acts on).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from recommender.errors import InvalidParameterError
from recommender.frontier import DEFAULT_THRESHOLD, blocking_counts, check_mastery
from recommender.index import CurriculumIndex, FloatArray


@dataclass(frozen=True, slots=True)
class Gap:
    skill: str
    mastery: float
    ready: bool
    root_causes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupGap:
    skill: str
    learners: tuple[str, ...]
    mean_mastery: float


def _goal_positions(index: CurriculumIndex, goals: Sequence[str]) -> list[int]:
    if not goals:
        raise InvalidParameterError("goals", list(goals), "at least one goal skill id")
    return [int(x) for x in index.skill_positions(goals).tolist()]


def learner_gaps(
    index: CurriculumIndex,
    mastery: FloatArray,
    goals: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Gap]:
    """The learner's gaps toward ``goals``, dependents first (goals before their
    prerequisites), each with its root causes in topological order."""
    check_mastery(index, mastery, threshold)
    closure = index.ancestors(_goal_positions(index, goals))
    mastered = mastery >= threshold
    need = closure[~mastered[closure]]
    if need.size == 0:
        return []
    ready = blocking_counts(index, mastered) == 0
    out = []
    for u in sorted(need.tolist(), key=lambda v: -int(index.topo_rank[v])):
        anc = index.ancestors([u])
        roots = anc[~mastered[anc] & ready[anc]]
        roots = roots[np.argsort(index.topo_rank[roots], kind="stable")]
        out.append(
            Gap(
                skill=index.skill_ids[u],
                mastery=float(mastery[u]),
                ready=bool(ready[u]),
                root_causes=tuple(index.skill_ids[r] for r in roots.tolist()),
            )
        )
    return out


def group_gaps(
    index: CurriculumIndex,
    masteries: Mapping[str, FloatArray],
    goals: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
) -> list[GroupGap]:
    """Root-cause skills of the group toward ``goals``, most learners first (ties:
    topological order); each lists its learners (sorted) and their mean mastery of it."""
    closure = index.ancestors(_goal_positions(index, goals))
    stuck: dict[int, list[str]] = {}
    for learner, m in masteries.items():
        check_mastery(index, m, threshold)
        mastered = m >= threshold
        ready = blocking_counts(index, mastered) == 0
        for r in closure[~mastered[closure] & ready[closure]].tolist():
            stuck.setdefault(r, []).append(learner)
    rows = []
    for r, learners in stuck.items():
        mean = float(np.mean([masteries[x][r] for x in learners]))
        rows.append(GroupGap(index.skill_ids[r], tuple(sorted(learners)), mean))
    rows.sort(key=lambda g: (-len(g.learners), int(index.topo_rank[index.skill_pos[g.skill]])))
    return rows
