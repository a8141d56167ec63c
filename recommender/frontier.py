"""Readiness frontier of Knowledge Space Theory (Doignon & Falmagne, *Knowledge Spaces*, 1999).

For a knowledge state K (the mastered skills) over a prerequisite DAG:

* the **outer fringe** is every skill q not in K whose prerequisites are all in K: what the
  learner is ready to learn next;
* the **inner fringe** is every skill q in K none of whose dependents are in K (so K \\ {q} is
  still a state): the most recently acquired layer, the natural material for review.

Mastery is a probability per skill; a skill counts as mastered when its probability is at least
``threshold``. Edges carry a strength in [0, 1]; an edge weaker than ``min_strength`` is a soft
dependency and does not block readiness, and ``readiness`` reports the strength-weighted share
of a skill's prerequisites that are mastered.
"""

from __future__ import annotations

import numpy as np

from recommender.errors import InvalidParameterError
from recommender.index import CurriculumIndex, FloatArray, IntArray

DEFAULT_THRESHOLD = 0.8


def check_mastery(index: CurriculumIndex, mastery: FloatArray, threshold: float) -> None:
    """Raise InvalidParameterError for a mastery vector or threshold that cannot be used."""
    if mastery.shape != (index.n_skills,):
        raise InvalidParameterError(
            "mastery", f"shape {mastery.shape}", f"shape ({index.n_skills},), one per skill"
        )
    if not 0.0 < threshold <= 1.0:
        raise InvalidParameterError("threshold", threshold, "a probability in (0, 1]")


def blocking_counts(
    index: CurriculumIndex, mastered: np.ndarray, min_strength: float = 0.0
) -> IntArray:
    """For each skill, how many of its (blocking) prerequisites are not mastered."""
    blocking = (~mastered[index.edge_src]) & (index.edge_strength >= min_strength)
    return np.bincount(index.edge_dst[blocking], minlength=index.n_skills)


def readiness(
    index: CurriculumIndex, mastery: FloatArray, threshold: float = DEFAULT_THRESHOLD
) -> FloatArray:
    """Strength-weighted share of each skill's prerequisites that are mastered (1 with none)."""
    mastered = mastery >= threshold
    total = np.bincount(index.edge_dst, weights=index.edge_strength, minlength=index.n_skills)
    done = np.bincount(
        index.edge_dst,
        weights=index.edge_strength * mastered[index.edge_src],
        minlength=index.n_skills,
    )
    return np.where(total > 0, done / np.where(total > 0, total, 1.0), 1.0)


def outer_fringe(
    index: CurriculumIndex,
    mastery: FloatArray,
    threshold: float = DEFAULT_THRESHOLD,
    min_strength: float = 0.0,
) -> IntArray:
    """Positions (ascending) of the unmastered skills whose prerequisites are all mastered.

    Args:
        mastery: ``(n_skills,)`` P(mastered) per skill.
        threshold: mastery at or above which a skill counts as mastered.
        min_strength: edges weaker than this do not block readiness (0 = every edge blocks).
    """
    check_mastery(index, mastery, threshold)
    mastered = mastery >= threshold
    ready = blocking_counts(index, mastered, min_strength) == 0
    return np.flatnonzero(ready & ~mastered)


def inner_fringe(
    index: CurriculumIndex,
    mastery: FloatArray,
    threshold: float = DEFAULT_THRESHOLD,
    acquired_at: FloatArray | None = None,
) -> IntArray:
    """Mastered skills none of whose dependents are mastered.

    With ``acquired_at`` (``(n_skills,)`` time each skill was mastered, e.g. epoch seconds;
    NaN when unknown) they are ordered most recent first, unknown times last; otherwise
    ascending by position.
    """
    check_mastery(index, mastery, threshold)
    mastered = mastery >= threshold
    has_mastered_child = (
        np.bincount(index.edge_src[mastered[index.edge_dst]], minlength=index.n_skills) > 0
    )
    inner = np.flatnonzero(mastered & ~has_mastered_child)
    if acquired_at is None or inner.size == 0:
        return inner
    t = np.asarray(acquired_at, dtype=np.float64)[inner]
    key = np.where(np.isnan(t), -np.inf, t)
    return inner[np.argsort(-key, kind="stable")]
