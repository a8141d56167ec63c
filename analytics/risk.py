"""At-risk prediction with reasons: logistic regression on :mod:`analytics.features`.

The model is ``P(at risk) = sigmoid(b + sum_j w_j z_j)`` with ``z_j = (x_j - mu_j) / s_j``
the standardised features (L2-penalised logistic regression, scikit-learn's ``lbfgs``). A
logistic model is chosen over boosted trees because each prediction splits exactly into
per-feature terms ``w_j z_j`` (log-odds against the training mean), which are the reasons a
teacher reads; ``benchmarks/bench_risk.py`` compares both on simulated cohorts (the AUCs are in
``docs/benchmarks.md``).

A store with too little history to train on (fewer than :data:`MIN_ROWS` labelled cutoffs, or
only one label) gets :func:`prior_model`: hand-set weights in the features' own units (documented
there), marked ``trained=False``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from analytics.errors import AnalyticsError
from analytics.features import FEATURES, INACTIVE_CAP, LabelledRows
from analytics.timeline import FloatArray

MIN_ROWS = 40
DEFAULT_THRESHOLD = 0.5
#: a feature's term must add at least this much log-odds to be given as a reason
REASON_MIN_LOGODDS = 0.15


class ReasonCode(StrEnum):
    INACTIVE = "INACTIVE"
    RECENT_ACTIVITY = "RECENT_ACTIVITY"
    FAILURE_STREAK = "FAILURE_STREAK"
    LOW_ACCURACY = "LOW_ACCURACY"
    MASTERY_SLOPE = "MASTERY_SLOPE"
    RECENT_GAIN = "RECENT_GAIN"
    STUCK_ON_SKILL = "STUCK_ON_SKILL"
    HINT_USE = "HINT_USE"
    ANSWER_COUNT = "ANSWER_COUNT"


_CODES = dict(zip(FEATURES, ReasonCode, strict=True))


def _message(name: str, x: float, above: bool) -> str:
    """What feature ``name`` at value ``x`` says; ``above``: higher than the training mean
    (the features whose direction varies by store say which way they push)."""
    if name == "days_inactive":
        return f"no answers for {x:.0f} days" if x >= 1 else "no answers since earlier today"
    if name == "answers_7d":
        if x == 0:
            return "no answers in the last 7 days"
        return f"{x:.0f} answers in the last 7 days ({'more' if above else 'fewer'} than most)"
    if name == "failure_streak":
        return f"{x:.0f} wrong answers in a row"
    if name == "accuracy_10":
        return f"{100 * x:.0f}% correct over the last answers"
    if name == "mastery_slope":
        verb = "fell" if x < 0 else "rose only slowly" if not above else "rose"
        return f"mastery {verb} over the last answers ({x:+.3f} skills per answer)"
    if name == "gain_7d":
        return f"{x:+.2f} skills' mastery gained in the last 7 days"
    if name == "stuck_tries":
        return f"{x:.0f} answers in a row on one skill without mastering it"
    if name == "hint_rate_10":
        than = "more" if above else "fewer"
        return f"hints on {100 * x:.0f}% of the last answers ({than} than most)"
    n = float(np.expm1(x))
    if above:
        return f"{n:.0f} answers so far without finishing (more than most)"
    return f"only {n:.0f} answers so far"


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    feature: str
    value: float
    weight: float
    message: str


@dataclass(frozen=True, slots=True)
class Risk:
    probability: float
    at_risk: bool
    reasons: tuple[Reason, ...]
    features: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskModel:
    """Standardised logistic regression: ``mean``/``scale``/``coef`` over :data:`FEATURES`.

    Args:
        trained: False for :func:`prior_model`.
        rows, positives: the training rows and how many were labelled at risk.
        validation_auc: AUC on learners held out of the fit (None when not measured).
    """

    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    intercept: float
    threshold: float = DEFAULT_THRESHOLD
    trained: bool = True
    rows: int = 0
    positives: int = 0
    validation_auc: float | None = None

    def terms(self, x: FloatArray) -> FloatArray:
        """Per-feature log-odds terms ``w_j z_j``; shape ``(F,)`` or ``(R, F)``."""
        return np.asarray(self.coef * (x - self.mean) / self.scale)

    def probability(self, x: FloatArray) -> FloatArray:
        z = self.intercept + np.sum(self.terms(x), axis=-1)
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def assess(self, x: FloatArray, max_reasons: int = 3) -> Risk:
        """Risk of one feature vector with the features that push it up most as reasons."""
        if x.shape != (len(FEATURES),):
            raise AnalyticsError(f"feature vector of shape {x.shape}; expected ({len(FEATURES)},)")
        p = float(self.probability(x))
        terms = self.terms(x)
        order = np.argsort(-terms, kind="stable")
        reasons = tuple(
            Reason(
                _CODES[FEATURES[j]],
                FEATURES[j],
                float(x[j]),
                float(terms[j]),
                _message(FEATURES[j], float(x[j]), bool(x[j] > self.mean[j])),
            )
            for j in order[:max_reasons].tolist()
            if terms[j] >= REASON_MIN_LOGODDS
        )
        return Risk(p, p >= self.threshold, reasons, dict(zip(FEATURES, x.tolist(), strict=True)))


def prior_model() -> RiskModel:
    """Hand-set weights for a store too new to train on, per unit of each feature: +0.25 per
    day inactive, -0.05 per answer this week, +0.4 per wrong answer in a row, -2 per unit of
    recent accuracy (centred at 0.7), -20 per skill per answer of mastery slope, -0.5 per
    skill gained this week, +0.15 per try stuck on a skill, +1 per unit of hint rate."""
    mean = np.array([2.0, 20.0, 1.0, 0.7, 0.02, 1.0, 3.0, 0.1, 3.0])
    coef = np.array([0.25, -0.05, 0.4, -2.0, -20.0, -0.5, 0.15, 1.0, 0.0])
    return RiskModel(mean, np.ones(len(FEATURES)), coef, -0.5, trained=False)


def fit(rows: LabelledRows, *, seed: int = 0, c: float = 1.0, holdout: float = 0.2) -> RiskModel:
    """Fit on ``rows``; ``holdout`` of the learners are held out first to measure AUC, then
    the model is refitted on everyone. Too few rows or one label: :func:`prior_model`."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    y = rows.y
    if len(rows) < MIN_ROWS or y.min() == y.max():
        return prior_model()

    def one(x: FloatArray, yy: np.ndarray) -> tuple[FloatArray, FloatArray, FloatArray, float]:
        mean = x.mean(axis=0)
        scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
        lr = LogisticRegression(C=c, max_iter=1000).fit((x - mean) / scale, yy)
        return mean, scale, lr.coef_[0], float(lr.intercept_[0])

    learners = np.array(sorted(set(rows.learners)))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(learners, size=max(1, int(holdout * len(learners))), replace=False))
    test = np.array([lid in held for lid in rows.learners])
    auc = None
    if 0 < test.sum() < len(rows) and y[~test].min() != y[~test].max() and len(set(y[test])) == 2:
        m, s, w, b = one(rows.x[~test], y[~test])
        model = RiskModel(m, s, w, b)
        auc = float(roc_auc_score(y[test], model.probability(rows.x[test])))
    mean, scale, coef, intercept = one(rows.x, y)
    return RiskModel(
        mean, scale, coef, intercept, rows=len(rows), positives=int(y.sum()), validation_auc=auc
    )


__all__ = ["INACTIVE_CAP", "Reason", "ReasonCode", "Risk", "RiskModel", "fit", "prior_model"]
