"""Spaced review with a forgetting model in the style of FSRS.

Retrievability (probability of recall) ``t`` days after the last practice of a skill with
stability ``S`` days follows the power forgetting curve of FSRS-4.5 (Ye, Su & Cao, "A
Stochastic Shortest Path Algorithm for Optimizing Spaced Repetition Scheduling", KDD 2022;
the open-spaced-repetition project's FSRS-4.5 curve):

    R(t, S) = (1 + F * t / S) ^ C,    C = -0.5,  F = 19/81     so that R(S, S) = 0.9.

The review interval for a target retention ``r`` solves R = r:

    I(r, S) = S / F * (r ^ (1/C) - 1),    I(0.9, S) = S.

Raising ``r`` shortens every interval (more reviews, better recall); lowering it saves work.
``r`` is a learner-level setting (``graph.models.Learner.target_retention``, default 0.9,
allowed 0.7-0.97 by :func:`check_retention`); :func:`forecast` puts a number on the trade-off:
the reviews a learner's current skills will ask for over the next days at each retention,
and the recall they keep meanwhile.

Stability update (a simplification of FSRS without the per-card difficulty term, written for
this project): a successful review at retrievability ``R`` multiplies stability by
``1 + growth * (exp(spacing * (1 - R)) - 1)`` (reviewing when nearly forgotten helps most,
reviewing at once barely at all); a failed review multiplies it by ``lapse`` (>= ``S_min``).

Workload forecast: a skill's next review falls on its due day ``last + I(r, S)`` (at once when
already overdue); each review is assumed to succeed, so stability grows by the rule above at
the recall the review was made at (``r`` when on time), and the next one is ``I(r, S')`` later.
Counting reviews until the horizon gives the forecast, and averaging R over the horizon along
that schedule gives the recall it buys. Assuming success makes the count a lower bound of the
real workload, tighter at high ``r``: a lapse (probability about ``1 - r`` per review) shrinks
stability and brings extra reviews, so low retentions save less than shown
(``benchmarks/bench_review.py`` measures the gap against a simulation with lapses).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from graph.models import TARGET_RETENTION_RANGE, retention_problem
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


#: Longest forecast horizon accepted, in days (ten years).
MAX_FORECAST_DAYS = 3650


def check_retention(target_retention: float) -> None:
    """The allowed range is the one a learner may store
    (``graph.models.TARGET_RETENTION_RANGE``, 0.7-0.97)."""
    why = retention_problem(target_retention)
    if why is not None:
        lo, hi = TARGET_RETENTION_RANGE
        raise InvalidParameterError(
            "target_retention", target_retention, f"a recall probability in [{lo}, {hi}]"
        )


def check_horizon(days: int) -> None:
    """A forecast horizon is a whole number of days in [1, :data:`MAX_FORECAST_DAYS`]."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_FORECAST_DAYS:
        raise InvalidParameterError(
            "days", days, f"a whole number of days in [1, {MAX_FORECAST_DAYS}]"
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


def _success_gain(recall: float, params: ReviewParams) -> float:
    return 1.0 + params.growth * (math.exp(params.spacing * (1.0 - recall)) - 1.0)


def recall_integral(from_days: float, to_days: float, stability_days: float) -> float:
    """Integral of R(t, S) dt from ``from_days`` to ``to_days`` after the last practice:
    with C = -0.5 it is ``2 S / F * (sqrt(1 + F t1 / S) - sqrt(1 + F t0 / S))``."""
    a = FACTOR / stability_days
    return 2.0 / a * (math.sqrt(1.0 + a * to_days) - math.sqrt(1.0 + a * from_days))


def _walk(
    stability_days: float,
    elapsed_days: float,
    horizon_days: float,
    target_retention: float,
    params: ReviewParams,
) -> tuple[int, float]:
    """Successful reviews of one skill in ``[0, horizon_days]`` (days from now), given its
    stability and the days since its last practice, and the integral of its recall over the
    horizon (recall-days)."""
    gain_on_time = _success_gain(target_retention, params)
    s, n, e, area = stability_days, 0, elapsed_days, 0.0
    t = interval_days(s, target_retention) - e  # next due, days from now
    if t < 0.0:  # overdue: reviewed now, at the recall it has dropped to
        s *= _success_gain(retrievability(e, s), params)
        n, e, t = 1, 0.0, interval_days(s, target_retention)
    start = 0.0  # days from now when the current stretch without review began
    while True:
        stop = min(t, horizon_days)
        area += recall_integral(e, e + stop - start, s)
        if t > horizon_days:
            return n, area
        n += 1
        s *= gain_on_time
        start, e = t, 0.0
        t += interval_days(s, target_retention)


def reviews_needed(
    horizon_days: float,
    target_retention: float,
    params: ReviewParams = ReviewParams(),
) -> int:
    """Reviews of one newly learned skill over ``horizon_days`` when every review is made on
    its due day and succeeds: the workload side of the retention setting."""
    check_retention(target_retention)
    return _walk(params.initial_stability_days, 0.0, horizon_days, target_retention, params)[0]


@dataclass(frozen=True, slots=True)
class Forecast:
    """What a retention setting costs and buys over a horizon: ``reviews`` in all, and the
    ``mean_recall`` of the skills averaged over the horizon (None without skills)."""

    reviews: int
    mean_recall: float | None


def forecast(
    states: Iterable[ReviewState],
    now: float,
    target_retention: float,
    days: int,
    params: ReviewParams = ReviewParams(),
) -> Forecast:
    """Reviews that ``states`` will need over the next ``days`` days at ``target_retention``,
    and the recall they keep meanwhile.

    Every review is assumed to be made on its due day (an overdue skill at once) and to
    succeed; see the module docstring for why the count is then a lower bound. The mean recall
    is the exact time average of R(t, S) along that schedule (:func:`recall_integral`).
    Skills practised after ``now`` count from ``now``.

    Args:
        states: the learner's review states (one per skill), e.g. from :func:`replay`.
        now: epoch seconds the forecast starts at.
        target_retention: recall probability reviews are scheduled at (0.7-0.97).
        days: horizon, 1 to :data:`MAX_FORECAST_DAYS`.
        params: constants of the forgetting model.
    """
    check_retention(target_retention)
    check_horizon(days)
    reviews, area, count = 0, 0.0, 0
    for st in states:
        n, a = _walk(
            st.stability_days,
            max(now - st.last_practice, 0.0) / DAY,
            float(days),
            target_retention,
            params,
        )
        reviews, area, count = reviews + n, area + a, count + 1
    return Forecast(reviews, area / (days * count) if count else None)
