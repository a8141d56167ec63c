"""Learners drawn from an additive-factors (logistic IRT) model with forgetting.

The Additive Factors Model (Cen, Koedinger & Junker, "Learning Factors Analysis: a general
method for cognitive model evaluation and improvement", ITS 2006), a logistic IRT model whose
skill terms grow with practice, used to *make* learners. There is no hidden binary state:
knowledge is graded, and a skill counts as mastered when the model's own P(correct) on an item
of average difficulty reaches ``mastery_p``. Two additions, both documented here:

* **Forgetting.** Practice decays: the count of recent practice of skill ``k`` is multiplied
  by ``exp(-Δ / tau)`` over a gap ``Δ`` (seconds), in the spirit of the decay of practice in
  ACT-R's activation (Pavlik & Anderson, "Practice and forgetting effects on vocabulary
  memory: an activation-based model of the spacing effect", Cognitive Science 29, 2005).
  Knowledge held before the simulation (the prior) is consolidated and does not decay.
* **Prerequisite gating.** A practice of ``k`` counts ``1`` when every strict prerequisite
  (strength >= 0.5) of ``k`` is mastered, else ``unready_credit``.

With learner ability ``θ_i ~ N(0, theta_sd)``, skill easiness ``β_k ~ N(beta_mean, beta_sd)``,
skill learning rate ``γ_k = gamma * LogNormal(0, gamma_sd)``, practice ``n_ik(t)`` (prior plus
decayed recent practice) and item difficulty offset ``d_j = difficulty_scale * (difficulty_j -
0.5)``, an item with skills ``Q_j`` (weights ``w``) is answered right with

    P = sigmoid(θ_i + Σ_k w_k (β_k + γ_k n_ik(t)) / Σ_k w_k - d_j).

Prior knowledge: a random down-set of the prerequisite DAG of Poisson(``prior_mean``) skills,
each with the (consolidated) practice that puts it at ``prior_p``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from graph.models import Item, PrerequisiteGraph
from seed.simulation.populations import Curriculum
from seed.simulator import DAY, SimulationError


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class AFMParams:
    """Constants of the AFM population (defaults in brackets).

    Args:
        theta_sd: spread of learner ability [0.7].
        beta_mean, beta_sd: skill easiness (logit) [-2.0, 0.5]: about 0.12 correct unpractised.
        gamma: median learning rate per practice (logit) [0.45].
        gamma_sd: log-scale spread of the per-skill learning rate [0.3].
        difficulty_scale: logit offset per unit of item difficulty [2.0].
        tau_days: time constant of the decay of recent practice, in days [3.0].
        unready_credit: what a practice counts with a strict prerequisite not mastered [0.2].
        mastery_p: P(correct) at average difficulty that counts as mastered [0.8].
        prior_mean: mean (Poisson) number of skills known before the simulation [10].
        prior_p: P(correct) of a skill known before the simulation [0.9].
    """

    theta_sd: float = 0.7
    beta_mean: float = -2.0
    beta_sd: float = 0.5
    gamma: float = 0.45
    gamma_sd: float = 0.3
    difficulty_scale: float = 2.0
    tau_days: float = 3.0
    unready_credit: float = 0.2
    mastery_p: float = 0.8
    prior_mean: float = 10.0
    prior_p: float = 0.9

    def __post_init__(self) -> None:
        if self.gamma <= 0 or self.tau_days <= 0:
            raise SimulationError(f"AFMParams: gamma and tau_days must be > 0, got {self}")
        if not (0.5 < self.mastery_p < 1.0 and self.mastery_p <= self.prior_p < 1.0):
            raise SimulationError(f"AFMParams: need 0.5 < mastery_p <= prior_p < 1, got {self}")
        if not 0.0 <= self.unready_credit <= 1.0:
            raise SimulationError(f"AFMParams.unready_credit={self.unready_credit!r}: in [0, 1]")

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass(slots=True)
class AFMLearner:
    learner_id: str
    theta: float
    base: np.ndarray  # consolidated prior practice per skill
    recent: np.ndarray  # decaying practice per skill, as of ``last[k]``
    last: np.ndarray  # time of the last practice per skill
    rng: np.random.Generator = field(repr=False)


class AFMPopulation:
    """AFM learners over a curriculum; per-skill parameters are drawn once from ``rng``."""

    def __init__(
        self,
        graph: PrerequisiteGraph,
        items: Sequence[Item],
        rng: np.random.Generator,
        params: AFMParams | None = None,
    ) -> None:
        self.params = p = params or AFMParams()
        self.c = Curriculum(graph, items)
        n = self.c.n_skills
        self._rng = rng
        self.beta = rng.normal(p.beta_mean, p.beta_sd, size=n)
        self.gamma = p.gamma * np.exp(rng.normal(0.0, p.gamma_sd, size=n))
        self.strict = [[q for q, w in ps if w >= 0.5] for ps in self.c.parents]
        self._tau = p.tau_days * DAY
        self._need = _logit(p.mastery_p)

    def new_learner(self, learner_id: str) -> AFMLearner:
        p = self.params
        rng = self._rng.spawn(1)[0]
        theta = float(rng.normal(0.0, p.theta_sd))
        n = self.c.n_skills
        base = np.zeros(n)
        for k in self.c.random_downset(rng, int(rng.poisson(p.prior_mean))):
            base[k] = max(0.0, (_logit(p.prior_p) - theta - self.beta[k]) / self.gamma[k])
        return AFMLearner(learner_id, theta, base, np.zeros(n), np.zeros(n), rng)

    def _practice(self, learner: AFMLearner, k: int, t: float) -> float:
        decay = math.exp(-max(0.0, t - float(learner.last[k])) / self._tau)
        return float(learner.base[k] + learner.recent[k] * decay)

    def _logit_of(self, learner: AFMLearner, k: int, t: float) -> float:
        return (
            learner.theta
            + float(self.beta[k])
            + float(self.gamma[k]) * self._practice(learner, k, t)
        )

    def _ready(self, learner: AFMLearner, k: int, t: float) -> bool:
        return all(self._logit_of(learner, q, t) >= self._need for q in self.strict[k])

    def answer(self, learner: AFMLearner, item_id: str, t: float) -> bool:
        skills, weights, difficulty = self.c.item(item_id)
        total = sum(weights) or 1.0
        z = sum(w * self._logit_of(learner, k, t) for k, w in zip(skills, weights, strict=True))
        z = z / total - self.params.difficulty_scale * (difficulty - 0.5)
        correct = bool(learner.rng.random() < 1.0 / (1.0 + math.exp(-z)))
        ready = [
            all(self._logit_of(learner, q, t) >= self._need for q in self.strict[k]) for k in skills
        ]
        for k, ok in zip(skills, ready, strict=True):
            decay = math.exp(-max(0.0, t - float(learner.last[k])) / self._tau)
            learner.recent[k] = learner.recent[k] * decay + (
                1.0 if ok else self.params.unready_credit
            )
            learner.last[k] = t
        return correct

    def mastered(self, learner: AFMLearner, skill_id: str, t: float) -> bool:
        return self._logit_of(learner, self.c.skill(skill_id), t) >= self._need
