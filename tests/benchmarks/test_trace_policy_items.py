"""benchmarks/trace_policy_items.py on a hand-built chain: every adaptive item is classified
once, the per-skill counts add up, and the evidence floor waits for its right answers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.trace_policy_items import evidence_floor, trace  # noqa: E402
from graph.models import (  # noqa: E402
    Item,
    ItemKind,
    Prerequisite,
    PrerequisiteGraph,
    Skill,
    SkillWeight,
)
from recommender.next_item import RecommenderConfig  # noqa: E402
from seed.simulation.policies import Setting, make_setting  # noqa: E402
from seed.simulation.populations import make_population  # noqa: E402


def chain(n: int = 6) -> Setting:
    names = [f"k{i}" for i in range(n)]
    graph = PrerequisiteGraph(
        tuple(Skill(s, s) for s in names),
        tuple(Prerequisite(names[i], names[i + 1]) for i in range(n - 1)),
    )
    items = [
        Item(f"{s}-{k}", ItemKind.EXERCISE, s, (SkillWeight(s),), difficulty=0.5)
        for s in names
        for k in range(3)
    ]
    return make_setting(graph, items, names, [names[-1]])


def test_every_item_is_classified_once_and_the_skill_counts_add_up() -> None:
    s = chain()
    classes, adaptive, oracle, used_a, used_o = trace(s, "kst", 4, 3, 600, RecommenderConfig())
    assert max(used_a) < 600 and max(used_o) < 600  # all reached: counts are items used
    items = {k: v for k, v in classes.items() if not k.startswith("(")}
    assert sum(items.values()) == sum(used_a)
    assert sum(adaptive.values()) == sum(used_a) - items.get("diagnostic", 0)
    assert sum(oracle.values()) == sum(used_o)
    assert set(oracle) <= set(s.closure)


def test_the_evidence_floor_ends_each_skill_on_a_run_of_right_answers() -> None:
    s = chain()
    for k in (1, 3):
        used = evidence_floor(s, "kst", 5, 2, 600, k)
        assert len(used) == 5 and max(used) < 600
    # a learner who knows nothing needs at least k answers per skill
    pop = make_population("kst", s.graph, s.items, np.random.default_rng(2))
    learners = [pop.new_learner(f"sim-{n}") for n in range(5)]
    floor3 = evidence_floor(s, "kst", 5, 2, 600, 3)
    for learner, n in zip(learners, floor3, strict=True):
        unknown = sum(not pop.mastered(learner, x, 0.0) for x in s.closure)
        assert n >= 3 * unknown
