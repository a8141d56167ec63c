"""The curriculum, learner population and client-side policies of ``bench_http_population.py``.

* **Curriculum.** The Junyi Academy exercise table (``junyi-prerequisites/``) read and checked
  by the project's importer (``graph.curriculum_io.read_curriculum`` + ``graph.curriculum.
  validate``, as ``learngraph curriculum import --skip-invalid`` does): the edge closing its one
  cycle, its two self-loops and its two duplicated rows are left out. The exercises that take
  part in no prerequisite edge (59 isolated ones) are dropped, leaving 776 skills; each skill
  gets ``items_per_skill`` exercises (difficulties spread around 0.5). Goals: the ``goals``
  deepest skills (longest prerequisite chain above them; ties by id).
* **Population.** Simulated learners whose true state the harness (never a policy) reads: one
  of the project's populations (``seed.simulation.populations.make_population`` over this
  curriculum, each with its documented default parameters): ``seed``, the project's own
  ``seed.simulator.Simulator``; ``bkt``, a prerequisite-gated BKT hidden Markov model;
  ``afm``, an additive-factors learner with forgetting; ``kst``, a knowledge-space learner.
  The generator is ``numpy.random.default_rng(seed)``.
* **Client-side policies** (no server: they need no recommendation): ``topological``, a fixed
  curriculum (the goals' prerequisite closure in topological order, each skill practised
  ``reps`` times cycling through its exercises, the pass repeated until the goal is reached),
  and ``oracle``, which reads the simulator's true state: it always practises the first
  closure skill (topological order) not truly mastered, whose prerequisites are then all
  truly mastered, cycling through its exercises.

Every policy meets the same learners: a population built from the same seed creates the same
learners (traits and prior knowledge) in the same order, each with its own random stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from graph.curriculum import validate
from graph.curriculum_io import read_curriculum
from graph.models import Item, ItemKind, Prerequisite, PrerequisiteGraph, Skill, SkillWeight
from seed.simulation.policies import oracle_item
from seed.simulation.populations import POPULATIONS as POPULATIONS  # re-exported
from seed.simulation.populations import Population as Population
from seed.simulation.populations import make_population

JUNYI_COLUMNS = {"id": "name", "name": "pretty_display_name"}
#: exercise difficulties of a skill's items, cycled (the simulator's answers depend on them)
DIFFICULTIES = (0.45, 0.55, 0.35, 0.65, 0.5)
ITEM_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Curriculum:
    skills: tuple[Skill, ...]
    edges: tuple[Prerequisite, ...]
    items: tuple[Item, ...]
    goals: tuple[str, ...]
    closure: tuple[str, ...]  # the goals' prerequisite closure, topological order
    skipped: tuple[str, ...]  # what the importer left out, as it says it
    dropped_isolated: int

    @property
    def graph(self) -> PrerequisiteGraph:
        return PrerequisiteGraph(self.skills, self.edges)

    def items_of(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {s.id: [] for s in self.skills}
        for it in self.items:
            out[it.skills[0].skill_id].append(it.id)
        return out

    def to_json(self, path: Path) -> None:
        """The curriculum in ``learngraph curriculum import``'s JSON format."""
        doc = {
            "skills": [
                {"id": s.id, "name": s.name, "topic": s.topic, "area": s.area} for s in self.skills
            ],
            "prerequisites": [
                {"source": e.source, "target": e.target, "strength": e.strength} for e in self.edges
            ],
            "items": [
                {
                    "id": it.id,
                    "kind": "exercise",
                    "title": it.title,
                    "difficulty": it.difficulty,
                    "expected_seconds": it.expected_seconds,
                    "skills": [{"skill_id": w.skill_id, "weight": w.weight} for w in it.skills],
                }
                for it in self.items
            ],
        }
        path.write_text(json.dumps(doc), encoding="utf-8")


