from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.errors import InvalidParameterError
from recommender.review import (
    DAY,
    ReviewState,
    due_reviews,
    interval_days,
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
@given(st.floats(0.5, 0.97), st.floats(0.5, 0.97))
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
    assert due_reviews(states.values(), now, 0.5) == []
    with pytest.raises(InvalidParameterError, match="target_retention"):
        due_reviews(states.values(), now, 1.0)
