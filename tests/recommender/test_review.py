from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.errors import InvalidParameterError
from recommender.review import (
    DAY,
    Forecast,
    ReviewState,
    check_retention,
    due_reviews,
    forecast,
    interval_days,
    recall_integral,
    replay,
    retrievability,
    reviews_needed,
    update,
)


def test_curve_passes_through_ninety_percent_at_one_stability() -> None:
    assert retrievability(0, 5.0) == 1.0
    assert retrievability(5.0, 5.0) == pytest.approx(0.9)
    assert interval_days(5.0, 0.9) == pytest.approx(5.0)
    assert retrievability(interval_days(3.0, 0.7), 3.0) == pytest.approx(0.7)


@settings(deadline=None)
@given(st.floats(0.1, 100), st.floats(0, 400), st.floats(0, 400))
def test_recall_falls_with_time(s: float, t1: float, t2: float) -> None:
    lo, hi = sorted((t1, t2))
    assert retrievability(hi, s) <= retrievability(lo, s)


@settings(deadline=None)
@given(st.floats(0.7, 0.97), st.floats(0.7, 0.97))
def test_higher_target_retention_means_more_reviews(r1: float, r2: float) -> None:
    lo, hi = sorted((r1, r2))
    assert reviews_needed(365, hi) >= reviews_needed(365, lo)
    assert interval_days(4.0, hi) <= interval_days(4.0, lo)


def test_spaced_success_grows_stability_more_than_massed_and_failure_shrinks_it() -> None:
    s0 = ReviewState("a", 2.0, 0.0, reps=1)
    massed = update(s0, "a", True, 60.0)
    spaced = update(s0, "a", True, 4 * DAY)
    lapse = update(s0, "a", False, 4 * DAY)
    assert massed and spaced and lapse
    assert 2.0 < massed.stability_days < 2.01 < spaced.stability_days
    assert lapse.stability_days == pytest.approx(0.6) and lapse.lapses == 1
    assert update(None, "a", False, 0.0) is None


def test_due_queue_orders_least_recalled_first_and_respects_the_setting() -> None:
    states = replay([("a", True, 0.0), ("b", True, 2 * DAY), ("c", False, 0.0)])
    assert set(states) == {"a", "b"}
    now = 5 * DAY
    due = due_reviews(states.values(), now, 0.9)
    # a: 5 days at S=2 -> R=0.79; b: 3 days at S=2 -> R=0.86
    assert [d.skill for d in due] == ["a", "b"]
    assert due[0].days_since == pytest.approx(5.0)
    assert [d.skill for d in due_reviews(states.values(), now, 0.8)] == ["a"]
    assert due_reviews(states.values(), now, 0.7) == []
    with pytest.raises(InvalidParameterError, match="target_retention"):
        due_reviews(states.values(), now, 1.0)


@pytest.mark.parametrize("bad", [0.5, 0.69, 0.971, 1.0, float("nan"), True])
def test_retention_outside_the_learner_setting_range_is_refused_by_name(bad: float) -> None:
    with pytest.raises(InvalidParameterError, match=r"target_retention=.*\[0\.7, 0\.97\]"):
        check_retention(bad)
    check_retention(0.7)
    check_retention(0.97)


def test_forecast_of_a_skill_practised_just_now_matches_the_hand_computation() -> None:
    # S=2 days, practised at `now`, 30-day horizon. gain(r) = 1 + 3 (e^(3 (1 - r)) - 1):
    # r=0.9: I = S; gain 2.0496; reviews at day 2, 6.10, 14.50 (next 31.72 > 30) -> 3.
    # r=0.8: I = 2.398 S; gain 3.4664; reviews at day 4.80, 21.42 (next 79.0) -> 2.
    # r=0.95: I = 0.4606 S; gain 1.4855; reviews at day 0.92, 2.29, 4.32, 7.34, 11.83,
    #         18.49, 28.39 (next 43.1) -> 7.
    fresh = [ReviewState("a", 2.0, 10 * DAY)]
    assert [forecast(fresh, 10 * DAY, r, 30).reviews for r in (0.8, 0.9, 0.95)] == [2, 3, 7]
    assert [reviews_needed(30, r) for r in (0.8, 0.9, 0.95)] == [2, 3, 7]
    assert forecast(fresh, 10 * DAY, 0.9, 1).reviews == 0
    assert forecast([], 0.0, 0.9, 30) == Forecast(0, None)


