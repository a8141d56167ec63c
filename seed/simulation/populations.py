"""Learner populations the policies are compared on: one protocol, several generative models.

A population makes learners, answers exercises for them and says, exactly, whether a learner
has a skill at a time (the harness alone reads that). Each model is written from a different
published account of how learners learn, with its own parameters, so that a policy tuned on one
is tested on learners it was not written for:

=========  ===========================================================  ======================
name       model                                                        module
=========  ===========================================================  ======================
``seed``   the project's simulator: prerequisite-gated learning, guess   :mod:`seed.simulator`
           and slip by difficulty and ability, forgetting with
           stability growth
``bkt``    a BKT hidden Markov model per skill (Corbett & Anderson       :mod:`.bkt_learners`
           1995) whose learning transition is gated by prerequisites;
           per-item guess/slip, independent prior knowledge, no
           forgetting
``afm``    an additive-factors (IRT) learner (Cen, Koedinger & Junker    :mod:`.afm_learners`
           2006) whose practice counts decay with time (forgetting) and
           only half-count before the prerequisites are known
``kst``    a knowledge-space learner (Doignon & Falmagne 1985/1999)      :mod:`.kst_learners`
           whose state is a down-set of the prerequisite DAG, prior a
           random down-set, answering by the basic local independence
           model (Falmagne & Doignon 1988), learning only on the outer
           fringe
=========  ===========================================================  ======================

``make_population(name, graph, items, rng)`` builds one; the same generator seed gives the same
learners to every policy (paired comparison).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from graph.models import Item, PrerequisiteGraph
from seed.simulator import SimLearner, SimParams, SimulationError, Simulator


class Population(Protocol):
    """What the harness needs of simulated learners (``Learner`` is the model's own type)."""

    def new_learner(self, learner_id: str) -> Any: ...

    def answer(self, learner: Any, item_id: str, t: float) -> bool:
        """Draw the learner's answer to ``item_id`` at ``t`` and learn from the practice."""
        ...

    def mastered(self, learner: Any, skill_id: str, t: float) -> bool:
        """Whether the learner truly has ``skill_id`` at ``t`` (exact; draws nothing)."""
        ...


class SeedPopulation:
    """The project's own simulator (:mod:`seed.simulator`) as a population."""

    def __init__(
        self,
        graph: PrerequisiteGraph,
        items: Sequence[Item],
        rng: np.random.Generator,
        params: SimParams | None = None,
    ) -> None:
        self.sim = Simulator(graph, items, params or SimParams(), rng)

    def new_learner(self, learner_id: str) -> SimLearner:
        return self.sim.new_learner(learner_id)

    def answer(self, learner: SimLearner, item_id: str, t: float) -> bool:
        return self.sim.answer(learner, item_id, t)

    def mastered(self, learner: SimLearner, skill_id: str, t: float) -> bool:
        return learner.mastered(skill_id, t)


POPULATIONS = ("seed", "bkt", "afm", "kst")


def make_population(
    name: str,
    graph: PrerequisiteGraph,
    items: Sequence[Item],
    rng: np.random.Generator,
    *,
    params: SimParams | None = None,
) -> Population:
    """The population ``name`` (one of :data:`POPULATIONS`) over the curriculum, each with its
    documented default parameters (``params`` applies to ``seed`` only)."""
    from seed.simulation.afm_learners import AFMPopulation
    from seed.simulation.bkt_learners import BKTPopulation
    from seed.simulation.kst_learners import KSTPopulation

    if name == "seed":
        return SeedPopulation(graph, items, rng, params)
    if name == "bkt":
        return BKTPopulation(graph, items, rng)
    if name == "afm":
        return AFMPopulation(graph, items, rng)
    if name == "kst":
        return KSTPopulation(graph, items, rng)
    raise SimulationError(f"unknown population {name!r}: choose one of {', '.join(POPULATIONS)}")


class Curriculum:
    """The curriculum as the learner models read it: skills in order, each skill's
    prerequisites with their strengths, and each exercise's skills, weights and difficulty."""

    def __init__(self, graph: PrerequisiteGraph, items: Sequence[Item]) -> None:
        self.skill_ids = tuple(s.id for s in graph.skills)
        self.pos = {s: i for i, s in enumerate(self.skill_ids)}
        n = len(self.skill_ids)
        self.parents: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        self.children: list[list[int]] = [[] for _ in range(n)]
        for e in graph.edges:
            if e.source not in self.pos or e.target not in self.pos:
                raise SimulationError(f"edge {e.source} -> {e.target} names an unknown skill")
            s, d = self.pos[e.source], self.pos[e.target]
            self.parents[d].append((s, float(e.strength)))
            self.children[s].append(d)
        self.items: dict[str, tuple[tuple[int, ...], tuple[float, ...], float]] = {}
        for it in items:
            unknown = [w.skill_id for w in it.skills if w.skill_id not in self.pos]
            if unknown:
                raise SimulationError(f"item {it.id!r} assesses unknown skill(s) {unknown}")
            self.items[it.id] = (
                tuple(self.pos[w.skill_id] for w in it.skills),
                tuple(float(w.weight) for w in it.skills),
                float(it.difficulty),
            )
        self.n_skills = n

    def item(self, item_id: str) -> tuple[tuple[int, ...], tuple[float, ...], float]:
        try:
            return self.items[item_id]
        except KeyError:
            raise SimulationError(f"unknown item id {item_id!r}") from None

    def skill(self, skill_id: str) -> int:
        try:
            return self.pos[skill_id]
        except KeyError:
            raise SimulationError(f"unknown skill id {skill_id!r}") from None

    def random_downset(self, rng: np.random.Generator, size: int) -> set[int]:
        """A random prerequisite-closed set of ``size`` skills, grown from the roots by adding
        a uniformly drawn skill whose prerequisites are all in the set."""
        unmet = [len({p for p, _ in ps}) for ps in self.parents]
        frontier = [s for s in range(self.n_skills) if unmet[s] == 0]
        known: set[int] = set()
        while len(known) < size and frontier:
            pick = frontier.pop(int(rng.integers(len(frontier))))
            known.add(pick)
            for c in set(self.children[pick]):
                unmet[c] -= 1
                if unmet[c] == 0:
                    frontier.append(c)
        return known
