"""What the simulator knows, kept so tracers and recommenders can be scored against it.

File format: JSON Lines (``seed-truth.jsonl`` by default), one object per line, each with a
``kind``; times are seconds since ``epoch`` (an ISO-8601 UTC timestamp in the meta line), so
an attempt's stored timestamp is ``epoch + t``:

* ``{"kind": "meta", "version": 1, "seed": 7, "epoch": "2026-01-05T08:00:00+00:00",
  "params": {...SimParams...}, "skill_ids": [...]}`` (first line);
* ``{"kind": "learner", "learner_id": ..., "ability": ..., "learn_rate": ..., "memory": ...,
  "created_at": ..., "prior_mastered": [...], "intervals": {"skill": [[start, end], ...]}}``:
  the skill is truly mastered at ``t`` iff ``start <= t < end`` for one of its intervals (the
  last ``end`` is the drawn forgetting time and may lie after the last attempt);
* ``{"kind": "attempt", "attempt_id": ..., "learner_id": ..., "item_id": ..., "t": ...,
  "p_correct": ..., "correct": true}``: the true probability of every simulated answer (the
  ceiling for a tracer's predictions);
* ``{"kind": "study", "learner_id": ..., "item_id": ..., "t": ...}``: lessons, videos and
  readings studied (not stored as attempts, yet part of what the learner did).

Read it with :func:`read_truth`, or with pandas: ``pd.read_json(path, lines=True)`` then filter
on ``kind``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from seed.simulator import SeedError, SimLearner, SimParams

FORMAT_VERSION = 1


class TruthFileError(SeedError):
    """A truth file is missing, malformed or of another format version."""


@dataclass(frozen=True, slots=True)
class LearnerTruth:
    """One simulated learner's traits and exact mastery intervals."""

    learner_id: str
    ability: float
    learn_rate: float
    memory: float
    created_at: float
    prior_mastered: tuple[str, ...]
    intervals: dict[str, tuple[tuple[float, float], ...]]

    def mastered(self, skill_id: str, t: float) -> bool:
        return any(start <= t < end for start, end in self.intervals.get(skill_id, ()))

    @classmethod
    def from_learner(cls, learner: SimLearner) -> LearnerTruth:
        return cls(
            learner_id=learner.learner_id,
            ability=learner.ability,
            learn_rate=learner.learn_rate,
            memory=learner.memory,
            created_at=learner.created_at,
            prior_mastered=learner.prior_mastered,
            intervals={
                s: tuple((float(a), float(b)) for a, b in spans)
                for s, spans in sorted(learner.intervals.items())
            },
        )


@dataclass(frozen=True, slots=True)
class AttemptTruth:
    """One simulated answer: when, the true P(correct) at that moment, and the outcome."""

    attempt_id: str
    learner_id: str
    item_id: str
    t: float
    p_correct: float
    correct: bool


@dataclass(frozen=True, slots=True)
class StudyTruth:
    learner_id: str
    item_id: str
    t: float


@dataclass(frozen=True)
class Truth:
    """Everything the simulation knows. ``learners`` is keyed by learner id."""

    seed: int
    epoch: datetime
    params: SimParams
    skill_ids: tuple[str, ...]
    learners: dict[str, LearnerTruth]
    attempts: tuple[AttemptTruth, ...]
    studies: tuple[StudyTruth, ...] = ()

    def seconds(self, when: datetime | float) -> float:
        """Simulation time of ``when`` (a datetime, or already seconds since the epoch)."""
        if isinstance(when, datetime):
            return (when - self.epoch).total_seconds()
        return float(when)

    def mastered(self, learner_id: str, skill_id: str, when: datetime | float) -> bool:
        """Whether the learner truly had the skill mastered at ``when``."""
        learner = self.learners.get(learner_id)
        if learner is None:
            raise TruthFileError(f"learner {learner_id!r} is not in the truth file")
        return learner.mastered(skill_id, self.seconds(when))

    def mastery_at(self, learner_id: str, when: datetime | float) -> dict[str, bool]:
        """Skill id -> true mastery of every skill at ``when``."""
        t = self.seconds(when)
        learner = self.learners[learner_id]
        return {s: learner.mastered(s, t) for s in self.skill_ids}

    def p_correct_by_attempt(self) -> dict[str, float]:
        """Attempt id -> the true P(correct) of that answer."""
        return {a.attempt_id: a.p_correct for a in self.attempts}


