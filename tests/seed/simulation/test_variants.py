"""Content variants: the simulator's teaching-effect knob, the variant curriculum, and
Thompson sampling over observed gains against uniform choice among near-equal items."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.cli import main
from graph.models import Item, ItemKind, Prerequisite, PrerequisiteGraph, Skill, SkillWeight
from recommender.errors import InvalidParameterError
from recommender.next_item import RecommenderConfig
from seed.simulation.variants import preferred_from, run_variants, with_variants
from seed.simulator import SimParams, SimulationError, Simulator

FLAT = SimParams(learn_rate=0.4, learn_rate_sd=0.0, prior_mastered_mean=0.0)
ONE = PrerequisiteGraph((Skill("a", "a"),), ())
GOOD_POOR = [
    Item("a-good", ItemKind.EXERCISE, "a", (SkillWeight("a"),)),
    Item("a-poor", ItemKind.EXERCISE, "a", (SkillWeight("a"),)),
    Item("a-plain", ItemKind.EXERCISE, "a", (SkillWeight("a"),)),
]
EFFECT = {"a-good": 1.5, "a-poor": 0.5}


def test_learning_probability_is_scaled_by_the_items_effect() -> None:
    sim = Simulator(ONE, GOOD_POOR, FLAT, np.random.default_rng(0), item_effect=EFFECT)
    learner = sim.new_learner("x")
    # rate 0.4, no prerequisites, never learned: 0.4 * effect
    assert sim.learn_probability(learner, "a", 0.0, item_id="a-good") == pytest.approx(0.6)
    assert sim.learn_probability(learner, "a", 0.0, item_id="a-poor") == pytest.approx(0.2)
    assert sim.learn_probability(learner, "a", 0.0, item_id="a-plain") == pytest.approx(0.4)
    assert sim.learn_probability(learner, "a", 0.0) == pytest.approx(0.4)


@pytest.mark.parametrize(("item", "expected"), [("a-good", 0.6), ("a-poor", 0.2)])
def test_a_poor_variant_teaches_less_often_than_a_good_one(item: str, expected: float) -> None:
    """One practice each by 3,000 fresh learners: the share who learned it is 0.4 * effect
    (within 4 standard errors)."""
    sim = Simulator(ONE, GOOD_POOR, FLAT, np.random.default_rng(1), item_effect=EFFECT)
    n = 3000
    learned = 0
    for k in range(n):
        learner = sim.new_learner(f"l{k}")
        sim.answer(learner, item, 0.0)
        learned += learner.mastered("a", 1.0)
    se = (expected * (1 - expected) / n) ** 0.5
    assert abs(learned / n - expected) < 4 * se


def test_no_effects_and_unit_effects_change_nothing() -> None:
    def trace(effect: dict[str, float] | None) -> list[tuple[bool, float]]:
        sim = Simulator(ONE, GOOD_POOR, FLAT, np.random.default_rng(5), item_effect=effect)
        out = []
        for k in range(20):
            learner = sim.new_learner(f"l{k}")
            for step in range(3):
                r = sim.respond(learner, "a-plain", float(step))
                out.append((r.correct, r.p_correct))
        return out

    assert trace(None) == trace({}) == trace({"a-plain": 1.0, "a-good": 1.0})


@pytest.mark.parametrize(
    ("effect", "match"),
    [({"nope": 1.0}, "unknown item 'nope'"), ({"a-good": -0.5}, "a-good.*>= 0")],
)
def test_bad_effects_are_named(effect: dict[str, float], match: str) -> None:
    with pytest.raises(SimulationError, match=match):
        Simulator(ONE, GOOD_POOR, FLAT, np.random.default_rng(0), item_effect=effect)


def fan(n: int) -> tuple[PrerequisiteGraph, list[Item], list[str]]:
    """n independent skills k0..k{n-1}, all prerequisites of 'goal'; three exercises each."""
    names = [f"k{i}" for i in range(n)] + ["goal"]
    skills = tuple(Skill(s, s) for s in names)
    edges = tuple(Prerequisite(s, "goal") for s in names[:-1])
    items = [
        Item(f"{s}-{k}", ItemKind.EXERCISE, s, (SkillWeight(s),), difficulty=0.2 + 0.3 * k)
        for s in names
        for k in range(3)
    ]
    return PrerequisiteGraph(skills, edges), items, names


def test_variants_replace_a_skills_exercises_with_copies_of_one() -> None:
    g, items, syllabus = fan(2)
    vc = with_variants(g, items, syllabus, ["goal"], (1.5, 0.5, 1.0), rng=np.random.default_rng(0))
    assert set(vc.variants) == {"k0", "k1", "goal"}
    by_id = {it.id: it for it in vc.setting.items}
    for s, ids in vc.variants.items():
        assert ids == (f"{s}-1~a", f"{s}-1~b", f"{s}-1~c")  # difficulty 0.5 is the template
        assert {by_id[i].difficulty for i in ids} == {0.5}
        assert sorted(vc.effect[i] for i in ids) == [0.5, 1.0, 1.5]
        assert vc.effect[vc.best[s]] == 1.5
    assert not any(i.endswith("-0") or i.endswith("-2") for i in by_id)


@pytest.mark.parametrize("effects", [(1.0,), (1.0, 1.0), (1.0, -1.0)])
def test_bad_variant_effects_are_named(effects: tuple[float, ...]) -> None:
    g, items, syllabus = fan(1)
    with pytest.raises(InvalidParameterError, match="effects"):
        with_variants(g, items, syllabus, ["goal"], effects, rng=np.random.default_rng(0))


def test_thompson_prefers_the_better_variant_where_uniform_does_not() -> None:
    """Effects 1 vs 0.1 on a chain of four skills, 40 learners one after another; the
    recent-items window is off so that the best variant can be taken twice in a row. Over
    three seeds, Thompson's share of the best variant in the last third of the cohort beats
    uniform's every time, by 0.1 on average."""
    g = PrerequisiteGraph(
        tuple(Skill(f"k{i}", f"k{i}") for i in range(4)),
        tuple(Prerequisite(f"k{i}", f"k{i + 1}") for i in range(3)),
    )
    items = [
        Item(f"k{i}-{k}", ItemKind.EXERCISE, f"k{i}", (SkillWeight(f"k{i}"),))
        for i in range(4)
        for k in range(2)
    ]
    params = SimParams(learn_rate=0.5, learn_rate_sd=0.0, prior_mastered_mean=0.0)
    config = RecommenderConfig(recent_window=0)
    gaps = []
    for seed in range(3):
        vc = with_variants(
            g,
            items,
            [f"k{i}" for i in range(4)],
            ["k3"],
            (1.0, 0.1),
            rng=np.random.default_rng(seed),
        )
        last = {
            mode: run_variants(
                vc, mode, learners=40, seed=seed, budget=300, params=params, config=config
            ).thirds()[1]
            for mode in ("thompson", "uniform")
        }
        assert last["thompson"] > last["uniform"], (seed, last)
        gaps.append(last["thompson"] - last["uniform"])
    assert float(np.mean(gaps)) > 0.1, gaps


