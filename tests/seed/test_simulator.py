"""The simulator's generative model, checked on tiny hand-built graphs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.models import Item, ItemKind, Prerequisite, PrerequisiteGraph, Skill, SkillWeight
from seed.simulator import DAY, SimParams, SimulationError, Simulator

# a -> b (strict), both with an exercise of difficulty 0.5 and a lesson; c is independent.
GRAPH = PrerequisiteGraph(
    skills=(Skill("a", "A"), Skill("b", "B"), Skill("c", "C")),
    edges=(Prerequisite("a", "b", 1.0),),
)
ITEMS = (
    Item("ex-a", ItemKind.EXERCISE, "a?", (SkillWeight("a"),), difficulty=0.5),
    Item("ex-b", ItemKind.EXERCISE, "b?", (SkillWeight("b"),), difficulty=0.5),
    Item("ex-c", ItemKind.EXERCISE, "c?", (SkillWeight("c"),), difficulty=0.5),
    Item("ex-ab", ItemKind.EXERCISE, "ab?", (SkillWeight("a", 0.5), SkillWeight("b", 0.5))),
    Item("lesson-a", ItemKind.LESSON, "about a", (SkillWeight("a"),)),
)
# Fixed traits so that rates are exact: every learner has ability 0, rate 0.2, memory 1.
FLAT = SimParams(learn_rate=0.2, ability_sd=0.0, learn_rate_sd=0.0, memory_sd=0.0)


def make(params: SimParams = FLAT, seed: int = 0) -> Simulator:
    return Simulator(GRAPH, ITEMS, params, np.random.default_rng(seed))


def run_history(seed: int) -> list[tuple[bool, float]]:
    sim = make(SimParams(), seed)
    out = []
    for k in range(5):
        learner = sim.new_learner(f"l{k}")
        for i, item in enumerate(["ex-a", "ex-c", "ex-b", "ex-ab"] * 5):
            r = sim.respond(learner, item, i * 3600.0)
            out.append((r.correct, r.p_correct))
    return out


def test_same_seed_same_history() -> None:
    assert run_history(3) == run_history(3)


def test_different_seeds_differ() -> None:
    assert run_history(3) != run_history(4)


def test_learners_have_independent_streams() -> None:
    """A learner's draws do not depend on how much another learner practised before."""
    sim1, sim2 = make(seed=5), make(seed=5)
    a1, b1 = sim1.new_learner("a", prior_mastered=0), sim1.new_learner("b", prior_mastered=0)
    _, b2 = sim2.new_learner("a", prior_mastered=0), sim2.new_learner("b", prior_mastered=0)
    for i in range(30):
        sim1.answer(a1, "ex-a", float(i))  # only sim1's learner a practises first
    hist1 = [sim1.answer(b1, "ex-c", float(i)) for i in range(30)]
    hist2 = [sim2.answer(b2, "ex-c", float(i)) for i in range(30)]
    assert hist1 == hist2


def test_p_correct_is_guess_or_one_minus_slip_at_mid_difficulty() -> None:
    sim = make()
    novice = sim.new_learner("n", prior_mastered=0)
    knows_a = sim.new_learner("k", prior_mastered=1)  # the only root of {a -> b} is a; c too
    assert novice.prior_mastered == ()
    assert len(knows_a.prior_mastered) == 1
    skill = knows_a.prior_mastered[0]
    assert sim.p_correct(novice, f"ex-{skill}", 0.0) == pytest.approx(0.2)
    assert sim.p_correct(knows_a, f"ex-{skill}", 0.0) == pytest.approx(0.9)


def test_guess_and_slip_recovered_from_answers() -> None:
    """Empirical first-answer accuracy of novices and of learners who know the skill matches
    guess and 1 - slip (binomial, 4 standard errors)."""
    params = SimParams(guess=0.25, slip=0.15, ability_sd=0.0, learn_rate_sd=0.0, memory_sd=0.0)
    sim = make(params, seed=11)
    n = 4000
    novice = [sim.answer(sim.new_learner(f"n{i}", prior_mastered=0), "ex-a", 0.0) for i in range(n)]
    experts = [sim.new_learner(f"e{i}", prior_mastered=3) for i in range(n)]  # a, b and c
    expert = [sim.answer(e, "ex-b", 0.0) for e in experts]
    for observed, truth in ((np.mean(novice), 0.25), (np.mean(expert), 0.85)):
        se = math.sqrt(truth * (1 - truth) / n)
        assert abs(observed - truth) < 4 * se