def load_curriculum(table: Path, *, items_per_skill: int = 4, goals: int = 40) -> Curriculum:
    """The curriculum of a Junyi-format exercise table (see the module docstring)."""
    if items_per_skill < 1 or goals < 1:
        raise SystemExit(f"--items-per-skill {items_per_skill} and --goals {goals} must be >= 1")
    checked = validate(read_curriculum(table, JUNYI_COLUMNS))
    linked = {e.source for e in checked.edges} | {e.target for e in checked.edges}
    skills = tuple(s for s in checked.skills if s.id in linked)
    g: nx.DiGraph = nx.DiGraph()
    g.add_nodes_from(s.id for s in skills)
    g.add_edges_from((e.source, e.target) for e in checked.edges)
    depth: dict[str, int] = {}
    for n in nx.topological_sort(g):
        depth[n] = max((depth[p] + 1 for p in g.predecessors(n)), default=0)
    chosen = tuple(sorted(depth, key=lambda s: (-depth[s], s))[:goals])
    need = set(chosen).union(*(nx.ancestors(g, x) for x in chosen))
    closure = tuple(s for s in nx.lexicographical_topological_sort(g) if s in need)
    items = tuple(
        Item(
            f"{s.id}-ex{k}",
            ItemKind.EXERCISE,
            f"{s.name} ({k + 1})",
            (SkillWeight(s.id),),
            difficulty=DIFFICULTIES[k % len(DIFFICULTIES)],
            expected_seconds=ITEM_SECONDS,
        )
        for s in skills
        for k in range(items_per_skill)
    )
    return Curriculum(
        skills,
        tuple(checked.edges),
        items,
        chosen,
        closure,
        tuple(str(p) for p in checked.problems),
        len(checked.skills) - len(skills),
    )


def population(name: str, cur: Curriculum, seed: int) -> Population:
    """The population ``name`` (one of ``POPULATIONS``) over ``cur``; the same ``seed`` gives
    the same learners, in the order they are created, each time (paired policies)."""
    if name not in POPULATIONS:
        raise SystemExit(f"unknown population {name!r}: use one of {', '.join(POPULATIONS)}")
    return make_population(name, cur.graph, cur.items, np.random.default_rng(seed))


# -- client-side policies -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Outcome:
    """One learner's run: items answered, whether every goal was truly mastered by then, and
    the share of the goals truly mastered at the end."""

    items: int
    reached: bool
    goals_mastered: float = 1.0


def goal_share(cur: Curriculum, pop: Population, learner: Any, t: float) -> float:
    return sum(pop.mastered(learner, g, t) for g in cur.goals) / len(cur.goals)


Chooser = Callable[[Any, float], str]


def run_local(
    cur: Curriculum,
    pop: Population,
    learners: Sequence[Any],
    choose_for: Callable[[], Chooser],
    budget: int,
) -> list[Outcome]:
    """Each learner answers ``choose_for()``'s picks until the goal or ``budget`` items."""
    out = []
    for learner in learners:
        choose = choose_for()
        t, used = 0.0, 0
        reached = all(pop.mastered(learner, g, t) for g in cur.goals)
        while not reached and used < budget:
            item = choose(learner, t)
            pop.answer(learner, item, t)
            used += 1
            t += ITEM_SECONDS
            reached = all(pop.mastered(learner, g, t) for g in cur.goals)
        out.append(Outcome(used, reached, goal_share(cur, pop, learner, t)))
    return out


def topological(cur: Curriculum, reps: int) -> Callable[[], Chooser]:
    of = cur.items_of()
    plan = [of[s][k % len(of[s])] for s in cur.closure for k in range(reps) if of[s]]

    def fresh() -> Chooser:
        step = [0]

        def choose(learner: Any, t: float) -> str:
            item = plan[step[0] % len(plan)]
            step[0] += 1
            return item

        return choose

    return fresh


def oracle(cur: Curriculum, pop: Population) -> Callable[[], Chooser]:
    """The in-process harness's oracle (:func:`seed.simulation.policies.oracle_item`)."""
    of = cur.items_of()

    def fresh() -> Chooser:
        turn: dict[str, int] = {}

        def choose(learner: Any, t: float) -> str:
            return oracle_item(cur.closure, of, lambda s: pop.mastered(learner, s, t), turn)

        return choose

    return fresh


def summary(outcomes: Sequence[Outcome], budget: int) -> dict[str, float]:
    """Items to the goal (a learner who did not reach it counts as ``budget``)."""
    items = np.array([o.items if o.reached else budget for o in outcomes], dtype=np.float64)
    return {
        "learners": len(outcomes),
        "median_items": float(np.median(items)),
        "p90_items": float(np.percentile(items, 90)),
        "reached_share": float(np.mean([o.reached for o in outcomes])),
        "goals_mastered_at_end": float(np.mean([o.goals_mastered for o in outcomes])),
    }
