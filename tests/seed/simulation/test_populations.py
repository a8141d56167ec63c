"""The learner populations: each model's defining rules on tiny hand-built curricula."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.cli import main
from graph.models import Item, ItemKind, Prerequisite, PrerequisiteGraph, Skill, SkillWeight
from seed.simulation.afm_learners import AFMParams, AFMPopulation
from seed.simulation.bkt_learners import BKTParams, BKTPopulation
from seed.simulation.harness import make_setting, run_policy
from seed.simulation.kst_learners import KSTParams, KSTPopulation
from seed.simulation.populations import POPULATIONS, make_population
from seed.simulator import DAY, SimulationError


def chain(n: int = 4) -> tuple[PrerequisiteGraph, list[Item], list[str]]:
    """k0 -> k1 -> ... ; three exercises per skill."""
    names = [f"k{i}" for i in range(n)]
    graph = PrerequisiteGraph(
        tuple(Skill(s, s) for s in names),
        tuple(Prerequisite(names[i], names[i + 1]) for i in range(n - 1)),
    )
    items = [
        Item(f"{s}-{k}", ItemKind.EXERCISE, s, (SkillWeight(s),), difficulty=0.25 * (k + 1))
        for s in names
        for k in range(3)
    ]
    return graph, items, names


def answers(name: str, seed: int) -> list[bool]:
    g, items, _ = chain()
    pop = make_population(name, g, items, np.random.default_rng(seed))
    learner = pop.new_learner("x")
    return [pop.answer(learner, f"k{k % 4}-0", 60.0 * k) for k in range(40)]


@pytest.mark.parametrize("name", POPULATIONS)
def test_a_seed_gives_the_same_learners(name: str) -> None:
    assert answers(name, 3) == answers(name, 3)
    assert any(answers(name, 3) != answers(name, s) for s in range(4, 8))


def test_an_unknown_population_is_named() -> None:
    g, items, _ = chain()
    with pytest.raises(SimulationError, match="'irt'.*seed, bkt, afm, kst"):
        make_population("irt", g, items, np.random.default_rng(0))


def test_bkt_learns_nothing_behind_an_unknown_prerequisite_with_a_closed_gate() -> None:
    g, items, _ = chain(2)
    params = BKTParams(init_a=1e-3, init_b=1e3, learn_a=1e3, learn_b=1e-3, gate=0.0)
    pop = BKTPopulation(g, items, np.random.default_rng(0), params)
    learner = pop.new_learner("x")
    for k in range(20):
        pop.answer(learner, "k1-0", 60.0 * k)
    assert not pop.mastered(learner, "k1", 1e4)
    pop.answer(learner, "k0-0", 2e4)  # P(T) about 1 with the prerequisite met
    assert pop.mastered(learner, "k0", 2e4)
    pop.answer(learner, "k1-0", 3e4)
    assert pop.mastered(learner, "k1", 3e4)
    # a known skill is answered with 1 - slip: right far more often than the guess allows
    right = sum(pop.answer(learner, "k1-1", 4e4 + k) for k in range(200))
    assert right >= 200 * (1 - params.slip_high) - 15


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 5), min_size=1, max_size=60))
def test_kst_states_stay_down_sets_and_grow_only_on_the_fringe(
    seed: int, practised: list[int]
) -> None:
    names = ["a", "b", "c", "d", "e", "f"]
    edges = [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("a", "f")]
    g = PrerequisiteGraph(
        tuple(Skill(s, s) for s in names), tuple(Prerequisite(s, t) for s, t in edges)
    )
    items = [Item(f"{s}-0", ItemKind.EXERCISE, s, (SkillWeight(s),)) for s in names]
    pop = KSTPopulation(g, items, np.random.default_rng(seed), KSTParams(prior_share=0.5))
    learner = pop.new_learner("x")
    for k, i in enumerate(practised):
        before = {s for s in names if pop.mastered(learner, s, 0.0)}
        pop.answer(learner, f"{names[i]}-0", float(k))
        after = {s for s in names if pop.mastered(learner, s, 0.0)}
        assert after - before <= {names[i]}  # only the practised skill can be learned ...
        if after != before:  # ... and only from the outer fringe
            assert all(src in before for src, dst in edges if dst == names[i])
        for src, dst in edges:
            assert dst not in after or src in after


def test_afm_forgets_and_gates_on_prerequisites() -> None:
    g, items, _ = chain(2)
    params = AFMParams(theta_sd=0.0, beta_sd=0.0, gamma_sd=0.0, prior_mean=0.0, tau_days=1.0)
    pop = AFMPopulation(g, items, np.random.default_rng(0), params)
    learner = pop.new_learner("x")
    # (logit(0.8) + 2) / 0.45 = 7.5 practices at average difficulty make k0 mastered
    for k in range(7):
        pop.answer(learner, "k0-1", 60.0 * k)
    assert not pop.mastered(learner, "k0", 420.0)
    pop.answer(learner, "k0-1", 420.0)
    assert pop.mastered(learner, "k0", 480.0)
    assert not pop.mastered(learner, "k0", 480.0 + DAY)  # decayed by e^-1 in a day
    # k1 practised while k0 is not mastered counts 0.2: ten practices are two
    fresh = pop.new_learner("y")
    for k in range(10):
        pop.answer(fresh, "k1-1", 60.0 * k)
    assert fresh.recent[1] == pytest.approx(2.0, rel=0.01)


@pytest.mark.parametrize("population", POPULATIONS)
@pytest.mark.parametrize("policy", ["topological", "adaptive"])
def test_every_population_runs_under_the_harness(population: str, policy: str) -> None:
    g, items, names = chain()
    s = make_setting(g, items, names, ["k3"])
    res = run_policy(s, policy, learners=3, seed=1, budget=400, population=population)
    assert res.reached_share == 1.0 and res.learners == 3


def test_simulate_cli_selects_a_population(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "simulate",
            "--population",
            "kst",
            "--policy",
            "topological",
            "--learners",
            "2",
            "--budget",
            "60",
            "--goals",
            "count-to-10",
            "--json",
            "--quiet",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["population"] == "kst"
    assert [p["policy"] for p in doc["policies"]] == ["topological"]
    with pytest.raises(SystemExit):
        main(["simulate", "--population", "nope"])


def test_simulate_baseline_budget_lifts_the_fixed_orders_cap(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--baseline-budget applies to every policy but adaptive, and the bar's verdict says
    which side a cap bends: an adaptive cohort cut off misses, a topological one is flagged."""
    argv = ["simulate", "--population", "bkt", "--learners", "2", "--goals", "tell-time-hour"]
    argv += ["--policy", "topological", "--policy", "adaptive", "--json", "--quiet"]
    assert main([*argv, "--budget", "2", "--baseline-budget", "2000"]) == 0
    doc = json.loads(capsys.readouterr().out)
    topo, ada = doc["policies"]
    assert (doc["budget"], doc["baseline_budget"]) == (2, 2000)
    assert (topo["budget"], ada["budget"]) == (2000, 2)
    assert topo["reached_share"] == 1.0 and ada["reached_share"] < 1.0
    assert doc["bar"]["met"] is False and "reached the goal" in doc["bar"]["verdict"]
    assert not doc["bar"]["topological_censored"]
    # the other way round: the fixed order cut off, the ratio flagged as an upper bound
    assert main([*argv, "--budget", "2000", "--baseline-budget", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["bar"]["topological_censored"] and "upper" in doc["bar"]["verdict"]
    assert main([*argv, "--baseline-budget", "0"]) == 2
    assert "--baseline-budget 0" in capsys.readouterr().err


def test_bar_verdict_names_each_miss() -> None:
    from seed.simulation.cli import bar_verdict
    from seed.simulation.harness import PolicySummary

    def summary(policy: str, median: float, p90: float, reached: float) -> PolicySummary:
        return PolicySummary(policy, 10, 3000, median, p90, reached, 0.0, 0.0, 0.0)

    topo = summary("topological", 1000, 2000, 1.0)
    assert bar_verdict(summary("adaptive", 600, 1200, 1.0), topo)["met"] is True
    v = bar_verdict(summary("adaptive", 601, 1300, 0.9), topo)
    assert v["met"] is False
    assert "median 0.60" in v["verdict"] and "p90 0.65" in v["verdict"]
    assert "90% of adaptive learners" in v["verdict"]
    assert bar_verdict(summary("adaptive", 0, 0, 1.0), summary("t", 0, 0, 1.0))["median"] == 1.0