def _lines(truth: Truth) -> Iterable[dict[str, Any]]:
    yield {
        "kind": "meta",
        "version": FORMAT_VERSION,
        "seed": truth.seed,
        "epoch": truth.epoch.isoformat(),
        "params": truth.params.to_dict(),
        "skill_ids": list(truth.skill_ids),
    }
    for lt in truth.learners.values():
        yield {
            "kind": "learner",
            "learner_id": lt.learner_id,
            "ability": lt.ability,
            "learn_rate": lt.learn_rate,
            "memory": lt.memory,
            "created_at": lt.created_at,
            "prior_mastered": list(lt.prior_mastered),
            "intervals": {s: [list(span) for span in spans] for s, spans in lt.intervals.items()},
        }
    for a in truth.attempts:
        yield {"kind": "attempt"} | {f.name: getattr(a, f.name) for f in fields(a)}
    for s in truth.studies:
        yield {"kind": "study", "learner_id": s.learner_id, "item_id": s.item_id, "t": s.t}


def write_truth(truth: Truth, path: Path) -> None:
    """Write ``truth`` to ``path`` atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for line in _lines(truth):
                fh.write(json.dumps(line, separators=(",", ":")))
                fh.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; this is shareable data
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_truth(path: Path) -> Truth:
    """Read a truth file written by :func:`write_truth`."""
    path = Path(path)
    if not path.exists():
        raise TruthFileError(f"truth file {path} not found; write one with `learngraph seed`")
    meta: dict[str, Any] | None = None
    learners: dict[str, LearnerTruth] = {}
    attempts: list[AttemptTruth] = []
    studies: list[StudyTruth] = []
    with path.open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                row = json.loads(raw)
                kind = row.pop("kind")
                if kind == "meta":
                    meta = row
                elif kind == "learner":
                    learners[row["learner_id"]] = LearnerTruth(
                        learner_id=row["learner_id"],
                        ability=row["ability"],
                        learn_rate=row["learn_rate"],
                        memory=row["memory"],
                        created_at=row["created_at"],
                        prior_mastered=tuple(row["prior_mastered"]),
                        intervals={
                            s: tuple((a, b) for a, b in spans)
                            for s, spans in row["intervals"].items()
                        },
                    )
                elif kind == "attempt":
                    attempts.append(AttemptTruth(**row))
                elif kind == "study":
                    studies.append(StudyTruth(**row))
                else:
                    raise ValueError(f"unknown kind {kind!r}")
            except (ValueError, KeyError, TypeError) as exc:
                raise TruthFileError(f"{path} line {n}: malformed truth record ({exc})") from None
    if meta is None or meta.get("version") != FORMAT_VERSION:
        raise TruthFileError(
            f"{path}: no meta line of format version {FORMAT_VERSION}; regenerate the file "
            "with `learngraph seed`"
        )
    return Truth(
        seed=int(meta["seed"]),
        epoch=datetime.fromisoformat(meta["epoch"]),
        params=SimParams(**meta["params"]),
        skill_ids=tuple(meta["skill_ids"]),
        learners=learners,
        attempts=tuple(attempts),
        studies=tuple(studies),
    )


def truth_of(
    seed: int,
    epoch: datetime,
    params: SimParams,
    skill_ids: Sequence[str],
    learners: Sequence[SimLearner],
    attempts: Sequence[AttemptTruth],
    studies: Sequence[StudyTruth] = (),
) -> Truth:
    """Assemble a :class:`Truth` from a finished simulation."""
    return Truth(
        seed=seed,
        epoch=epoch,
        params=params,
        skill_ids=tuple(skill_ids),
        learners={x.learner_id: LearnerTruth.from_learner(x) for x in learners},
        attempts=tuple(attempts),
        studies=tuple(studies),
    )
