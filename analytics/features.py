"""At-risk features and labels, computed from a learner's :class:`~analytics.timeline.Timeline`
at a cutoff time, so that training (many cutoffs of the stored histories) and serving (the
cutoff is now, or the class's latest answer) compute exactly the same numbers.

Features at cutoff ``T`` (only answers at or before ``T`` count):

=================  ===================================================================
``days_inactive``  days since the last answer (:data:`INACTIVE_CAP` with none, and at most)
``answers_7d``     answers in the 7 days up to ``T``
``failure_streak`` wrong answers in a row at the end (at most 20)
``accuracy_10``    share correct of the last 10 answers (0.5 with none)
``mastery_slope``  change of the expected number of mastered skills (the sum of
                   P(mastered)) per answer, over the last 20 answers
``gain_7d``        change of the expected number of mastered skills over the 7 days
``stuck_tries``    answers in a row on the latest answer's skill while it stays below the
                   mastery threshold (0 once it is mastered; at most 30)
``hint_rate_10``   share of the last 10 answers that used a hint
``log_answers``    log(1 + answers so far)
=================  ===================================================================

The label at ``T`` for horizon ``H`` (default 7 days): 1 (at risk) when the expected number of
mastered skills grows by less than ``min_gain`` (0.25) over ``(T, T + H]``: the learner stops,
or practises without progress. It is observable from the store alone, so a model is trained on
any store's own history; no simulator truth is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from analytics.timeline import FloatArray, Timeline

FEATURES: tuple[str, ...] = (
    "days_inactive",
    "answers_7d",
    "failure_streak",
    "accuracy_10",
    "mastery_slope",
    "gain_7d",
    "stuck_tries",
    "hint_rate_10",
    "log_answers",
)
INACTIVE_CAP = 60.0
WEEK = timedelta(days=7)
DAY_S = 86400.0


def _expected(tl: Timeline, n: int) -> float:
    return float(np.sum(tl.prior if n == 0 else tl.mastery[n - 1]))


def features_at(tl: Timeline, moment: datetime, threshold: float = 0.8) -> FloatArray:
    """The :data:`FEATURES` vector of ``tl`` at ``moment``."""
    n = tl.index_at(moment)
    answers = tl.answers[:n]
    if n == 0:
        return np.array([INACTIVE_CAP, 0, 0, 0.5, 0, 0, 0, 0, 0], dtype=np.float64)
    inactive = min(INACTIVE_CAP, max(0.0, (moment - answers[-1].at).total_seconds() / DAY_S))
    week_ago = tl.index_at(moment - WEEK)
    streak = 0
    for a in reversed(answers):
        if a.correct or streak >= 20:
            break
        streak += 1
    last10 = answers[-10:]
    accuracy = float(np.mean([a.correct for a in last10]))
    hints = float(np.mean([a.hints > 0 for a in last10]))
    k = min(20, n)
    slope = (_expected(tl, n) - _expected(tl, n - k)) / k
    gain = _expected(tl, n) - _expected(tl, week_ago)
    skill = answers[-1].skill
    stuck = 0
    if skill >= 0 and tl.mastery[n - 1][skill] < threshold:
        for a in reversed(answers):
            if a.skill != skill or stuck >= 30:
                break
            stuck += 1
    return np.array(
        [inactive, n - week_ago, streak, accuracy, slope, gain, stuck, hints, np.log1p(n)],
        dtype=np.float64,
    )


def label_at(
    tl: Timeline, moment: datetime, horizon: timedelta = WEEK, min_gain: float = 0.25
) -> int:
    """1 when the expected number of mastered skills grows by less than ``min_gain`` over
    ``(moment, moment + horizon]``, else 0."""
    gain = _expected(tl, tl.index_at(moment + horizon)) - _expected(tl, tl.index_at(moment))
    return int(gain < min_gain)


@dataclass(frozen=True, slots=True)
class LabelledRows:
    """Training rows: ``x`` (R, F), ``y`` (R,), ``learners`` (R,) for splitting by learner."""

    x: FloatArray
    y: np.ndarray
    learners: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.learners)


def cutoffs(
    tl: Timeline, data_end: datetime, every: timedelta = WEEK, horizon: timedelta = WEEK
) -> list[datetime]:
    """Weekly cutoffs from a learner's first answer on, each with its whole horizon observed
    before ``data_end`` (the store's latest answer), up to one horizon past the learner's
    last answer (a learner gone for months is not asked about week after week)."""
    if not tl.answers:
        return []
    out = []
    t = tl.answers[0].at + timedelta(hours=1)
    last = tl.answers[-1].at
    while t + horizon <= data_end and t <= last + horizon:
        out.append(t)
        t += every
    return out


def labelled_rows(
    timelines: Sequence[Timeline],
    data_end: datetime,
    *,
    horizon: timedelta = WEEK,
    threshold: float = 0.8,
    done_share: float = 0.9,
) -> LabelledRows:
    """Features and labels at every learner's weekly cutoffs; cutoffs where the learner
    already has ``done_share`` of the skills mastered are left out (nothing left to learn
    is not a risk)."""
    xs: list[FloatArray] = []
    ys: list[int] = []
    who: list[str] = []
    for tl in timelines:
        n_skills = len(tl.skill_ids)
        for t in cutoffs(tl, data_end, horizon=horizon):
            if float(np.sum(tl.mastery_at(t) >= threshold)) >= done_share * n_skills:
                continue
            xs.append(features_at(tl, t, threshold))
            ys.append(label_at(tl, t, horizon))
            who.append(tl.learner_id)
    x = np.vstack(xs) if xs else np.zeros((0, len(FEATURES)))
    return LabelledRows(x, np.asarray(ys, dtype=np.int64), tuple(who))
