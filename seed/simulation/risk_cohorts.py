"""Simulated cohorts for the at-risk model: timestamped answers with engagement that varies.

The populations of :mod:`seed.simulation.populations` say how a learner answers and learns;
they do not say when a learner practises, or stops. This module adds that, the same way for
every population, so the at-risk model (``analytics``) is evaluated on learners whose answers
come from several generative models:

* each learner practises the goals' prerequisite closure with the ``frontier`` policy (a
  skill is passed after ``streak`` right answers in a row; the first ready one is practised);
* sessions of ``items_min..items_max`` answers (uniform), ``gap`` days apart (exponential,
  each learner's own mean drawn from ``gap_days``), at most ``max_sessions``;
* after each session the learner stops for good with probability
  ``base_stop + frustration * max(0, wrong share of the session - 0.3)``, ``base_stop`` drawn
  per learner from ``stop_range``: struggling learners drop out more often (the assumption
  the model is meant to detect, stated here rather than hidden in the data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from graph.models import Attempt
from seed.simulation.policies import FrontierPolicy, Setting
from seed.simulation.populations import make_population

EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Engagement:
    items_min: int = 5
    items_max: int = 18
    gap_days: tuple[float, float] = (0.5, 5.0)
    stop_range: tuple[float, float] = (0.01, 0.12)
    frustration: float = 0.6
    max_sessions: int = 30
    streak: int = 3


def cohort(
    setting: Setting,
    population: str,
    *,
    learners: int,
    seed: int,
    engagement: Engagement | None = None,
) -> list[Attempt]:
    """Every answer of ``learners`` simulated learners of ``population``; learner ids are
    ``{population}-{n:04d}``, deterministic for ``seed``."""
    e = engagement or Engagement()
    pop = make_population(population, setting.graph, setting.items, np.random.default_rng(seed))
    rng = np.random.default_rng([seed, 1])
    seconds = {it.id: float(it.expected_seconds) for it in setting.items}
    out: list[Attempt] = []
    for n in range(learners):
        lid = f"{population}-{n:04d}"
        learner = pop.new_learner(lid)
        policy = FrontierPolicy(setting, e.streak)
        gap = float(rng.uniform(*e.gap_days))
        base_stop = float(rng.uniform(*e.stop_range))
        t = float(rng.uniform(0, 7 * DAY_S))
        k = 0
        for _ in range(e.max_sessions):
            wrong = 0
            size = int(rng.integers(e.items_min, e.items_max + 1))
            for _ in range(size):
                item = policy.choose(t)
                correct = pop.answer(learner, item, t)
                policy.observe(item, correct, t)
                k += 1
                wrong += not correct
                out.append(
                    Attempt(
                        f"{lid}-{k:05d}",
                        lid,
                        item,
                        1.0 if correct else 0.0,
                        EPOCH + timedelta(seconds=round(t, 3)),
                        hints_used=int(not correct and rng.random() < 0.25),
                    )
                )
                t += seconds[item] * float(rng.uniform(0.7, 1.5)) + float(rng.uniform(3, 30))
            stop = base_stop + e.frustration * max(0.0, wrong / size - 0.3)
            if rng.random() < stop:
                break
            t += float(rng.exponential(gap * DAY_S)) + 3600.0
    return out
