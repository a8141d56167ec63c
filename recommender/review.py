"""Spaced review with a forgetting model in the style of FSRS.

Retrievability (probability of recall) ``t`` days after the last practice of a skill with
stability ``S`` days follows the power forgetting curve of FSRS-4.5 (Ye, Su & Cao, "A
Stochastic Shortest Path Algorithm for Optimizing Spaced Repetition Scheduling", KDD 2022;
the open-spaced-repetition project's FSRS-4.5 curve):

    R(t, S) = (1 + F * t / S) ^ C,    C = -0.5,  F = 19/81     so that R(S, S) = 0.9.

The review interval for a target retention ``r`` (a learner-level setting) solves R = r:

    I(r, S) = S / F * (r ^ (1/C) - 1),    I(0.9, S) = S.

Raising ``r`` shortens every interval (more reviews, better recall); lowering it saves work.

Stability update (a simplification of FSRS without the per-card difficulty term, written for
this project): a successful review at retrievability ``R`` multiplies stability by
``1 + growth * (exp(spacing * (1 - R)) - 1)`` (reviewing when nearly forgotten helps most,
reviewing at once barely at all); a failed review multiplies it by ``lapse`` (>= ``S_min``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from recommender.errors import InvalidParameterError

DECAY = -0.5
FACTOR = 19.0 / 81.0
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class ReviewParams:
    """Constants of the forgetting model.

    Args:
        initial_stability_days: stability after a skill's first successful practice.
        growth: scale of the stability gain of a successful review.
        spacing: how much more a review gains when recall had dropped further.
        lapse: stability multiplier after a failed review.
        min_stability_days: floor of the stability.
    """

    initial_stability_days: float = 2.0
    growth: float = 3.0
    spacing: float = 3.0
    lapse: float = 0.3
    min_stability_days: float = 0.1


@dataclass(frozen=True, slots=True)
class ReviewState:
    """Memory of one skill for one learner; ``last_practice`` in epoch seconds."""

    skill: str
    stability_days: float
    last_practice: float
    reps: int = 0
    lapses: int = 0


@dataclass(frozen=True, slots=True)
class DueReview:
    skill: str
    retrievability: float
    days_since: float
    due_at: float


def check_retention(target_retention: float) -> None:
    if not 0.0 < target_retention < 1.0:
        raise InvalidParameterError(
            "target_retention", target_retention, "a probability in (0, 1), e.g. 0.9"
        )


def retrievability(elapsed_days: float, stability_days: float) -> float:
    """R(t, S): the probability of recall after ``elapsed_days`` (clamped at 0)."""
    return float((1.0 + FACTOR * max(elapsed_days, 0.0) / stability_days) ** DECAY)


def interval_days(stability_days: float, target_retention: float) -> float:
    """Days until recall falls to ``target_retention``."""
    check_retention(target_retention)
    return float(stability_days / FACTOR * (target_retention ** (1.0 / DECAY) - 1.0))


def update(
    state: ReviewState | None,
    skill: str,
    correct: bool,
    t: float,
    params: ReviewParams = ReviewParams(),
) -> ReviewState | None:
    """The state after one practice of ``skill`` at epoch seconds ``t``.

    A skill enters review only once answered correctly (before that it is being learned,
    not remembered): a wrong answer on a skill without a state leaves it without one.
    """
    if state is None:
        if not correct:
            return None
        return ReviewState(skill, params.initial_stability_days, t, reps=1)
    r = retrievability((t - state.last_practice) / DAY, state.stability_days)
    if correct:
        gain = 1.0 + params.growth * (math.exp(params.spacing * (1.0 - r)) - 1.0)
        s = state.stability_days * gain
        return replace(state, stability_days=s, last_practice=t, reps=state.reps + 1)
    s = max(params.min_stability_days, state.stability_days * params.lapse)
    return replace(
        state, stability_days=s, last_practice=t, reps=state.reps + 1, lapses=state.lapses + 1
    )


def replay(
    practices: Iterable[tuple[str, bool, float]], params: ReviewParams = ReviewParams()
) -> dict[str, ReviewState]:
    """Review states from ``(skill, correct, t)`` practices in time order."""
    states: dict[str, ReviewState] = {}
    for skill, correct, t in practices:
        new = update(states.get(skill), skill, correct, t, params)
        if new is not None:
            states[skill] = new
    return states


def due_reviews(
    states: Iterable[ReviewState],
    now: float,
    target_retention: float = 0.9,
    *,
    limit: int | None = None,
) -> list[DueReview]:
    """Skills whose recall has fallen to ``target_retention`` or below, least recalled first."""
    check_retention(target_retention)
    out = []
    for st in states:
        days = (now - st.last_practice) / DAY
        r = retrievability(days, st.stability_days)
        if r <= target_retention:
            due = st.last_practice + interval_days(st.stability_days, target_retention) * DAY
            out.append(DueReview(st.skill, r, days, due))
    out.sort(key=lambda d: (d.retrievability, d.skill))
    return out if limit is None else out[:limit]


def reviews_needed(
    horizon_days: float,
    target_retention: float,
    params: ReviewParams = ReviewParams(),
) -> int:
    """Reviews of one skill over ``horizon_days`` when every review is made on its due day and
    succeeds: the workload side of the retention setting."""
    check_retention(target_retention)
    s, t, n = params.initial_stability_days, 0.0, 0
    while True:
        t += interval_days(s, target_retention)
        if t > horizon_days:
            return n
        n += 1
        gain = 1.0 + params.growth * (math.exp(params.spacing * (1.0 - target_retention)) - 1.0)
        s *= gain
