"""Learners drawn from a BKT hidden Markov model per skill, with prerequisite gating.

The generative model of Bayesian Knowledge Tracing (Corbett & Anderson, "Knowledge tracing:
Modeling the acquisition of procedural knowledge", User Modeling and User-Adapted Interaction
4, 1995), used here to *make* learners rather than to trace them. Per learner and skill ``k``
a hidden binary state ``L_k``:

* **Prior.** ``L_k(0) ~ Bernoulli(p_init_k)``, independently per skill (so a learner may know a
  skill without its prerequisites, which BKT allows and the other populations do not), with
  ``p_init_k ~ Beta(init_a, init_b)`` per skill.
* **Answer.** An item ``j`` with skills ``Q_j`` is answered right with
  ``P = 1 - s_j`` if every skill of ``Q_j`` is known, else ``g_j``; ``g_j ~ U(guess_low,
  guess_high)`` and ``s_j ~ U(slip_low, slip_high)`` per item (item-level guess and slip, as
  in Pardos & Heffernan's KT-IDEM, UMAP 2011).
* **Learning.** After each practice, each unknown skill of the item becomes known with
  ``P(T) = min(1, learn_k * r * gate^u)``: ``learn_k ~ Beta(learn_a, learn_b)`` per skill,
  ``r ~ LogNormal(0, rate_sd)`` per learner, and ``u`` the number of the skill's unknown
  prerequisites (edges of strength >= 0.5): a missing prerequisite divides the chance by
  ``1 / gate``.
* **No forgetting** (``P(F) = 0``, standard BKT).

Shapes: one learner holds ``(n_skills,)`` booleans; items are looked up by id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from graph.models import Item, PrerequisiteGraph
from seed.simulation.populations import Curriculum
from seed.simulator import SimulationError


@dataclass(frozen=True, slots=True)
class BKTParams:
    """Constants of the BKT population (defaults in brackets).

    Args:
        init_a, init_b: Beta prior of each skill's P(L0) [1, 8: mean 0.11].
        learn_a, learn_b: Beta prior of each skill's P(T) [3, 9: mean 0.25].
        rate_sd: log-scale spread of the per-learner learning multiplier [0.4].
        gate: multiplier on P(T) per unknown prerequisite [0.15].
        guess_low, guess_high: range of the per-item guess [0.1, 0.3].
        slip_low, slip_high: range of the per-item slip [0.05, 0.2].
    """

    init_a: float = 1.0
    init_b: float = 8.0
    learn_a: float = 3.0
    learn_b: float = 9.0
    rate_sd: float = 0.4
    gate: float = 0.15
    guess_low: float = 0.1
    guess_high: float = 0.3
    slip_low: float = 0.05
    slip_high: float = 0.2

    def __post_init__(self) -> None:
        if min(self.init_a, self.init_b, self.learn_a, self.learn_b) <= 0:
            raise SimulationError(f"BKTParams: Beta parameters must be > 0, got {self}")
        if not 0.0 <= self.gate <= 1.0:
            raise SimulationError(f"BKTParams.gate={self.gate!r}: must be in [0, 1]")
        ok = 0 <= self.guess_low <= self.guess_high and 0 <= self.slip_low <= self.slip_high
        if not (ok and self.guess_high + self.slip_high < 1):
            raise SimulationError(f"BKTParams: need low <= high and guess + slip < 1, got {self}")

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass(slots=True)
class BKTLearner:
    learner_id: str
    rate: float
    known: np.ndarray
    rng: np.random.Generator = field(repr=False)


class BKTPopulation:
    """BKT learners over a curriculum; per-skill and per-item parameters are drawn once from
    ``rng`` at construction, each learner from a child generator."""

    def __init__(
        self,
        graph: PrerequisiteGraph,
        items: Sequence[Item],
        rng: np.random.Generator,
        params: BKTParams | None = None,
    ) -> None:
        self.params = p = params or BKTParams()
        self.c = Curriculum(graph, items)
        n = self.c.n_skills
        self._rng = rng
        self.p_init = rng.beta(p.init_a, p.init_b, size=n)
        self.learn = rng.beta(p.learn_a, p.learn_b, size=n)
        ids = sorted(self.c.items)
        self.guess = dict(zip(ids, rng.uniform(p.guess_low, p.guess_high, len(ids)), strict=True))
        self.slip = dict(zip(ids, rng.uniform(p.slip_low, p.slip_high, len(ids)), strict=True))
        self.strict = [[q for q, w in ps if w >= 0.5] for ps in self.c.parents]

    def new_learner(self, learner_id: str) -> BKTLearner:
        rng = self._rng.spawn(1)[0]
        rate = float(np.exp(rng.normal(0.0, self.params.rate_sd)))
        known = rng.random(self.c.n_skills) < self.p_init
        return BKTLearner(learner_id, rate, known, rng)

    def answer(self, learner: BKTLearner, item_id: str, t: float) -> bool:
        skills, _, _ = self.c.item(item_id)
        all_known = bool(learner.known[list(skills)].all()) if skills else False
        p = 1.0 - self.slip[item_id] if all_known else self.guess[item_id]
        correct = bool(learner.rng.random() < p)
        before = learner.known.copy()  # gates read the state before this practice
        for k in skills:
            if before[k]:
                continue
            unmet = sum(1 for q in self.strict[k] if not before[q])
            chance = min(1.0, float(self.learn[k]) * learner.rate * self.params.gate**unmet)
            if learner.rng.random() < chance:
                learner.known[k] = True
        return correct

    def mastered(self, learner: BKTLearner, skill_id: str, t: float) -> bool:
        return bool(learner.known[self.c.skill(skill_id)])
