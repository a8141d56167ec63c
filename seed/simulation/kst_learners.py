"""Learners whose knowledge is a state of the knowledge space of the prerequisite DAG.

Knowledge Space Theory (Doignon & Falmagne, "Spaces for the assessment of knowledge",
International Journal of Man-Machine Studies 23, 1985; "Knowledge Spaces", Springer 1999): a
learner's knowledge state is a down-set of the prerequisite DAG (every prerequisite of a
known skill is known). Here, used to *make* learners:

* **Prior.** A random down-set: its size is uniform on ``[0, prior_share * n_skills]`` and it
  is grown from the roots by adding a uniformly drawn skill of the outer fringe.
* **Answer.** The basic local independence model (Falmagne & Doignon, "A class of stochastic
  procedures for the assessment of knowledge", British Journal of Mathematical and Statistical
  Psychology 41, 1988): an item is answered right with ``1 - beta_q`` (careless error) when its
  skills are in the state, else ``eta_q`` (lucky guess), per skill ``q`` of the item's main
  skill; ``beta_q ~ U(0, careless_max)``, ``eta_q ~ U(0, lucky_max)``.
* **Learning** only on the outer fringe (the learning-space axioms: a state grows one skill at
  a time, and only by a skill whose prerequisites are all known): practising ``q`` with
  ``q`` in the outer fringe adds it with probability ``lam * r`` (``r ~ LogNormal(0, rate_sd)``
  per learner, capped at 1); practising a skill outside the fringe teaches nothing.
* **No forgetting.**

Shapes: one learner holds ``(n_skills,)`` booleans that always form a down-set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from graph.models import Item, PrerequisiteGraph
from seed.simulation.populations import Curriculum
from seed.simulator import SimulationError


@dataclass(frozen=True, slots=True)
class KSTParams:
    """Constants of the KST population (defaults in brackets).

    Args:
        prior_share: the prior state's size is uniform up to this share of the skills [0.5].
        careless_max: upper end of the per-skill careless-error rate beta [0.15].
        lucky_max: upper end of the per-skill lucky-guess rate eta [0.3].
        lam: median P(learning a fringe skill) per practice [0.35].
        rate_sd: log-scale spread of the per-learner rate [0.5].
    """

    prior_share: float = 0.5
    careless_max: float = 0.15
    lucky_max: float = 0.3
    lam: float = 0.35
    rate_sd: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.prior_share <= 1.0:
            raise SimulationError(f"KSTParams.prior_share={self.prior_share!r}: in [0, 1]")
        rates = (self.careless_max, self.lucky_max)
        if not (min(rates) >= 0 and sum(rates) < 1):
            raise SimulationError(f"KSTParams: need careless_max + lucky_max < 1, got {self}")
        if not 0.0 < self.lam <= 1.0:
            raise SimulationError(f"KSTParams.lam={self.lam!r}: in (0, 1]")

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass(slots=True)
class KSTLearner:
    learner_id: str
    rate: float
    state: np.ndarray
    rng: np.random.Generator = field(repr=False)


class KSTPopulation:
    """KST learners over a curriculum; per-skill rates are drawn once from ``rng``."""

    def __init__(
        self,
        graph: PrerequisiteGraph,
        items: Sequence[Item],
        rng: np.random.Generator,
        params: KSTParams | None = None,
    ) -> None:
        self.params = p = params or KSTParams()
        self.c = Curriculum(graph, items)
        n = self.c.n_skills
        self._rng = rng
        self.careless = rng.uniform(0.0, p.careless_max, size=n)
        self.lucky = rng.uniform(0.0, p.lucky_max, size=n)
        # the knowledge space is that of the DAG's edges, whatever their strength
        self.prereqs = [sorted({q for q, _ in ps}) for ps in self.c.parents]

    def new_learner(self, learner_id: str) -> KSTLearner:
        p = self.params
        rng = self._rng.spawn(1)[0]
        rate = float(np.exp(rng.normal(0.0, p.rate_sd)))
        size = int(rng.integers(0, int(p.prior_share * self.c.n_skills) + 1))
        state = np.zeros(self.c.n_skills, dtype=bool)
        state[list(self.c.random_downset(rng, size))] = True
        return KSTLearner(learner_id, rate, state, rng)

    def answer(self, learner: KSTLearner, item_id: str, t: float) -> bool:
        skills, _, _ = self.c.item(item_id)
        if not skills:
            raise SimulationError(f"item {item_id!r} assesses no skill")
        main = skills[0]
        known = bool(learner.state[list(skills)].all())
        p = 1.0 - float(self.careless[main]) if known else float(self.lucky[main])
        correct = bool(learner.rng.random() < p)
        before = learner.state.copy()  # the fringe of the state before this practice
        for k in skills:
            fringe = not before[k] and all(before[q] for q in self.prereqs[k])
            if fringe and learner.rng.random() < min(1.0, self.params.lam * learner.rate):
                learner.state[k] = True
        return correct

    def mastered(self, learner: KSTLearner, skill_id: str, t: float) -> bool:
        return bool(learner.state[self.c.skill(skill_id)])
