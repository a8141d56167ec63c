"""Metrics for P(correct) predictions: AUC, accuracy, RMSE, calibration.

Each answer is one prediction: a multi-skill answer is scored once, not once per skill.
AUC, accuracy and RMSE come from scikit-learn; expected calibration error is written out here
because its binning choices matter and must be documented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score, roc_curve

from tracing.base import TracingError


def _check(y_true: np.ndarray, y_prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_prob, dtype=float).ravel()
    if y.shape != p.shape:
        raise TracingError(f"{y.size} labels but {p.size} predictions; pass one per answer")
    if y.size == 0:
        raise TracingError("no predictions to score; the test set has no answers")
    if not np.all(np.isfinite(p)) or p.min() < 0.0 or p.max() > 1.0:
        raise TracingError("predictions must be probabilities in [0, 1] (found "
                           f"min={np.nanmin(p):.4g}, max={np.nanmax(p):.4g}, or NaN)")
    if not np.isin(y, (0.0, 1.0)).all():
        raise TracingError("labels must be 0 or 1")
    return y, p


def expected_calibration_error(
    y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = 10
) -> float:
    """Expected calibration error with ``n_bins`` equal-width bins on [0, 1].

    .. math::  \\mathrm{ECE} = \\sum_b \\frac{n_b}{N} \\, | \\bar y_b - \\bar p_b |

    where bin ``b`` holds the predictions in ``[b/B, (b+1)/B)`` (the last bin also takes 1.0),
    ``n_b`` is its size, ``\\bar y_b`` its fraction correct and ``\\bar p_b`` its mean
    prediction. Empty bins contribute nothing. 0 is perfectly calibrated; the worst is 1.
    """
    if n_bins < 1:
        raise TracingError(f"n_bins={n_bins} must be at least 1")
    y, p = _check(y_true, y_prob)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)
    return float(np.abs(sum_y - sum_p).sum() / y.size)


@dataclass(frozen=True)
class ReliabilityCurve:
    """Per non-empty bin: mean prediction, fraction correct and count (equal-width bins)."""

    mean_predicted: np.ndarray
    fraction_correct: np.ndarray
    counts: np.ndarray


def reliability_curve(
    y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = 10
) -> ReliabilityCurve:
    """The points of a reliability (calibration) diagram, same bins as the ECE."""
    y, p = _check(y_true, y_prob)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    keep = counts > 0
    sum_y = np.bincount(bins, weights=y, minlength=n_bins)[keep]
    sum_p = np.bincount(bins, weights=p, minlength=n_bins)[keep]
    return ReliabilityCurve(sum_p / counts[keep], sum_y / counts[keep], counts[keep])


def auc(y_true: np.ndarray, y_prob: np.ndarray) -> float:
    """Area under the ROC curve; NaN when the labels hold one class only."""
    y, p = _check(y_true, y_prob)
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, p))


def roc_points(y_true: np.ndarray, y_prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) of the ROC curve."""
    y, p = _check(y_true, y_prob)
    fpr, tpr, _ = roc_curve(y, p)
    return fpr, tpr


def score(y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = 10) -> dict[str, float]:
    """``auc``, ``accuracy`` (threshold 0.5), ``rmse`` and ``ece`` of one prediction set."""
    y, p = _check(y_true, y_prob)
    return {
        "auc": auc(y, p),
        "accuracy": float(accuracy_score(y, p >= 0.5)),
        "rmse": float(np.sqrt(mean_squared_error(y, p))),
        "ece": expected_calibration_error(y, p, n_bins),
    }