def test_the_oracle_always_takes_the_best_variant_without_a_recent_window() -> None:
    g, items, syllabus = fan(2)
    vc = with_variants(g, items, syllabus, ["goal"], (1.5, 0.5), rng=np.random.default_rng(3))
    run = run_variants(
        vc,
        "oracle",
        learners=3,
        seed=3,
        budget=200,
        params=SimParams(learn_rate=0.5, prior_mastered_mean=0.0),
        config=RecommenderConfig(recent_window=0),
    )
    assert sum(run.variant_picks) > 0 and run.best_picks == run.variant_picks


def test_preferred_from_finds_the_last_dip_below_the_level() -> None:
    shares = [0.5, 0.5, 0.9, 0.5, 0.9, 0.9, 0.9]
    # windows of 2: means 0.5, 0.7, 0.7, 0.7, 0.9, 0.9 -> first at >= 0.8 for good: the 5th
    assert preferred_from(shares, 0.8, 2) == 6
    assert preferred_from(shares, 0.4, 2) == 2
    assert preferred_from([0.9, 0.1], 0.5, 1) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.floats(0, 1), st.integers(1, 5))
def test_preferred_from_holds_to_the_end(shares: list[float], level: float, w: int) -> None:
    got = preferred_from(shares, level, w)
    arr = np.array(shares)
    means = [arr[i : i + w].mean() for i in range(len(arr) - w + 1)]
    if got is None:
        assert len(arr) < w or means[-1] < level
    else:
        assert all(m >= level for m in means[got - w :])
        assert got == w or means[got - w - 1] < level


def test_preferred_from_skips_learners_without_variant_picks() -> None:
    nan = float("nan")
    assert preferred_from([0.2, nan, nan, 1.0, 1.0], 0.9, 2) == 4  # (nan, 1.0) averages 1.0
    assert preferred_from([nan, nan], 0.5, 2) is None


def test_cli_compares_variants_in_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "--variants", "1.5,0.5", "--goals", "add-within-5", "--learners", "1"]
    code = main([*argv, "--recent-window", "0", "--seed", "1", "--json", "--quiet"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variant_skills"] == 3 and doc["effects"] == [1.5, 0.5]
    runs = {r["mode"]: r for r in doc["runs"]}
    assert set(runs) == {"thompson", "uniform", "oracle"}
    assert runs["oracle"]["best_share_last_third"] == 1.0  # no recent window: always the best
    assert all(len(r["variant_picks"]) == 1 for r in runs.values())
    assert main(["simulate", "--variants", "1,x", "--quiet"]) == 2
    assert "give numbers like 1.5,0.5" in capsys.readouterr().err
