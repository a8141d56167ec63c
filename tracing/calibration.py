r"""Post-hoc calibration of P(correct) predictions, fitted on held-out learners.

A tracer can rank answers well and still be miscalibrated (its 0.8 is right 70% of the time).
A monotone map fitted on a validation fold (learners held out of the fit, never the test set)
fixes the probabilities without retraining:

- ``platt`` (J. Platt, "Probabilistic Outputs for Support Vector Machines", 1999): logistic
  regression on the model's logit,

  .. math::  \hat p = \sigma\big(a \,\mathrm{logit}(p) + b\big)

  Two numbers; strictly increasing for :math:`a > 0`, so AUC is unchanged.
- ``isotonic`` (B. Zadrozny, C. Elkan, KDD 2002): the non-decreasing step function that best
  fits the labels (pool-adjacent-violators), interpolated linearly between its steps. More
  flexible; its flat steps can tie predictions and so move AUC slightly.

Both are fitted by scikit-learn (``LogisticRegression``, ``IsotonicRegression``) and kept as
plain numbers, so applying one is a few float operations per prediction (the online path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tracing.base import TracingError

METHODS = ("platt", "isotonic")
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), _EPS, 1.0 - _EPS)
    return np.asarray(np.log(q / (1.0 - q)))


@dataclass(frozen=True)
class Calibrator:
    """A fitted monotone map of probabilities. ``platt``: ``params = (a, b)``; ``isotonic``:
    ``x`` and ``y``, the step function's knots (``x`` increasing)."""

    method: str
    params: tuple[float, ...] = ()
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def apply(self, p: np.ndarray) -> np.ndarray:
        """The calibrated probabilities of ``p`` (any shape)."""
        arr = np.asarray(p, dtype=float)
        if self.method == "platt":
            a, b = self.params
            return np.asarray(1.0 / (1.0 + np.exp(-(a * _logit(arr) + b))))
        return np.asarray(np.interp(arr, self.x, self.y))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "params": list(self.params),
            "x": list(self.x),
            "y": list(self.y),
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Calibrator:
        try:
            cal = Calibrator(
                str(d["method"]),
                tuple(float(v) for v in d.get("params", ())),
                tuple(float(v) for v in d.get("x", ())),
                tuple(float(v) for v in d.get("y", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TracingError(
                f"saved calibration is malformed ({exc!r}); re-save the model"
            ) from exc
        if cal.method not in METHODS:
            raise TracingError(f"saved calibration method {cal.method!r} is unknown")
        return cal


def fit_calibrator(y_true: np.ndarray, y_prob: np.ndarray, method: str = "platt") -> Calibrator:
    """Fit ``method`` (``platt`` or ``isotonic``) on validation labels and predictions."""
    if method not in METHODS:
        raise TracingError(
            f"calibration={method!r} is unknown; use one of {', '.join(METHODS)} (or None for none)"
        )
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_prob, dtype=float).ravel()
    if y.shape != p.shape or y.size == 0:
        raise TracingError(
            f"calibration needs one prediction per label (got {p.size} "
            f"predictions, {y.size} labels)"
        )
    if y.min() == y.max():
        raise TracingError(
            "calibration needs both right and wrong answers in the validation "
            "fold; use more validation learners"
        )
    if method == "platt":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000)
        lr.fit(_logit(p).reshape(-1, 1), y.astype(int))
        return Calibrator("platt", (float(lr.coef_[0, 0]), float(lr.intercept_[0])))
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(p, y)
    return Calibrator(
        "isotonic",
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
    )
