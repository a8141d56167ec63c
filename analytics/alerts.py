"""Alerts for teachers, derived from a learner's timeline: at risk, or stuck on a skill.

* ``AT_RISK``: the risk model (:mod:`analytics.risk`) puts the learner at or above its
  threshold. ``since`` is the earliest of the latest answers (at most :data:`LOOKBACK`) from
  which every assessment after an answer stayed at risk.
* ``STUCK``: the latest :data:`STUCK_FAILS` or more answers are all wrong and on one skill
  (their main skill), which is below the mastery threshold. ``since`` is the first answer of
  that run. ``root_cause`` is the deepest unmastered prerequisite the learner is ready for
  (``recommender.gaps``: the first root cause of the skill's gap other than the skill itself;
  the skill itself when its prerequisites are all mastered).

This module derives; it stores nothing. What holds now is :func:`current`, and a change (a
condition that holds after new answers and did not before them) is what the subscription
publishes (:func:`raised`). The API keeps each alert it derives in the store, by
:func:`alert_key` (:func:`to_stored` / :func:`from_stored`), so the list survives a restart
and says when each was raised and whether a teacher acknowledged it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np

from analytics.features import features_at
from analytics.risk import Reason, ReasonCode, RiskModel
from analytics.timeline import Timeline
from graph.models import StoredAlert
from recommender.gaps import learner_gaps
from recommender.index import CurriculumIndex

STUCK_FAILS = 4
LOOKBACK = 50


class AlertKind(StrEnum):
    AT_RISK = "AT_RISK"
    STUCK = "STUCK"


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    learner_id: str
    since: datetime
    message: str
    skill_id: str | None = None
    root_cause_id: str | None = None
    risk: float | None = None
    reasons: tuple[Reason, ...] = ()

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.kind.value, self.learner_id, self.skill_id)


def alert_key(a: Alert) -> str:
    """The stored key of the condition: ``KIND:learner[:skill]``."""
    return ":".join(x for x in a.key if x)


def to_stored(a: Alert, raised_at: datetime) -> StoredAlert:
    reasons: tuple[dict[str, Any], ...] = tuple(asdict(r) for r in a.reasons)
    return StoredAlert(
        key=alert_key(a), kind=a.kind.value, learner_id=a.learner_id, since=a.since,
        message=a.message, raised_at=raised_at, skill_id=a.skill_id,
        root_cause_id=a.root_cause_id, risk=a.risk, reasons=reasons,
    )


def from_stored(s: StoredAlert) -> Alert:
    reasons = tuple(
        Reason(ReasonCode(r["code"]), str(r["feature"]), float(r["value"]), float(r["weight"]),
               str(r["message"]))
        for r in s.reasons
    )
    return Alert(AlertKind(s.kind), s.learner_id, s.since, s.message, s.skill_id,
                 s.root_cause_id, s.risk, reasons)


def _root_cause(
    tl: Timeline, index: CurriculumIndex, skill: str, m: np.ndarray, threshold: float
) -> str:
    mastery = index.mastery_array(dict(zip(tl.skill_ids, m.tolist(), strict=True)))
    if skill not in index.skill_pos:
        return skill
    for gap in learner_gaps(index, mastery, [skill], threshold):
        if gap.skill == skill:
            others = [r for r in gap.root_causes if r != skill]
            return others[0] if others else skill
    return skill


def stuck(
    tl: Timeline, index: CurriculumIndex, n: int | None = None, threshold: float = 0.8
) -> Alert | None:
    """The STUCK alert after the first ``n`` answers (all by default), or None."""
    n = len(tl.answers) if n is None else n
    if n < STUCK_FAILS:
        return None
    last = tl.answers[n - 1]
    if last.skill < 0 or tl.mastery[n - 1][last.skill] >= threshold:
        return None
    run = 0
    for a in reversed(tl.answers[:n]):
        if a.correct or a.skill != last.skill:
            break
        run += 1
    if run < STUCK_FAILS:
        return None
    skill = tl.skill_ids[last.skill]
    root = _root_cause(tl, index, skill, tl.mastery[n - 1], threshold)
    why = f"; its prerequisite {root!r} is not mastered yet" if root != skill else ""
    return Alert(
        AlertKind.STUCK,
        tl.learner_id,
        tl.answers[n - run].at,
        f"{run} wrong answers in a row on {skill!r}{why}",
        skill,
        root,
    )


def at_risk(
    tl: Timeline, model: RiskModel, as_of: datetime, threshold: float = 0.8
) -> Alert | None:
    """The AT_RISK alert at ``as_of``, or None."""
    risk = model.assess(features_at(tl, as_of, threshold))
    if not risk.at_risk:
        return None
    n = tl.index_at(as_of)
    since = as_of
    for k in range(n - 1, max(-1, n - 1 - LOOKBACK), -1):
        moment = tl.answers[k].at
        if not model.assess(features_at(tl, moment, threshold)).at_risk:
            break
        since = moment
    reasons = "; ".join(r.message for r in risk.reasons) or "several small signs together"
    return Alert(
        AlertKind.AT_RISK,
        tl.learner_id,
        since,
        f"at risk ({100 * risk.probability:.0f}%): {reasons}",
        risk=risk.probability,
        reasons=risk.reasons,
    )


def current(
    tl: Timeline, model: RiskModel, index: CurriculumIndex, as_of: datetime, threshold: float = 0.8
) -> list[Alert]:
    """Every alert that holds for the learner at ``as_of``."""
    out = [
        a
        for a in (
            at_risk(tl, model, as_of, threshold),
            stuck(tl, index, tl.index_at(as_of), threshold),
        )
        if a is not None
    ]
    return out


def raised(
    tl: Timeline, model: RiskModel, index: CurriculumIndex, before: int, threshold: float = 0.8
) -> list[Alert]:
    """Alerts that hold after the whole timeline and did not after its first ``before``
    answers (the answers just recorded are the rest)."""
    if before >= len(tl.answers):
        return []
    now = tl.answers[-1].at
    after = current(tl, model, index, now, threshold)
    if before == 0:
        return after
    then = tl.answers[before - 1].at
    old = {a.key for a in current(tl.prefix(before), model, index, then, threshold)}
    return [a for a in after if a.key not in old]