def test_an_overdue_skill_is_reviewed_at_once_with_the_larger_gain_of_late_recall() -> None:
    # S=2, last practised 10 days ago: R = (1 + F * 10 / 2)^-0.5 = 0.6784, reviewed now;
    # gain 1 + 3 (e^(3 * 0.3216) - 1) = 5.874 -> S = 11.75, next review 11.75 days later,
    # then S = 24.08 and the one after at day 35.8.
    late = [ReviewState("a", 2.0, 0.0)]
    assert forecast(late, 10 * DAY, 0.9, 1).reviews == 1
    assert forecast(late, 10 * DAY, 0.9, 11).reviews == 1
    assert forecast(late, 10 * DAY, 0.9, 12).reviews == 2
    assert forecast(late, 10 * DAY, 0.9, 35).reviews == 2
    assert forecast(late, 10 * DAY, 0.9, 36).reviews == 3


@pytest.mark.parametrize("days", [0, -1, 3651, 2.5, True])
def test_forecast_horizon_is_checked(days: int) -> None:
    with pytest.raises(InvalidParameterError, match="days="):
        forecast([ReviewState("a", 2.0, 0.0)], 0.0, 0.9, days)


states_strategy = st.lists(
    st.builds(
        ReviewState,
        skill=st.sampled_from("abcdef"),
        stability_days=st.floats(0.1, 200),
        last_practice=st.floats(0, 100 * DAY),
    ),
    max_size=6,
)


@settings(deadline=None, max_examples=300)
@given(states_strategy, st.floats(0.7, 0.97), st.floats(0.7, 0.97), st.integers(1, 400))
def test_forecast_is_monotone_in_retention_and_covers_what_is_due_now(
    states: list[ReviewState], r1: float, r2: float, days: int
) -> None:
    lo, hi = sorted((r1, r2))
    now = 100 * DAY
    f_lo, f_hi = forecast(states, now, lo, days), forecast(states, now, hi, days)
    assert f_hi.reviews >= f_lo.reviews
    assert f_lo.reviews >= len(due_reviews(states, now, lo))
    assert f_lo.reviews == sum(forecast([s], now, lo, days).reviews for s in states)
    if states:
        assert f_lo.mean_recall is not None and f_hi.mean_recall is not None
        assert 0.0 < f_lo.mean_recall <= 1.0 and 0.0 < f_hi.mean_recall <= 1.0
    else:
        assert f_lo.mean_recall is None


def test_mean_recall_is_the_time_average_of_the_curve_along_the_schedule() -> None:
    # no review within a day of practice at S=2: the integral of (1 + F t / 2)^-0.5 over
    # [0, 1] is 2 * 2 / F * (sqrt(1 + F / 2) - 1) = 0.97228
    one_day = forecast([ReviewState("a", 2.0, 0.0)], 0.0, 0.9, 1)
    assert one_day == Forecast(0, pytest.approx(0.97228, abs=1e-5))
    # 30 days at r=0.9: reviews at day 2, 6.0992, 14.5008 (S 2, 4.0992, 8.4016, 17.2197);
    # check against a midpoint sum of R over that schedule (10,000 steps a day)
    g = 1 + 3 * (math.exp(0.3) - 1)
    stab = [2.0, 2.0 * g, 2.0 * g * g, 2.0 * g**3]
    starts = [0.0, 2.0, 2.0 + stab[1], 2.0 + stab[1] + stab[2]]
    steps = 300_000
    total = 0.0
    for k in range(steps):
        t = (k + 0.5) * 30 / steps
        i = max(j for j in range(4) if starts[j] <= t)
        total += retrievability(t - starts[i], stab[i])
    month = forecast([ReviewState("a", 2.0, 0.0)], 0.0, 0.9, 30)
    assert month.reviews == 3
    assert month.mean_recall == pytest.approx(total / steps, abs=1e-6)
    assert recall_integral(0.0, 2.0, 2.0) == pytest.approx(2 * 2 / (19 / 81) * (1.1111 - 1), 1e-3)


@settings(deadline=None, max_examples=200)
@given(states_strategy, st.floats(0.7, 0.97), st.integers(1, 400))
def test_the_schedule_keeps_mean_recall_at_or_above_the_target(
    states: list[ReviewState], r: float, days: int
) -> None:
    # before a skill's first due day its recall is above r; an overdue skill is reviewed at
    # once; after each review recall falls back to exactly r by the next due day
    f = forecast(states, 100 * DAY, r, days)
    if states:
        assert f.mean_recall is not None and r - 1e-9 <= f.mean_recall <= 1.0
