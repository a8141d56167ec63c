"""The at-risk model: fit, probabilities, reasons, and the prior for a new store."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.errors import AnalyticsError
from analytics.features import FEATURES, LabelledRows
from analytics.risk import MIN_ROWS, ReasonCode, fit, prior_model

COL = {n: j for j, n in enumerate(FEATURES)}


def synthetic(n_learners: int = 60, per: int = 4, seed: int = 0) -> LabelledRows:
    """At risk exactly when inactive for more than 5 days; other features noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_learners * per, len(FEATURES)))
    x[:, COL["days_inactive"]] = rng.uniform(0, 12, size=len(x))
    y = (x[:, COL["days_inactive"]] > 5).astype(np.int64)
    who = tuple(f"l{k // per}" for k in range(len(x)))
    return LabelledRows(x, y, who)


def test_fit_learns_the_signal_and_measures_auc_on_held_out_learners() -> None:
    model = fit(synthetic())
    assert model.trained and model.rows == 240
    assert model.validation_auc is not None and model.validation_auc > 0.95
    assert int(np.argmax(np.abs(model.coef))) == COL["days_inactive"]
    x = np.zeros(len(FEATURES))
    x[COL["days_inactive"]] = 11.0
    risk = model.assess(x)
    assert risk.at_risk and risk.probability > 0.9
    assert risk.reasons[0].code is ReasonCode.INACTIVE
    assert risk.reasons[0].message == "no answers for 11 days"
    x[COL["days_inactive"]] = 0.5
    assert not model.assess(x).at_risk


def test_reasons_are_only_what_pushes_risk_up() -> None:
    model = fit(synthetic())
    x = model.mean.copy()  # the average learner: every term is 0
    assert model.assess(x).reasons == ()


def test_too_little_history_or_one_label_gets_the_prior() -> None:
    small = synthetic(n_learners=(MIN_ROWS - 1) // 4, per=4)
    assert not fit(small).trained
    same = synthetic()
    one_label = LabelledRows(same.x, np.zeros_like(same.y), same.learners)
    assert not fit(one_label).trained


def test_prior_flags_a_failure_streak_while_active() -> None:
    prior = prior_model()
    calm = np.array([0.2, 25, 0, 0.8, 0.03, 1.2, 1, 0.0, 3.5])
    streak = calm.copy()
    streak[COL["failure_streak"]] = 8
    streak[COL["accuracy_10"]] = 0.2
    assert not prior.assess(calm).at_risk
    got = prior.assess(streak)
    assert got.at_risk
    assert {r.code for r in got.reasons} >= {ReasonCode.FAILURE_STREAK, ReasonCode.LOW_ACCURACY}


def test_a_vector_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(AnalyticsError, match=r"shape \(3,\)"):
        prior_model().assess(np.zeros(3))