def test_prerequisite_gates_learning() -> None:
    """Practising b without a learns b ten times less often (prereq_unmet_factor 0.1)."""
    sim = make(seed=2)
    n = 6000
    without = [sim.new_learner(f"w{i}", prior_mastered=0) for i in range(n)]
    with_a = [sim.new_learner(f"h{i}", prior_mastered=0) for i in range(n)]
    for learner in with_a:  # give them a, exactly, by the public API: practise until learned
        t = 0.0
        while not learner.mastered("a", t):
            sim.answer(learner, "ex-a", t)
            t += 1.0
    assert sim.learn_probability(without[0], "b", 0.0) == pytest.approx(0.02)
    learned_without = np.mean(["b" in sim.respond(w, "ex-b", 0.0).learned for w in without])
    learned_with = np.mean(["b" in sim.respond(h, "ex-b", h.last_t + 1.0).learned for h in with_a])
    for observed, truth in ((learned_without, 0.02), (learned_with, 0.2)):
        assert abs(observed - truth) < 4 * math.sqrt(truth * (1 - truth) / n)
    assert learned_with > 5 * learned_without


def test_studying_learns_faster_than_answering() -> None:
    sim = make(seed=8)
    n = 4000
    studied = np.mean(
        [
            bool(sim.study(sim.new_learner(f"s{i}", prior_mastered=0), "lesson-a", 0.0))
            for i in range(n)
        ]
    )
    assert abs(studied - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n)  # rate 0.2 x study_effect 1.5


def test_forgetting_lowers_retention_over_time() -> None:
    """Skills known at the start are held for Exponential(prior stability) days."""
    sim = make(seed=4)
    n = 4000
    learners = [sim.new_learner(f"l{i}", prior_mastered=1) for i in range(n)]
    stability = FLAT.prior_stability_days
    previous = 1.0
    for days in (1.0, 60.0, 180.0, 540.0):
        kept = np.mean([sim.true_mastery(x, days * DAY)[x.prior_mastered[0]] for x in learners])
        expected = math.exp(-days / stability)
        assert abs(kept - expected) < 4 * math.sqrt(expected * (1 - expected) / n) + 1e-9
        assert kept < previous
        previous = kept


def test_spaced_practice_raises_stability_more_than_massed() -> None:
    """Stability grows by (growth - 1) * min(1, gap / S): x1.5 after a gap of S/2 with
    growth 2, almost nothing for practice a minute apart."""
    solo = PrerequisiteGraph(skills=(Skill("a", "A"),), edges=())
    sim = Simulator(solo, ITEMS[:1], FLAT, np.random.default_rng(9))
    s0 = FLAT.prior_stability_days * DAY
    massed = sim.new_learner("m", prior_mastered=1)
    for k in range(1, 4):
        sim.answer(massed, "ex-a", k * 60.0)
    assert 1.0 < massed.stability["a"] / s0 < 1.0 + 4 * 60.0 / s0
    grown = 0
    for i in range(50):
        spaced = sim.new_learner(f"s{i}", prior_mastered=1)
        if spaced.mastered("a", s0 / 2):
            sim.answer(spaced, "ex-a", s0 / 2)
            assert spaced.stability["a"] == pytest.approx(1.5 * s0)
            assert spaced.mastered("a", s0 / 2)
            grown += 1
    assert grown > 10


def test_prior_mastered_is_closed_under_prerequisites() -> None:
    chain = PrerequisiteGraph(
        skills=tuple(Skill(f"s{i}", f"S{i}") for i in range(10)),
        edges=tuple(Prerequisite(f"s{i}", f"s{i + 1}") for i in range(9)),
    )
    sim = Simulator(chain, [], FLAT, np.random.default_rng(0))
    for k in range(11):
        learner = sim.new_learner(f"l{k}", prior_mastered=k)
        assert set(learner.prior_mastered) == {f"s{i}" for i in range(k)}


def test_bad_calls_raise_typed_errors() -> None:
    sim = make()
    learner = sim.new_learner("x", prior_mastered=0)
    with pytest.raises(SimulationError, match="unknown item id 'nope'"):
        sim.answer(learner, "nope", 0.0)
    with pytest.raises(SimulationError, match="use study"):
        sim.answer(learner, "lesson-a", 0.0)
    with pytest.raises(SimulationError, match="use answer"):
        sim.study(learner, "ex-a", 0.0)
    sim.answer(learner, "ex-a", 10.0)
    with pytest.raises(SimulationError, match="time went backwards"):
        sim.answer(learner, "ex-a", 5.0)
    with pytest.raises(SimulationError, match="SimParams.slip"):
        SimParams(slip=1.5)
    with pytest.raises(SimulationError, match="unknown skill 'zzz'"):
        Simulator(
            GRAPH,
            [Item("q", ItemKind.EXERCISE, "q", (SkillWeight("zzz"),))],
            FLAT,
            np.random.default_rng(0),
        )


