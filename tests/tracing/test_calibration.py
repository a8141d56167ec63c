"""Post-hoc calibration (``tracing.calibration``) and the calibrated Elo tracer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracing.base import Interaction, TracingError, Vocabulary
from tracing.calibration import Calibrator, fit_calibrator
from tracing.elo import EloTracer
from tracing.metrics import auc, expected_calibration_error


def miscalibrated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from sigmoid(z); predictions sigmoid(3 z + 1): overconfident and high."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(float)
    return y, 1.0 / (1.0 + np.exp(-(3.0 * z + 1.0)))


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_fitted_on_one_half_lowers_ece_on_the_other(method: str) -> None:
    y_fit, p_fit = miscalibrated(4000, seed=1)
    y, p = miscalibrated(4000, seed=2)
    cal = fit_calibrator(y_fit, p_fit, method)
    before = expected_calibration_error(y, p)
    after = expected_calibration_error(y, cal.apply(p))
    assert before > 0.1
    assert after < 0.03
    assert auc(y, cal.apply(p)) == pytest.approx(auc(y, p), abs=0.005)


def test_platt_recovers_the_distortion_and_keeps_the_order() -> None:
    y, p = miscalibrated(20000, seed=3)
    cal = fit_calibrator(y, p, "platt")
    a, b = cal.params
    assert a == pytest.approx(1 / 3, abs=0.03) and b == pytest.approx(-1 / 3, abs=0.05)
    q = cal.apply(np.sort(p))
    assert np.all(np.diff(q) >= 0)
    assert auc(y, cal.apply(p)) == auc(y, p)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_isotonic_is_monotone_and_in_range(values: list[float]) -> None:
    y, p = miscalibrated(500, seed=4)
    cal = fit_calibrator(y, p, "isotonic")
    q = cal.apply(np.sort(np.array(values)))
    assert np.all((q >= 0) & (q <= 1)) and np.all(np.diff(q) >= -1e-12)
    assert Calibrator.from_dict(cal.to_dict()) == cal


def test_bad_calibration_input_is_a_clear_error() -> None:
    with pytest.raises(TracingError, match="calibration='beta' is unknown"):
        fit_calibrator(np.array([0, 1]), np.array([0.2, 0.8]), "beta")
    with pytest.raises(TracingError, match="both right and wrong"):
        fit_calibrator(np.array([1, 1]), np.array([0.2, 0.8]))
    with pytest.raises(TracingError, match="calibration='beta'"):
        EloTracer(calibration="beta")


def toy_data(n_learners: int, seed: int) -> tuple[list[list[Interaction]], Vocabulary]:
    """Learners of ability ~ N(0, 1) on 20 items of two skills, Rasch answers."""
    rng = np.random.default_rng(seed)
    vocab = Vocabulary(
        tuple(str(i) for i in range(20)), ("a", "b"), tuple((i % 2,) for i in range(20))
    )
    diff = np.linspace(-1.5, 1.5, 20)
    seqs = []
    for _ in range(n_learners):
        theta = rng.normal()
        seq = []
        for t in range(15):
            i = int(rng.integers(0, 20))
            c = int(rng.random() < 1 / (1 + np.exp(-(theta - diff[i]))))
            seq.append(Interaction(i, (i % 2,), c, float(t)))
        seqs.append(seq)
    return seqs, vocab


def test_calibrated_elo_maps_outputs_but_updates_from_raw_predictions(tmp_path: Path) -> None:
    seqs, vocab = toy_data(200, seed=5)
    raw = EloTracer(calibration=None).fit(seqs, vocab)
    cal = EloTracer(calibration="platt").fit(seqs, vocab, seed=1)
    assert cal.calibrator is not None and raw.calibrator is None
    assert cal.fit_info["n_valid_learners"] == 20
    assert 0.0 <= cal.fit_info["best_valid_auc"] <= 1.0
    assert "valid_ece_before" in cal.fit_info and "valid_ece_after" in cal.fit_info
    # the Elo parameters are fitted on all the training learners either way
    np.testing.assert_allclose(cal.difficulty, raw.difficulty)
    test = seqs[:5]
    for r, c in zip(raw.predict_sequences(test), cal.predict_sequences(test), strict=True):
        np.testing.assert_allclose(c, cal.calibrator.apply(r))
    # online: the state moves as uncalibrated Elo's does; the outputs are mapped
    s_raw, s_cal = raw.init_state(), cal.init_state()
    for x in test[0]:
        s_raw, s_cal = raw.update(s_raw, x), cal.update(s_cal, x)
    np.testing.assert_allclose(s_cal, s_raw)
    np.testing.assert_allclose(
        cal.predict_state(s_cal, [0, 1]), cal.calibrator.apply(raw.predict_state(s_raw, [0, 1]))
    )
    np.testing.assert_allclose(cal.mastery(s_cal), cal.calibrator.apply(raw.mastery(s_raw)))
    cal.save(tmp_path / "elo.model")
    back = EloTracer.load(tmp_path / "elo.model")
    assert back.calibrator == cal.calibrator
    np.testing.assert_allclose(back.predict_state(s_cal, [3]), cal.predict_state(s_cal, [3]))
