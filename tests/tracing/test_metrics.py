"""Hand-computed values for ``tracing.metrics``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracing.base import TracingError
from tracing.metrics import expected_calibration_error, reliability_curve, score


def test_ece_hand_computed() -> None:
    # bins of width 0.5: [0.2, 0.4] -> mean p 0.3, 1 of 2 correct -> |0.5-0.3| = 0.2, n=2
    #                     [0.6, 1.0, 0.9] -> mean p 0.8333, 2 of 3 correct -> 0.1667, n=3
    y = np.array([1, 0, 1, 1, 0])
    p = np.array([0.2, 0.4, 0.6, 1.0, 0.9])
    expected = (2 / 5) * 0.2 + (3 / 5) * abs(2 / 3 - 2.5 / 3)
    assert expected_calibration_error(y, p, n_bins=2) == pytest.approx(expected)


def test_ece_perfect_and_worst() -> None:
    assert expected_calibration_error(np.array([0, 1]), np.array([0.0, 1.0])) == 0.0
    assert expected_calibration_error(np.array([1, 0]), np.array([0.0, 1.0])) == 1.0
    # one bin: ECE is |mean label - mean prediction|
    y, p = np.array([1, 1, 0, 0]), np.array([0.9, 0.1, 0.3, 0.5])
    assert expected_calibration_error(y, p, n_bins=1) == pytest.approx(abs(0.5 - 0.45))


def test_reliability_curve_skips_empty_bins() -> None:
    c = reliability_curve(np.array([1, 0, 1]), np.array([0.05, 0.15, 0.95]), n_bins=10)
    assert c.counts.tolist() == [1, 1, 1]
    assert c.mean_predicted.tolist() == pytest.approx([0.05, 0.15, 0.95])
    assert c.fraction_correct.tolist() == [1.0, 0.0, 1.0]


def test_score_known_values() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.6, 0.4, 0.9])
    s = score(y, p)
    assert s["auc"] == pytest.approx(0.75)  # 3 of 4 positive/negative pairs ordered right
    assert s["accuracy"] == pytest.approx(0.5)
    assert s["rmse"] == pytest.approx(np.sqrt((0.01 + 0.36 + 0.36 + 0.01) / 4))


def test_bad_inputs_raise() -> None:
    with pytest.raises(TracingError, match="2 labels but 1 predictions"):
        score(np.array([0, 1]), np.array([0.5]))
    with pytest.raises(TracingError, match="probabilities"):
        score(np.array([0, 1]), np.array([0.5, 1.5]))
    with pytest.raises(TracingError, match="no predictions"):
        score(np.array([]), np.array([]))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=1, max_size=200),
       st.integers(1, 20))
def test_ece_bounded_and_matches_curve(rows: list[tuple[int, float]], n_bins: int) -> None:
    y = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    ece = expected_calibration_error(y, p, n_bins)
    assert 0.0 <= ece <= 1.0 + 1e-12
    c = reliability_curve(y, p, n_bins)
    assert c.counts.sum() == len(rows)
    again = float((c.counts * np.abs(c.fraction_correct - c.mean_predicted)).sum() / len(rows))
    assert ece == pytest.approx(again)
