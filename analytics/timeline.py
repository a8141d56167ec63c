"""Mastery history, derived from the attempts: a learner's answers replayed through a tracer.

Why derived rather than stored: the attempts are already the store's record of what happened,
with the learners' own timestamps (an offline device syncing late included), while a stored
history would carry the wall-clock time of each save: seeding, a late sync or a model switch
would write whole histories at one instant, and a switch of the serving model would leave the
old model's curve beside the new one's. Replaying gives one consistent curve under the serving
model, for any past time, with no migration and no write on the answer path. The cost is a
replay per read: O(answers x model update), milliseconds per learner for BKT; callers bound
the answers read (:data:`MAX_ANSWERS`) and cache timelines (``analytics.service``), and the API
replays with BKT population defaults while a neural model serves (its one-answer update is
~100x BKT's; ``recommender.engine.MasteryUpdater.history_service``).

A :class:`Timeline` holds, after each answer ``k`` (time order, ties by attempt id), the
tracer's P(mastered) of every skill: ``mastery[k]`` is the state once answer ``k`` is in.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from graph.models import Attempt

#: The most answers of one learner a history replays (the latest ones).
MAX_ANSWERS = 2000

FloatArray = npt.NDArray[np.float64]


class Replayer(Protocol):
    """What a timeline needs of the serving tracer (``tracing.serving.MasteryService``)."""

    tracer: Any
    vocab: Any

    def interaction(self, attempt: Attempt) -> Any | None: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """One replayed answer: when, which item, right or not, and its main skill (the first
    skill of its Q-matrix row in the model; -1 when it has none)."""

    at: datetime
    attempt_id: str
    item_id: str
    correct: bool
    skill: int
    hints: int = 0


@dataclass(frozen=True, slots=True)
class Timeline:
    """A learner's answers in time order and the mastery after each.

    Shapes: ``answers`` N, ``mastery`` (N, S) with S = ``len(skill_ids)``; ``prior`` (S,) is
    the mastery before any answer."""

    learner_id: str
    skill_ids: tuple[str, ...]
    answers: tuple[Answer, ...]
    mastery: FloatArray
    prior: FloatArray
    times: tuple[datetime, ...] = ()

    def __post_init__(self) -> None:
        if len(self.times) != len(self.answers):
            object.__setattr__(self, "times", tuple(a.at for a in self.answers))

    def index_at(self, moment: datetime) -> int:
        """How many answers were given at or before ``moment``."""
        return bisect_right(self.times, moment)

    def mastery_at(self, moment: datetime) -> FloatArray:
        """P(mastered) of every skill as of ``moment`` (the prior before the first answer)."""
        n = self.index_at(moment)
        return self.prior if n == 0 else self.mastery[n - 1]

    def prefix(self, n: int) -> Timeline:
        """The timeline of the first ``n`` answers only."""
        return Timeline(
            self.learner_id, self.skill_ids, self.answers[:n], self.mastery[:n], self.prior
        )


def replay(learner_id: str, attempts: Sequence[Attempt], model: Replayer) -> Timeline:
    """Replay ``attempts`` (any order; the latest :data:`MAX_ANSWERS` are kept) through
    ``model``'s tracer from its initial state. Attempts on items the model cannot place are
    left out."""
    ordered = sorted(attempts, key=lambda a: (a.timestamp, a.attempt_id))[-MAX_ANSWERS:]
    tracer = model.tracer
    state = tracer.init_state()
    prior = np.asarray(tracer.mastery(state), dtype=np.float64)
    placed: list[Any] = []
    answers: list[Answer] = []
    for a in ordered:
        x = model.interaction(a)
        if x is None:
            continue
        placed.append(x)
        skills: tuple[int, ...] = tuple(getattr(x, "skills", ()))
        main = int(skills[0]) if skills else -1
        answers.append(
            Answer(a.timestamp, a.attempt_id, a.item_id, bool(a.correct), main, a.hints_used)
        )
    n_skills = prior.shape[0]
    trajectory = getattr(tracer, "trajectory", None)
    if trajectory is not None:  # a tracer with a whole-history replay (BKT): same values
        mastery = np.asarray(trajectory(placed), dtype=np.float64).reshape(-1, n_skills)
    else:
        rows: list[FloatArray] = []
        for x in placed:
            state = tracer.update(state, x)
            rows.append(np.asarray(tracer.mastery(state), dtype=np.float64))
        mastery = np.vstack(rows) if rows else np.zeros((0, n_skills))
    return Timeline(learner_id, tuple(model.vocab.skill_ids), tuple(answers), mastery, prior)


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """A learner's (or a group's mean) progress at the end of a period."""

    at: datetime
    mastered: float
    expected_mastered: float
    answers: int


def progress(
    timeline: Timeline, ends: Sequence[datetime], threshold: float = 0.8
) -> list[ProgressPoint]:
    """At each of ``ends``: skills at or above ``threshold``, the sum of P(mastered) (the
    expected number of skills mastered) and the answers given so far. One gather of the rows
    at the ``ends`` and two row-wise reductions, not two reductions per end."""
    if not ends:
        return []
    n = np.array([timeline.index_at(end) for end in ends], dtype=np.int64)
    if timeline.mastery.shape[0]:
        rows = timeline.mastery[np.maximum(n - 1, 0)]
        rows[n == 0] = timeline.prior
    else:
        rows = np.broadcast_to(timeline.prior, (len(ends), timeline.prior.shape[0]))
    mastered = (rows >= threshold).sum(axis=1).tolist()
    expected = rows.sum(axis=1).tolist()
    return [
        ProgressPoint(end, float(mastered[k]), float(expected[k]), int(n[k]))
        for k, end in enumerate(ends)
    ]


def skill_series(timeline: Timeline, skill: int) -> list[tuple[datetime, float]]:
    """``(time, P(mastered))`` after each answer that changed skill ``skill``'s estimate."""
    out: list[tuple[datetime, float]] = []
    last = float(timeline.prior[skill])
    for a, row in zip(timeline.answers, timeline.mastery, strict=True):
        p = float(row[skill])
        if abs(p - last) > 1e-9:
            out.append((a.at, p))
            last = p
    return out
