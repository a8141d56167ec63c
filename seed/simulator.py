"""A learner simulator with a known generative model.

The simulator is the ground truth that tracers and recommenders are scored against: it knows,
at every moment, which skills each simulated learner has mastered and the exact probability
of each answer. It is deterministic for a given ``numpy.random.Generator``, keeps no
module-level state, and each learner draws from a child generator spawned when the learner is
created, so one learner's history never shifts another's random stream.

The model (times ``t`` are seconds since the simulation's epoch; ``d`` is item difficulty):

* **State.** Each learner has a binary mastery state per skill. A mastered skill is held for a
  random time: when it is learned, or practised while held, a forgetting time is drawn as
  ``t + Exponential(S)`` with stability ``S`` (seconds). Mastery at time ``t`` is therefore an
  exact, queryable fact: ``true_mastery`` reads it without drawing anything.
* **Answering.** With ``m`` the weighted share of the item's skills mastered at ``t`` (its
  Q-matrix row), ``P(correct) = g(d') + (1 - s(d') - g(d')) * m`` where ``d' = clip(d - k *
  ability, 0, 1)``, ``g(d') = guess * (1 - e * (2d' - 1))`` and ``s(d') = slip * (1 + e *
  (2d' - 1))`` (``e = difficulty_effect``). For a one-skill item of difficulty 0.5 and a
  learner of ability 0 this is exactly ``1 - slip`` when mastered and ``guess`` otherwise.
* **Learning.** After each practice (an answer, or studying a lesson, video or reading), every
  unmastered skill ``s`` the item covers with weight ``w`` becomes mastered with probability
  ``min(1, rate * w * gate(s) * r)``: ``rate`` is the learner's learning rate (times
  ``study_effect`` for studying), ``r = relearn_factor`` if the skill was mastered before and
  forgotten (savings), else 1, and ``gate(s)`` is the product, over the prerequisites ``p ->
  s`` not mastered at ``t``, of ``1 - strength(p, s) * (1 - prereq_unmet_factor)``. A skill
  whose strict prerequisite is missing is thus learned ``1 / prereq_unmet_factor`` times less
  often.
* **Content variants** (off by default). ``item_effect[item_id]`` (a :class:`Simulator`
  argument; 1 for every item not named) multiplies ``rate`` in the learning probability of a
  practice of that item: ``min(1, rate * effect * w * gate(s) * r)``. Two items with the same
  skills and difficulty answer alike but can teach differently (a variant with effect 0.5
  teaches half as often as one with effect 1), which is what an A/B comparison of content
  has to find out from answers alone. The effect changes learning only, not answering or
  the reinforcement of skills already held.
* **Forgetting.** A learned skill starts with stability ``S = initial_stability_days * memory``
  (in seconds). Practising a held skill after a gap ``Δ`` since its last practice raises it to
  ``S * (1 + (stability_growth - 1) * min(1, Δ / S))`` (spaced practice helps, massed practice
  barely) and redraws the forgetting time from ``t``. Using a skill rehearses what it builds
  on: practising ``s`` also reinforces each held prerequisite ``p`` the item does not cover,
  with the growth term scaled by ``strength(p, s) * prereq_rehearsal``.
* **Learners** differ in ``ability ~ N(0, ability_sd)``, ``rate = learn_rate *
  LogNormal(0, learn_rate_sd)`` (capped at 1) and ``memory ~ LogNormal(0, memory_sd)``.

Times passed to ``answer`` / ``study`` must not go backwards for a learner.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from graph.models import Item, ItemKind, PrerequisiteGraph
from seed.errors import SeedError

__all__ = [
    "DAY",
    "Response",
    "SeedError",
    "SimLearner",
    "SimParams",
    "SimulationError",
    "Simulator",
]

DAY = 86_400.0


class SimulationError(SeedError):
    """A simulator call is invalid (unknown item, wrong item kind, time going backwards)."""


@dataclass(frozen=True, slots=True)
class SimParams:
    """Constants of the generative model (see the module docstring for the maths).

    Args:
        guess: P(correct) of an unmastered one-skill item at difficulty 0.5 (default 0.2).
        slip: P(wrong) of a mastered one-skill item at difficulty 0.5 (default 0.1).
        difficulty_effect: in [0, 1); how strongly difficulty scales guess down and slip up
            (0.5: at d=1 the guess halves and the slip grows by half).
        ability_shift: how much one unit of ability lowers the effective difficulty.
        ability_sd: standard deviation of learner ability (normal, mean 0).
        learn_rate: median P(learning a skill) from one practice with prerequisites met.
        learn_rate_sd: log-scale spread of the per-learner learning rate.
        study_effect: multiplier on the learning rate when studying a lesson/video/reading.
        prereq_unmet_factor: gate factor of a missing strict (strength 1) prerequisite.
        relearn_factor: multiplier on the learning rate for a skill learned and forgotten.
        initial_stability_days: mean holding time of a freshly learned skill, in days.
        stability_growth: stability multiplier for practice after a gap of at least ``S``.
        memory_sd: log-scale spread of the per-learner stability multiplier.
        prior_stability_days: mean holding time of skills known before the simulation starts.
        prereq_rehearsal: in [0, 1]; how much practising a skill also reinforces its held
            prerequisites (0: not at all, 1: as much as practising them).
        prior_mastered_mean: mean (Poisson) number of early skills a new learner already knows
            when ``new_learner`` is not told how many.
    """

    guess: float = 0.2
    slip: float = 0.1
    difficulty_effect: float = 0.5
    ability_shift: float = 0.15
    ability_sd: float = 1.0
    learn_rate: float = 0.3
    learn_rate_sd: float = 0.4
    study_effect: float = 1.5
    prereq_unmet_factor: float = 0.1
    relearn_factor: float = 2.0
    initial_stability_days: float = 60.0
    stability_growth: float = 2.0
    memory_sd: float = 0.3
    prior_stability_days: float = 720.0
    prereq_rehearsal: float = 0.5
    prior_mastered_mean: float = 8.0

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, rule: str) -> None:
            if not ok:
                raise SimulationError(f"SimParams.{name}={getattr(self, name)!r}: must be {rule}")

        need(0.0 <= self.guess < 1.0, "guess", "in [0, 1)")
        need(0.0 <= self.slip < 1.0, "slip", "in [0, 1)")
        need(self.guess + self.slip < 1.0, "guess", "below 1 - slip (else answers carry no signal)")
        need(0.0 <= self.difficulty_effect < 1.0, "difficulty_effect", "in [0, 1)")
        need(self.ability_sd >= 0.0, "ability_sd", ">= 0")
        need(0.0 < self.learn_rate <= 1.0, "learn_rate", "in (0, 1]")
        need(self.learn_rate_sd >= 0.0, "learn_rate_sd", ">= 0")
        need(self.study_effect > 0.0, "study_effect", "> 0")
        need(0.0 <= self.prereq_unmet_factor <= 1.0, "prereq_unmet_factor", "in [0, 1]")
        need(self.relearn_factor >= 1.0, "relearn_factor", ">= 1")
        need(self.initial_stability_days > 0.0, "initial_stability_days", "> 0")
        need(self.stability_growth >= 1.0, "stability_growth", ">= 1")
        need(self.memory_sd >= 0.0, "memory_sd", ">= 0")
        need(self.prior_stability_days > 0.0, "prior_stability_days", "> 0")
        need(0.0 <= self.prereq_rehearsal <= 1.0, "prereq_rehearsal", "in [0, 1]")
        need(self.prior_mastered_mean >= 0.0, "prior_mastered_mean", ">= 0")

    def to_dict(self) -> dict[str, float]:
        return {k: float(v) for k, v in asdict(self).items()}


@dataclass(slots=True)
class SimLearner:
    """One simulated learner: fixed traits plus the evolving true state.

    ``intervals[skill]`` lists ``[start, end)`` times (seconds) during which the skill is
    mastered; the last interval's ``end`` is the currently drawn forgetting time and may lie
    in the future. Owned and mutated by the :class:`Simulator` only.
    """

    learner_id: str
    ability: float
    learn_rate: float
    memory: float
    rng: np.random.Generator = field(repr=False)
    created_at: float = 0.0
    last_t: float = 0.0
    prior_mastered: tuple[str, ...] = ()
    intervals: dict[str, list[list[float]]] = field(default_factory=dict)
    stability: dict[str, float] = field(default_factory=dict)
    last_practice: dict[str, float] = field(default_factory=dict)
    practice_count: dict[str, int] = field(default_factory=dict)

    def mastered(self, skill_id: str, t: float) -> bool:
        """Whether ``skill_id`` is mastered at time ``t`` (exact; draws nothing)."""
        return any(start <= t < end for start, end in self.intervals.get(skill_id, ()))

    def traits(self) -> dict[str, Any]:
        return {
            "learner_id": self.learner_id,
            "ability": self.ability,
            "learn_rate": self.learn_rate,
            "memory": self.memory,
            "created_at": self.created_at,
            "prior_mastered": list(self.prior_mastered),
        }


@dataclass(frozen=True, slots=True)
class Response:
    """What one simulated answer produced: the answer, its true probability, what was learned."""

    correct: bool
    p_correct: float
    learned: tuple[str, ...]


class Simulator:
    """Simulates learners on a curriculum.

    Args:
        graph: the skills and prerequisite edges (edge strength gates learning).
        items: the content; exercises are answered, other kinds are studied.
        params: the model's constants.
        rng: the source of randomness; each new learner spawns a child generator from it.
        item_effect: item id -> teaching effect (a finite multiplier >= 0 on the learning
            probability of a practice of that item); items not named have effect 1. Default
            None: every item teaches alike, and the random streams are those without it.
    """

    def __init__(
        self,
        graph: PrerequisiteGraph,
        items: Sequence[Item],
        params: SimParams,
        rng: np.random.Generator,
        item_effect: Mapping[str, float] | None = None,
    ) -> None:
        self.params = params
        self._rng = rng
        self.skill_ids: tuple[str, ...] = tuple(s.id for s in graph.skills)
        known = set(self.skill_ids)
        if len(known) != len(self.skill_ids):
            raise SimulationError("graph has duplicate skill ids; make every skill id unique")
        self.parents: dict[str, list[tuple[str, float]]] = {s: [] for s in self.skill_ids}
        for e in graph.edges:
            if e.source not in known or e.target not in known:
                bad = e.source if e.source not in known else e.target
                raise SimulationError(f"edge {e.source} -> {e.target} names unknown skill {bad!r}")
            self.parents[e.target].append((e.source, float(e.strength)))
        self.items: dict[str, Item] = {}
        for it in items:
            for w in it.skills:
                if w.skill_id not in known:
                    raise SimulationError(
                        f"item {it.id!r} assesses unknown skill {w.skill_id!r}; "
                        "add the skill to the graph or fix the item"
                    )
            self.items[it.id] = it
        self.item_effect: dict[str, float] = {}
        for item_id, effect in (item_effect or {}).items():
            if item_id not in self.items:
                raise SimulationError(
                    f"item_effect names unknown item {item_id!r}; pass the item in items or "
                    "drop it from item_effect"
                )
            if not (math.isfinite(effect) and effect >= 0.0):
                raise SimulationError(
                    f"item_effect[{item_id!r}]={effect!r}: must be a finite number >= 0 "
                    "(1 = the default teaching effect)"
                )
            self.item_effect[item_id] = float(effect)
        self._init_stability = params.initial_stability_days * DAY
        self._order = {s: i for i, s in enumerate(self.skill_ids)}
        self._n_parents = {s: len({p for p, _ in self.parents[s]}) for s in self.skill_ids}
        self._children: dict[str, list[str]] = {s: [] for s in self.skill_ids}
        for s in self.skill_ids:
            for parent in sorted({p for p, _ in self.parents[s]}, key=self._order.__getitem__):
                self._children[parent].append(s)
        self._prior_stability = params.prior_stability_days * DAY

    # -- learners -------------------------------------------------------------------------
    def new_learner(
        self,
        learner_id: str,
        *,
        prior_mastered: int | None = None,
        known: Iterable[str] | None = None,
        ability: float | None = None,
        learn_rate: float | None = None,
        memory: float | None = None,
        t: float = 0.0,
    ) -> SimLearner:
        """A new learner who, at time ``t``, already knows ``prior_mastered`` early skills.

        The known skills form a prerequisite-closed set (each one's prerequisites are known
        too), grown from the roots by repeatedly adding a random skill whose prerequisites
        are all known. ``None`` draws the count from Poisson(``prior_mastered_mean``); traits
        left ``None`` are drawn from the population distribution. ``known`` instead names the
        skills known at ``t`` exactly (then ``prior_mastered`` must be None).
        """
        if known is not None and prior_mastered is not None:
            raise SimulationError("give new_learner either prior_mastered or known, not both")
        p = self.params
        rng = self._rng.spawn(1)[0]
        drawn_ability = float(rng.normal(0.0, p.ability_sd))
        drawn_rate = float(p.learn_rate * math.exp(rng.normal(0.0, p.learn_rate_sd)))
        drawn_memory = float(math.exp(rng.normal(0.0, p.memory_sd)))
        count = (
            int(rng.poisson(p.prior_mastered_mean)) if prior_mastered is None else prior_mastered
        )
        if count < 0:
            raise SimulationError(f"prior_mastered={count}: must be >= 0")
        learner = SimLearner(
            learner_id=learner_id,
            ability=drawn_ability if ability is None else float(ability),
            learn_rate=min(1.0, drawn_rate if learn_rate is None else float(learn_rate)),
            memory=drawn_memory if memory is None else float(memory),
            rng=rng,
            created_at=t,
            last_t=t,
        )
        if known is None:
            chosen = self._draw_downset(rng, count)
        else:
            chosen = list(dict.fromkeys(known))
            unknown = [s for s in chosen if s not in self.parents]
            if unknown:
                raise SimulationError(
                    f"new_learner known= names unknown skill(s) {unknown[:5]}; use graph ids"
                )
        learner.prior_mastered = tuple(chosen)
        for s in chosen:
            stability = self._prior_stability * learner.memory
            learner.stability[s] = stability
            learner.last_practice[s] = t
            learner.intervals[s] = [[t, t + float(rng.exponential(stability))]]
        return learner

    def _draw_downset(self, rng: np.random.Generator, count: int) -> list[str]:
        """A random prerequisite-closed set of ``count`` skills, grown from the roots."""
        unmet = dict(self._n_parents)
        children, order = self._children, self._order
        frontier = [s for s in self.skill_ids if unmet[s] == 0]
        known: list[str] = []
        while len(known) < count and frontier:
            pick = frontier.pop(int(rng.integers(len(frontier))))
            known.append(pick)
            for child in children[pick]:
                unmet[child] -= 1
                if unmet[child] == 0:
                    frontier.append(child)
            frontier.sort(key=order.__getitem__)
        return known

    # -- the true state ---------------------------------------------------------------------
    def true_mastery(self, learner: SimLearner, t: float) -> dict[str, bool]:
        """Skill id -> whether the learner truly has it mastered at time ``t`` (binary)."""
        return {s: learner.mastered(s, t) for s in self.skill_ids}

    def mastery_vector(self, learner: SimLearner, t: float) -> np.ndarray:
        """``true_mastery`` as a float array of 0/1 in ``self.skill_ids`` order."""
        return np.array([learner.mastered(s, t) for s in self.skill_ids], dtype=np.float64)

    def p_correct(self, learner: SimLearner, item_id: str, t: float) -> float:
        """The true P(correct) of ``learner`` answering ``item_id`` at ``t`` (draws nothing)."""
        item = self._item(item_id)
        return self._p_correct(learner, item, t)

    def _p_correct(self, learner: SimLearner, item: Item, t: float) -> float:
        p = self.params
        total = sum(w.weight for w in item.skills)
        share = (
            sum(w.weight for w in item.skills if learner.mastered(w.skill_id, t)) / total
            if total > 0
            else 0.0
        )
        d = min(1.0, max(0.0, item.difficulty - p.ability_shift * learner.ability))
        tilt = p.difficulty_effect * (2.0 * d - 1.0)
        guess = p.guess * (1.0 - tilt)
        slip = p.slip * (1.0 + tilt)
        return guess + (1.0 - slip - guess) * share

    def learn_probability(
        self,
        learner: SimLearner,
        skill_id: str,
        t: float,
        *,
        weight: float = 1.0,
        boost: float = 1.0,
        item_id: str | None = None,
    ) -> float:
        """P(an unmastered ``skill_id`` is learned at ``t`` from one practice covering it with
        ``weight``; ``boost`` is ``study_effect`` for studying, 1 for an exercise; ``item_id``
        applies that item's teaching effect, if it has one)."""
        raw = learner.learn_rate * boost * weight
        if item_id is not None and item_id in self.item_effect:
            raw *= self.item_effect[item_id]
        return min(1.0, raw * self._gate(learner, skill_id, t) * self._relearn(learner, skill_id))

    def _gate(self, learner: SimLearner, skill_id: str, t: float) -> float:
        unmet = 1.0 - self.params.prereq_unmet_factor
        gate = 1.0
        for parent, strength in self.parents[skill_id]:
            if not learner.mastered(parent, t):
                gate *= 1.0 - strength * unmet
        return gate

    def _relearn(self, learner: SimLearner, skill_id: str) -> float:
        return self.params.relearn_factor if learner.intervals.get(skill_id) else 1.0

    # -- practice ---------------------------------------------------------------------------
    def respond(self, learner: SimLearner, item_id: str, t: float) -> Response:
        """Answer exercise ``item_id`` at ``t``: draw the answer from the current state, then
        apply learning and reinforcement from this practice."""
        item = self._item(item_id)
        if item.kind != ItemKind.EXERCISE:
            raise SimulationError(
                f"item {item_id!r} is a {item.kind.value}, not an exercise: use study() for it"
            )
        self._advance(learner, t)
        p = self._p_correct(learner, item, t)
        correct = bool(learner.rng.random() < p)
        learned = self._practise(learner, item, t, 1.0)
        return Response(correct=correct, p_correct=p, learned=learned)

    def answer(self, learner: SimLearner, item_id: str, t: float) -> bool:
        """Draw the learner's answer to exercise ``item_id`` at ``t`` (True = correct) and
        apply learning from that practice. See :meth:`respond` for the probability too."""
        return self.respond(learner, item_id, t).correct

    def study(self, learner: SimLearner, item_id: str, t: float) -> tuple[str, ...]:
        """Study a lesson, video or reading at ``t`` (no answer); returns the skills learned."""
        item = self._item(item_id)
        if item.kind == ItemKind.EXERCISE:
            raise SimulationError(
                f"item {item_id!r} is an exercise: use answer() or respond() for it"
            )
        self._advance(learner, t)
        return self._practise(learner, item, t, self.params.study_effect)

    def _practise(self, learner: SimLearner, item: Item, t: float, boost: float) -> tuple[str, ...]:
        p = self.params
        # Decide every skill from the state before this practice, then apply, so that a skill
        # learned now does not open the gate of another skill of the same item.
        held = {w.skill_id: learner.mastered(w.skill_id, t) for w in item.skills}
        chances = {
            w.skill_id: self.learn_probability(
                learner, w.skill_id, t, weight=w.weight, boost=boost, item_id=item.id
            )
            for w in item.skills
            if not held[w.skill_id]
        }
        learned: list[str] = []
        for w in item.skills:
            s = w.skill_id
            if held[s]:
                self._reinforce(learner, s, t, 1.0)
            elif learner.rng.random() < chances[s]:
                stability = self._init_stability * learner.memory
                learner.stability[s] = stability
                end = t + float(learner.rng.exponential(stability))
                learner.intervals.setdefault(s, []).append([t, end])
                learned.append(s)
            learner.last_practice[s] = t
            learner.practice_count[s] = learner.practice_count.get(s, 0) + 1
        if p.prereq_rehearsal > 0.0:
            rehearsed: dict[str, float] = {}
            for w in item.skills:
                for parent, strength in self.parents[w.skill_id]:
                    if parent not in held:
                        rehearsed[parent] = max(strength, rehearsed.get(parent, 0.0))
            for parent, strength in rehearsed.items():
                if learner.mastered(parent, t):
                    self._reinforce(learner, parent, t, strength * p.prereq_rehearsal)
                    learner.last_practice[parent] = t
        return tuple(learned)

    def _reinforce(self, learner: SimLearner, skill_id: str, t: float, share: float) -> None:
        """Grow a held skill's stability (``share`` of a full practice) and redraw its
        forgetting time from ``t``."""
        gap = t - learner.last_practice.get(skill_id, t)
        old = learner.stability[skill_id]
        growth = (self.params.stability_growth - 1.0) * min(1.0, gap / old) * share
        learner.stability[skill_id] = old * (1.0 + growth)
        end = t + float(learner.rng.exponential(learner.stability[skill_id]))
        learner.intervals[skill_id][-1][1] = end

    def _advance(self, learner: SimLearner, t: float) -> None:
        if t < learner.last_t:
            raise SimulationError(
                f"time went backwards for learner {learner.learner_id!r}: t={t} after "
                f"{learner.last_t}; simulate each learner's practice in time order"
            )
        learner.last_t = t

    def _item(self, item_id: str) -> Item:
        try:
            return self.items[item_id]
        except KeyError:
            raise SimulationError(
                f"unknown item id {item_id!r}: pass it in the simulator's items"
            ) from None

    def items_of(self, skill_ids: Iterable[str]) -> dict[str, list[Item]]:
        """Skill id -> the items covering it (in the order the simulator was given them)."""
        wanted = set(skill_ids)
        out: dict[str, list[Item]] = {s: [] for s in wanted}
        for it in self.items.values():
            for w in it.skills:
                if w.skill_id in wanted:
                    out[w.skill_id].append(it)
        return out