@settings(max_examples=60, deadline=None)
@given(
    guess=st.floats(0.0, 0.45),
    slip=st.floats(0.0, 0.45),
    effect=st.floats(0.0, 0.95),
    d1=st.floats(0.0, 1.0),
    d2=st.floats(0.0, 1.0),
    ability=st.floats(-3.0, 3.0),
)
def test_p_correct_bounded_and_monotone(
    guess: float, slip: float, effect: float, d1: float, d2: float, ability: float
) -> None:
    """P(correct) lies in [0, 1], is higher when mastered and falls with difficulty."""
    lo, hi = sorted((d1, d2))
    items = (
        Item("easy", ItemKind.EXERCISE, "e", (SkillWeight("a"),), difficulty=lo),
        Item("hard", ItemKind.EXERCISE, "h", (SkillWeight("a"),), difficulty=hi),
    )
    params = SimParams(guess=guess, slip=slip, difficulty_effect=effect)
    sim = Simulator(GRAPH, items, params, np.random.default_rng(0))
    novice = sim.new_learner("n", prior_mastered=0, ability=ability)
    expert = sim.new_learner("e", prior_mastered=3, ability=ability)
    for who in (novice, expert):
        easy, hard = sim.p_correct(who, "easy", 0.0), sim.p_correct(who, "hard", 0.0)
        assert 0.0 <= hard <= easy + 1e-12 <= 1.0 + 1e-12
    for item in ("easy", "hard"):
        assert sim.p_correct(novice, item, 0.0) < sim.p_correct(expert, item, 0.0)


def test_practising_a_skill_rehearses_its_prerequisites() -> None:
    """Answering b after a gap of S/2 grows a's stability by (2 - 1) * 0.5 * (1 * 0.5)."""
    sim = make(seed=12)
    s0 = FLAT.prior_stability_days * DAY
    checked = 0
    for i in range(40):
        learner = sim.new_learner(f"r{i}", known=["a", "b"])
        if learner.mastered("a", s0 / 2) and learner.mastered("b", s0 / 2):
            sim.answer(learner, "ex-b", s0 / 2)
            assert learner.stability["a"] == pytest.approx(1.25 * s0)
            assert learner.stability["b"] == pytest.approx(1.5 * s0)
            checked += 1
    assert checked > 5
    no_rehearsal = make(SimParams(**(FLAT.to_dict() | {"prereq_rehearsal": 0.0})), seed=12)
    learner = no_rehearsal.new_learner("r", known=["a", "b"])
    no_rehearsal.answer(learner, "ex-b", 60.0)
    assert learner.stability["a"] == s0


def test_known_skills_can_be_named() -> None:
    sim = make()
    learner = sim.new_learner("k", known=["c", "a", "c"])
    assert learner.prior_mastered == ("c", "a")
    assert sim.true_mastery(learner, 0.0) == {"a": True, "b": False, "c": True}
    with pytest.raises(SimulationError, match="unknown skill"):
        sim.new_learner("x", known=["zz"])
    with pytest.raises(SimulationError, match="either prior_mastered or known"):
        sim.new_learner("x", known=["a"], prior_mastered=1)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 25),
    edges=st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), max_size=60),
    count=st.integers(0, 30),
    seed=st.integers(0, 2**32 - 1),
)
def test_prior_knowledge_is_closed_under_prerequisites_on_any_dag(
    n: int, edges: list[tuple[int, int]], count: int, seed: int
) -> None:
    """On a random DAG (edges point from lower to higher index), ``prior_mastered=k`` gives
    min(k, n) distinct skills, each with all its prerequisites also known."""
    pairs = {(min(a, b), max(a, b)) for a, b in edges if a != b and max(a, b) < n}
    graph = PrerequisiteGraph(
        skills=tuple(Skill(f"s{i}", f"S{i}") for i in range(n)),
        edges=tuple(Prerequisite(f"s{a}", f"s{b}") for a, b in sorted(pairs)),
    )
    sim = Simulator(graph, [], FLAT, np.random.default_rng(seed))
    known = set(sim.new_learner("x", prior_mastered=count).prior_mastered)
    assert len(known) == min(count, n)
    assert all(f"s{a}" in known for a, b in pairs if f"s{b}" in known)


def test_learn_probability_multiplies_then_caps_once() -> None:
    """rate * boost * weight * gate * relearn, capped at 1 once: 0.6 * 0.4 * 2 = 0.48 for a
    forgotten skill on a 0.4-weight item (capping the relearn product first would give 0.4)."""
    sim = make()
    learner = sim.new_learner("x", prior_mastered=0, learn_rate=0.6)
    learner.intervals["a"] = [[0.0, 1.0]]  # learned at 0, forgotten at 1
    assert sim.learn_probability(learner, "a", 5.0, weight=0.4) == pytest.approx(0.48)
    assert sim.learn_probability(learner, "a", 5.0) == 1.0
    assert sim.learn_probability(learner, "c", 5.0, boost=1.5) == pytest.approx(0.9)
    assert sim.learn_probability(learner, "b", 5.0) == pytest.approx(0.06)  # a is missing
