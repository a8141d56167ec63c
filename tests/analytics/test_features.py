"""Risk features and labels on hand-built timelines with known answers."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from analytics.features import FEATURES, INACTIVE_CAP, features_at, label_at, labelled_rows
from analytics.timeline import replay
from tests.analytics.helpers import T0, answers, service


def feats(spec: str, at_days: float, gap_s: float = 60.0) -> dict[str, float]:
    tl = replay("l1", answers("l1", spec, gap_s=gap_s), service())
    x = features_at(tl, T0 + timedelta(days=at_days))
    return dict(zip(FEATURES, x.tolist(), strict=True))


def test_failure_streak_accuracy_and_stuck_tries() -> None:
    f = feats("a1 a1 b0 b0 b0 b0", at_days=1)
    assert f["failure_streak"] == 4
    assert f["accuracy_10"] == pytest.approx(2 / 6)
    assert f["stuck_tries"] == 4  # four answers in a row on b, still below 0.8
    assert f["answers_7d"] == 6
    assert f["days_inactive"] == pytest.approx(1 - 5 * 60 / 86400)
    assert f["log_answers"] == pytest.approx(np.log1p(6))


def test_mastery_slope_is_per_answer_and_signed() -> None:
    up = feats("a1 a1 a1 a1", at_days=0.01)
    down = feats("a1 a1 a0 a0 a0 a0", at_days=0.01)
    assert up["mastery_slope"] > 0 > down["mastery_slope"]


def test_no_answers_yet_and_the_inactivity_cap() -> None:
    f = feats("a1", at_days=-1)
    assert f["days_inactive"] == INACTIVE_CAP and f["answers_7d"] == 0
    assert feats("a1", at_days=400)["days_inactive"] == INACTIVE_CAP


def test_label_is_progress_over_the_horizon() -> None:
    # four right answers on a over 4 days: progress after day 0, none after day 4
    tl = replay("l1", answers("l1", "a1 a1 a1 a1 a1 a1", gap_s=86400.0), service())
    assert label_at(tl, T0 - timedelta(hours=1), horizon=timedelta(days=3)) == 0
    assert label_at(tl, T0 + timedelta(days=6), horizon=timedelta(days=7)) == 1


def test_labelled_rows_stop_one_horizon_after_the_last_answer() -> None:
    tl = replay("l1", answers("l1", "a0 a1 a1", gap_s=86400.0), service())
    rows = labelled_rows([tl], T0 + timedelta(days=100))
    # cutoffs at day 0 (+1 h) and day 7 (+1 h): the next would be more than a week past day 2
    assert len(rows) == 2 and rows.learners == ("l1", "l1")
    assert rows.y.tolist() == [0, 1]
