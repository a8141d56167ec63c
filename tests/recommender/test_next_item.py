from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender import history as hist
from recommender.errors import InvalidParameterError, UnknownIdError
from recommender.history import Practice
from recommender.index import CurriculumIndex, ItemSpec
from recommender.next_item import (
    GainStats,
    LearnerView,
    Recommendation,
    RecommenderConfig,
    probe_target,
    recommend,
    remediation_target,
)
from recommender.review import DueReview
from tests.recommender.helpers import diamond, mastery_of, random_dag


def table(probs: dict[str, float], default: float = 0.5):  # type: ignore[no-untyped-def]
    def predict(ids: Sequence[str]) -> np.ndarray:
        return np.array([probs.get(i, default) for i in ids])

    return predict


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def codes(rec: object) -> list[str]:
    return [r.code for r in rec.reasons]  # type: ignore[attr-defined]


def test_first_recommendation_on_diamond_is_the_root_with_reasons() -> None:
    idx = diamond()
    [rec] = recommend(idx, LearnerView(idx.mastery_array({})), table({}), goals=["D"], rng=rng())
    assert rec.skill == "A" and rec.kind == "learn"
    assert codes(rec)[:3] == ["ready", "unblocks_goal", "predicted_success"]
    assert rec.reasons[1].data["unblocked"] == 3
    assert "has no prerequisites" in rec.reasons[0].message


def test_item_closest_to_the_band_is_chosen() -> None:
    idx = diamond()
    view = LearnerView(mastery_of(idx, A=0.9))
    # B0 too easy, B1 in band; C0 too hard, C1 slightly under the band
    pred = table({"B0": 0.95, "B1": 0.7, "C0": 0.2, "C1": 0.5})
    recs = recommend(idx, view, pred, goals=["D"], first=2, rng=rng())
    assert [(r.skill, r.item) for r in recs] == [("B", "B1"), ("C", "C1")]
    assert recs[0].predicted_success == pytest.approx(0.7)
    assert "in target band" in recs[0].reasons[2].message
    assert "closest to target band" in recs[1].reasons[2].message


def test_recent_items_are_avoided_and_skills_interleaved() -> None:
    idx = diamond()
    view = LearnerView(mastery_of(idx, A=0.9), recent_items=("B1",))
    pred = table({"B0": 0.3, "B1": 0.7, "C0": 0.7, "C1": 0.7})
    [rec] = recommend(idx, view, pred, goals=["D"], rng=rng())
    # B was practised last and C is ready too: switch to C
    assert rec.skill == "C" and "interleave" in codes(rec)
    recs = recommend(idx, view, pred, goals=["D"], first=2, rng=rng())
    assert [r.item for r in recs][1] == "B0"  # B1 was seen recently


def test_remediation_steps_back_to_the_weakest_root_prerequisite() -> None:
    # r1 -> a -> t, r2 -> t; t fails repeatedly. a and r2 unmastered, r1 mastered.
    idx = CurriculumIndex(
        ["r1", "r2", "a", "t"],
        [("r1", "a", 1), ("a", "t", 1), ("r2", "t", 1)],
        [ItemSpec(f"{s}-i", (s,)) for s in ["r1", "r2", "a", "t"]],
    )
    m = mastery_of(idx, r1=0.9, r2=0.5, a=0.3, t=0.2)
    assert idx.skill_ids[remediation_target(idx, m, idx.skill_pos["t"]) or 0] == "a"
    # a's own prerequisite r1 unmastered: the root cause is r1 even though a is weaker
    m2 = mastery_of(idx, r1=0.4, r2=0.9, a=0.1, t=0.2)
    assert idx.skill_ids[remediation_target(idx, m2, idx.skill_pos["t"]) or 0] == "r1"
    assert remediation_target(idx, mastery_of(idx, r1=1, r2=1, a=1), idx.skill_pos["t"]) is None
    view = LearnerView(m, failure_streaks={"t": 3})
    [rec] = recommend(idx, view, table({}), goals=["t"], rng=rng())
    assert (rec.kind, rec.skill) == ("remediate", "a")
    assert rec.reasons[0].data["root_cause"] == "a"
    # two failures are not enough
    [rec] = recommend(
        idx, LearnerView(m, failure_streaks={"t": 2}), table({}), goals=["t"], rng=rng()
    )
    assert rec.kind == "learn"


def test_failures_with_prerequisites_mastered_give_an_easier_item() -> None:
    idx = diamond()
    view = LearnerView(mastery_of(idx, A=0.995), failure_streaks={"B": 4})
    cfg = RecommenderConfig(probe_below=0.99)
    pred = table({"B0": 0.45, "B1": 0.3})
    [rec] = recommend(idx, view, pred, goals=["D"], config=cfg, rng=rng())
    assert (rec.kind, rec.item) == ("easier", "B0")
    # a skill without prerequisites always gets the easier item
    view = LearnerView(mastery_of(idx), failure_streaks={"A": 3})
    [rec] = recommend(idx, view, table({"A0": 0.2, "A1": 0.4}), goals=["D"], rng=rng())
    assert (rec.kind, rec.item) == ("easier", "A1")


def test_failures_probe_a_prerequisite_whose_mastery_is_not_beyond_doubt() -> None:
    idx = diamond()
    view = LearnerView(mastery_of(idx, A=0.9), failure_streaks={"B": 4})
    [rec] = recommend(idx, view, table({}), goals=["D"], rng=rng())
    assert (rec.kind, rec.skill) == ("remediate", "A")
    cfg = RecommenderConfig(probe_below=0.85)
    [rec] = recommend(idx, view, table({}), goals=["D"], config=cfg, rng=rng())
    assert (rec.kind, rec.skill) == ("easier", "B")


def test_due_review_is_mixed_in_by_the_review_every_setting() -> None:
    idx = diamond()
    due = (DueReview("A", 0.85, 9.2, 0.0),)
    m = mastery_of(idx, A=0.9)
    [rec] = recommend(
        idx, LearnerView(m, due=due, items_since_review=1), table({}), goals=["D"], rng=rng()
    )
    assert rec.kind == "learn"
    [rec] = recommend(
        idx, LearnerView(m, due=due, items_since_review=3), table({}), goals=["D"], rng=rng()
    )
    assert rec.kind == "review" and rec.skill == "A"
    assert rec.reasons[0].message.startswith("review due: last practised 9 day(s) ago")


def test_goal_mastered_consolidates_its_least_certain_skills() -> None:
    idx = diamond()
    m = mastery_of(idx, A=0.99, B=0.85, C=0.3)
    [rec] = recommend(idx, LearnerView(m), table({}), goals=["B"], rng=rng())
    assert (rec.kind, rec.skill) == ("consolidate", "B")
    assert rec.reasons[0].code == "goal_mastered"
    # without a goal the whole frontier is open
    [rec] = recommend(idx, LearnerView(m), table({}), rng=rng())
    assert (rec.kind, rec.skill) == ("learn", "C")


def test_thompson_sampling_prefers_the_variant_with_more_observed_gain() -> None:
    idx = CurriculumIndex(["s"], [], [ItemSpec("v1", ("s",)), ItemSpec("v2", ("s",))])
    gains = GainStats()
    for _ in range(40):
        gains.record("v1", True)
        gains.record("v2", False)
    gains.record("v2", True)
    r = np.random.default_rng(1)
    picks = [
        recommend(idx, LearnerView(np.zeros(1)), table({}), gains=gains, rng=r)[0].item
        for _ in range(50)
    ]
    assert picks.count("v1") >= 48
    # with no evidence both variants get tried
    r = np.random.default_rng(2)
    picks = [recommend(idx, LearnerView(np.zeros(1)), table({}), rng=r)[0].item for _ in range(60)]
    assert 15 <= picks.count("v1") <= 45


def test_bad_input_is_named() -> None:
    idx = diamond()
    with pytest.raises(UnknownIdError, match="'Z'"):
        recommend(idx, LearnerView(np.zeros(4)), table({}), goals=["Z"], rng=rng())
    with pytest.raises(InvalidParameterError, match="band"):
        RecommenderConfig(band=(0.9, 0.2))
    with pytest.raises(InvalidParameterError, match="predict"):
        recommend(idx, LearnerView(np.zeros(4)), lambda ids: np.zeros(len(ids) + 1), rng=rng())


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 15))
def test_learning_recommendations_are_ready_and_in_the_goal_closure(seed: int, n: int) -> None:
    r = np.random.default_rng(seed)
    idx = random_dag(r, n, 0.3)
    m = np.where(r.random(n) < 0.5, 0.95, 0.1)
    goal = idx.skill_ids[int(r.integers(n))]
    recs = recommend(
        idx, LearnerView(m), lambda ids: r.random(len(ids)), goals=[goal], first=3, rng=r
    )
    g = idx.to_networkx()
    import networkx as nx

    closure = nx.ancestors(g, goal) | {goal}
    for rec in recs:
        if rec.kind == "consolidate":
            assert m[idx.skill_pos[goal]] >= 0.8 and rec.skill in closure
            continue
        assert rec.kind == "learn"
        s = rec.skill
        assert m[idx.skill_pos[s]] < 0.8
        assert all(m[idx.skill_pos[p]] >= 0.8 for p in g.predecessors(s))
        if goal in closure and m[idx.skill_pos[goal]] < 0.8:
            assert s in closure
    assert len({r.skill for r in recs}) == len(recs)


# -- robustness by construction (issue 9) ------------------------------------------------------
def _walk(
    idx: CurriculumIndex,
    mastery: np.ndarray,
    answer: Callable[[str, int], bool],
    goals: list[str],
    steps: int,
    seed: int,
    config: RecommenderConfig | None = None,
) -> list[tuple[Recommendation, bool]]:
    """Recommend, answer, repeat: the view is rebuilt from the answers each time, as the API
    and the simulations do (mastery held fixed: the worst case for a loop)."""
    r = np.random.default_rng(seed)
    practices: list[Practice] = []
    out = []
    for k in range(steps):
        [rec] = recommend(
            idx,
            hist.build_view(idx, mastery, practices[::-1], reviews=False),
            table({}),
            goals=goals,
            config=config or RecommenderConfig(),
            rng=r,
        )
        ok = answer(rec.item, k)
        practices.append(Practice(rec.item, ok, 60.0 * k))
        out.append((rec, ok))
    return out


def test_a_known_prerequisite_is_probed_at_most_max_probes_times() -> None:
    # the loop the issue observed: B keeps failing, its prerequisite A is known and answered
    # right every time it is probed; A's mastery estimate never reaches 1
    idx = diamond()
    m = mastery_of(idx, A=0.97)
    walk = _walk(idx, m, lambda item, k: item.startswith("A"), ["B"], 60, seed=0)
    kinds = [rec.kind for rec, _ in walk]
    assert kinds.count("remediate") == RecommenderConfig().max_probes
    # with the probes spent, the learner stays on B (easiest items) rather than looping on A
    assert all(rec.skill == "B" for rec, _ in walk[-20:])
    assert {rec.kind for rec, _ in walk[-20:]} == {"easier"}
    # back-off: the second probe needed twice the failures of the first
    first, second = [k for k, kind in enumerate(kinds) if kind == "remediate"]
    assert first == 3 and second - first - 1 == 6


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.lists(st.booleans(), min_size=40, max_size=40),
    st.floats(0.8, 0.999),
    st.integers(1, 4),
    st.integers(0, 3),
    st.integers(0, 3),
)
def test_remediation_is_bounded_between_two_successes_on_a_skill(
    seed: int, answers: list[bool], m_a: float, limit: int, max_probes: int, confirm: int
) -> None:
    """Whatever the answers on the prerequisite, B is failed throughout: never more than
    ``max_probes`` steps back from it, and never more than ``max_detour`` items in a row off
    it (a failed probe can make the prerequisite itself a failing skill). A probe answered
    wrong makes A a skill to learn again until ``confirm_run`` right answers in a row: those
    items are learning, not a detour."""
    idx = diamond(items_per_skill=3)
    cfg = RecommenderConfig(failure_limit=limit, max_probes=max_probes, confirm_run=confirm)
    walk = _walk(
        idx,
        mastery_of(idx, A=m_a),
        lambda item, k: item.startswith("A") and answers[k],
        ["B"],
        40,
        seed=seed,
        config=cfg,
    )
    assert sum(rec.kind == "remediate" for rec, _ in walk) <= max_probes
    off = 0
    run_a: int | None = None  # A's right answers since its latest wrong one (None: never wrong)
    for rec, ok in walk:
        # the skills to learn: B, and A while a wrong answer on it is not yet confirmed away
        a_to_learn = confirm > 0 and run_a is not None and run_a < confirm
        off = 0 if rec.skill == "B" or (a_to_learn and rec.skill == "A") else off + 1
        assert off <= cfg.max_detour
        if rec.skill == "A":
            run_a = (run_a or 0) + 1 if ok else 0
    if confirm == 0:
        assert all(rec.kind != "learn" or rec.skill == "B" for rec, _ in walk)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(2, 12),
    st.integers(2, 4),
    st.lists(st.integers(0, 10_000), min_size=1, max_size=12),
    st.integers(1, 6),
)
def test_the_item_just_answered_is_never_offered_again_at_once(
    seed: int, n: int, per_skill: int, history: list[int], window: int
) -> None:
    r = np.random.default_rng(seed)
    dag = random_dag(r, n, 0.3)
    items = [
        ItemSpec(f"{s}-{k}", (s,), difficulty=0.25 * k)
        for s in dag.skill_ids
        for k in range(per_skill)
    ]
    idx = CurriculumIndex(
        dag.skill_ids,
        [
            (dag.skill_ids[a], dag.skill_ids[b], 1.0)
            for a, b in zip(dag.edge_src, dag.edge_dst, strict=True)
        ],
        items,
    )
    recent = tuple(idx.item_ids[h % idx.n_items] for h in history)
    m = np.where(r.random(n) < 0.5, 0.95, 0.1)
    streaks = {idx.skill_ids[int(r.integers(n))]: int(r.integers(0, 8))}
    view = LearnerView(m, recent_items=recent, failure_streaks=streaks)
    goal = idx.skill_ids[int(r.integers(n))]
    cfg = RecommenderConfig(recent_window=window)
    for rec in recommend(
        idx, view, lambda ids: r.random(len(ids)), goals=[goal], first=3, config=cfg, rng=r
    ):
        assert rec.item != recent[0]


def test_recency_is_by_the_latest_use_of_an_item() -> None:
    idx = CurriculumIndex(["s"], [], [ItemSpec("x", ("s",)), ItemSpec("y", ("s",))])
    # both seen within the window; x was used last (and long ago too): y is due
    view = LearnerView(np.zeros(1), recent_items=("x", "y", "x", "x"))
    for seed in range(5):
        [rec] = recommend(idx, view, table({}), rng=np.random.default_rng(seed))
        assert rec.item == "y"


def test_a_new_skill_starts_with_its_easiest_item_never_a_challenge() -> None:
    # each skill: a warm-up (0.25), a practice (0.5) and a challenge (0.75) that also
    # assesses the skill's prerequisite; a predictor that cannot tell them apart
    skills = ["p", "s"]
    items = [
        ItemSpec("s-warm", ("s",), difficulty=0.25),
        ItemSpec("s-practice", ("s",), difficulty=0.5),
        ItemSpec("s-challenge", ("s", "p"), difficulty=0.75),
        ItemSpec("p-warm", ("p",), difficulty=0.25),
    ]
    idx = CurriculumIndex(skills, [("p", "s", 1.0)], items)
    view = LearnerView(mastery_of(idx, p=0.9), recent_items=("p-warm",))
    for seed in range(10):
        [rec] = recommend(idx, view, table({}, 0.2), goals=["s"], rng=np.random.default_rng(seed))
        assert rec.item == "s-warm"


def test_no_off_skill_item_for_a_skill_whose_item_needs_an_unready_skill() -> None:
    # q has no item of its own; its only items are those of c (which also assess q); c1's
    # other skill c is not ready (its prerequisite r is not mastered), c2 is r's own item
    idx = CurriculumIndex(
        ["q", "r", "c"],
        [("r", "c", 1.0)],
        [ItemSpec("c1", ("c", "q")), ItemSpec("r1", ("r", "q")), ItemSpec("q-own", ("q",))],
    )
    view = LearnerView(mastery_of(idx))
    for seed in range(10):
        [rec] = recommend(idx, view, table({}), goals=["q"], rng=np.random.default_rng(seed))
        assert rec.item == "q-own"  # its own item, never another skill's
    bare = CurriculumIndex(
        ["q", "r", "c"], [("r", "c", 1.0)], [ItemSpec("c1", ("c", "q")), ItemSpec("r1", ("r", "q"))]
    )
    for seed in range(10):
        [rec] = recommend(
            bare,
            LearnerView(mastery_of(bare)),
            table({}),
            goals=["q"],
            rng=np.random.default_rng(seed),
        )
        assert rec.item == "r1"  # r is ready (no prerequisite); c is not


def test_reviews_and_probes_cannot_keep_the_learner_off_the_target_skill() -> None:
    idx = diamond()
    due = (DueReview("A", 0.5, 30.0, 0.0),)
    m = mastery_of(idx, A=0.9, B=0.9)
    # the last two items were off C (the first learning skill toward D): C comes first
    view = LearnerView(m, recent_items=("A0", "B1"), due=due, items_since_review=9)
    [rec] = recommend(idx, view, table({}), goals=["D"], rng=rng())
    assert rec.skill == "C" and rec.kind == "learn"
    # after one item on C, the review may come
    view = LearnerView(m, recent_items=("C0", "A0"), due=due, items_since_review=9)
    [rec] = recommend(idx, view, table({}), goals=["D"], rng=rng())
    assert rec.kind == "review"


def test_consolidation_practises_the_goal_before_its_prerequisites() -> None:
    # every goal mastered by the estimate, a prerequisite less certain than the goal: the goal
    # itself comes first (a false positive on it is what would keep it out of reach)
    idx = diamond()
    m = mastery_of(idx, A=0.81, B=0.95, C=0.97, D=0.9)
    recs = recommend(idx, LearnerView(m), table({}), goals=["D"], first=3, rng=rng())
    assert [(r.kind, r.skill) for r in recs] == [
        ("consolidate", "D"),
        ("consolidate", "A"),
        ("consolidate", "B"),
    ]


def test_a_probe_goes_to_the_prerequisite_confirmed_longest_ago() -> None:
    # D fails with B and C mastered by the estimate; B is the weaker estimate but was just
    # answered right; C was never confirmed by an answer: C is probed
    idx = diamond()
    m = mastery_of(idx, A=0.99, B=0.85, C=0.95)
    view = LearnerView(m, failure_streaks={"D": 3}, confirmed_ago={"A": 9, "B": 2})
    [rec] = recommend(idx, view, table({}), goals=["D"], rng=rng())
    assert (rec.kind, rec.skill) == ("remediate", "C")
    # both confirmed: the older confirmation (B, 7 answers ago) goes first
    view = LearnerView(m, failure_streaks={"D": 3}, confirmed_ago={"B": 7, "C": 2})
    [rec] = recommend(idx, view, table({}), goals=["D"], rng=rng())
    assert (rec.kind, rec.skill) == ("remediate", "B")
    # equally old (here: never): the weaker estimate
    assert probe_target(idx, LearnerView(m), idx.skill_pos["D"]) == idx.skill_pos["B"]
    # below probe_below only
    assert probe_target(idx, LearnerView(m), idx.skill_pos["D"], probe_below=0.8) is None


def test_a_prerequisite_estimated_at_exactly_one_is_still_probed() -> None:
    """A read-out clipped at 1.0 (the GNN's) or a BKT estimate rounded to it is no evidence:
    traced on Junyi kst, a learner failed a skill 11,000 times while its false-positive
    prerequisite, estimated at 1.0, was never probed again. By default it is probed; only an
    explicit ``probe_below`` under 1 leaves it out."""
    idx = diamond()
    m = mastery_of(idx, A=1.0, B=1.0, C=1.0)
    view = LearnerView(m, failure_streaks={"D": 3}, confirmed_ago={"B": 9, "C": 2})
    [rec] = recommend(idx, view, table({}), goals=["D"], rng=rng())
    assert (rec.kind, rec.skill) == ("remediate", "B")
    assert probe_target(idx, view, idx.skill_pos["D"]) == idx.skill_pos["B"]
    assert probe_target(idx, view, idx.skill_pos["D"], probe_below=0.999) is None
    # still bounded: after max_probes steps back the skill keeps its easiest item
    spent = LearnerView(m, failure_streaks={"D": 12}, probes={"D": 2}, confirmed_ago={"B": 9})
    [rec] = recommend(idx, spent, table({"D0": 0.3, "D1": 0.6}), goals=["D"], rng=rng())
    assert (rec.kind, rec.skill) == ("easier", "D")


def test_blocked_path_remediation_probes_a_mastered_prerequisite_before_its_ancestors() -> None:
    """``remediate_blocked_path``: D keeps failing, its direct prerequisites B and C are
    mastered by the estimate, their prerequisite A is not (an estimate sagging on a known
    skill). By default remediation goes to A; with the option A is not behind an unmastered
    prerequisite of D, so a direct prerequisite is probed; once B itself is unmastered, the
    root cause behind it (A) is remediated as before."""
    idx = diamond()
    view = LearnerView(mastery_of(idx, A=0.5, B=0.95, C=0.9), failure_streaks={"D": 3})
    [rec] = recommend(idx, view, table({}), goals=["D"], rng=rng())
    assert (rec.kind, rec.skill) == ("remediate", "A")
    cfg = RecommenderConfig(remediate_blocked_path=True)
    [rec] = recommend(idx, view, table({}), goals=["D"], config=cfg, rng=rng())
    assert rec.kind == "remediate" and rec.skill in ("B", "C")
    d = idx.skill_pos["D"]
    m = mastery_of(idx, A=0.5, B=0.95, C=0.9)
    assert remediation_target(idx, m, d, blocked_path=True) is None
    m = mastery_of(idx, A=0.5, B=0.4, C=0.9)
    assert remediation_target(idx, m, d, blocked_path=True) == idx.skill_pos["A"]
    assert remediation_target(idx, m, d) == idx.skill_pos["A"]


def test_a_false_positive_prerequisite_is_probed_even_when_another_is_weaker() -> None:
    # D keeps failing because C is not known although its estimate says so (0.97); B is known
    # and the weaker estimate (0.85). Within the bound, the probes reach C: the first goes to
    # the weaker of the two unconfirmed (B, answered right), the next to C, not to B again
    idx = diamond()
    m = mastery_of(idx, A=0.99, B=0.85, C=0.97)
    walk = _walk(idx, m, lambda item, k: item[0] in "AB", ["D"], 40, seed=0)
    probes = [rec.skill for rec, _ in walk if rec.kind == "remediate"]
    assert probes[:2] == ["B", "C"]  # max_probes = 2, each prerequisite once
    # the probe found C unknown: C is a skill to learn again (its own prerequisite A may be
    # probed from it), never D, until C is answered right confirm_run times in a row
    after = walk[[rec.kind for rec, _ in walk].index("remediate", 4) + 1 :]
    assert {rec.skill for rec, _ in after} <= {"A", "C"}
    assert any(rec.skill == "C" and rec.kind == "learn" for rec, _ in after)


def test_a_skill_answered_wrong_is_mastered_only_after_a_run_of_right_answers() -> None:
    # A's estimate is past the threshold, but it was answered wrong: two lucky answers since
    # do not make it a prerequisite to build on; the third in a row does
    idx = diamond()
    m = mastery_of(idx, A=0.95)

    def first(rows: list[Practice], cfg: RecommenderConfig | None = None) -> str:
        view = hist.build_view(idx, m, rows[::-1], reviews=False)
        [rec] = recommend(
            idx, view, table({}), goals=["D"], config=cfg or RecommenderConfig(), rng=rng()
        )
        return rec.skill

    def rows(*answers: bool) -> list[Practice]:  # oldest first
        return [Practice(f"A{k % 2}", ok, 60.0 * k) for k, ok in enumerate(answers)]

    assert first(rows(False, True, True)) == "A"
    assert first(rows(False, True, True, True)) in {"B", "C"}
    assert first(rows(True, False, True, True)) == "A"  # the run counts from the latest wrong
    assert first(rows(True, True)) in {"B", "C"}  # never wrong in the view: the estimate stands
    assert first(rows(False, True, True), RecommenderConfig(confirm_run=0)) in {"B", "C"}
    with pytest.raises(InvalidParameterError, match="confirm_run"):
        RecommenderConfig(confirm_run=-1)


def test_with_confirm_harder_only_right_answers_on_harder_items_confirm_a_skill() -> None:
    idx = diamond(3)  # A0 easier; A1, A2 the harder half
    m = mastery_of(idx, A=0.95)
    harder = RecommenderConfig(confirm_harder=True)

    def first(answers: list[tuple[str, bool]], cfg: RecommenderConfig) -> str:
        rows = [Practice(item, ok, 60.0 * k) for k, (item, ok) in enumerate(answers)]
        view = hist.build_view(idx, m, rows[::-1], reviews=False)
        [rec] = recommend(idx, view, table({}), goals=["D"], config=cfg, rng=rng())
        return rec.skill

    three_with_an_easy_one = [("A2", False), ("A0", True), ("A1", True), ("A2", True)]
    assert first(three_with_an_easy_one, RecommenderConfig()) in {"B", "C"}
    assert first(three_with_an_easy_one, harder) == "A"  # two harder right answers so far
    assert first([*three_with_an_easy_one, ("A1", True)], harder) in {"B", "C"}
    # a wrong answer on the easier item still ends the run
    assert first([*three_with_an_easy_one, ("A0", False), ("A1", True)], harder) == "A"


def test_with_confirm_dependents_a_dependent_completes_the_run() -> None:
    # A's estimate is past the threshold, answered wrong, then right: with confirm_dependents
    # A is ready to build on one right answer short of its run (default: the full run), and
    # a right answer on a dependent completes it
    idx = diamond()
    m = mastery_of(idx, A=0.95)
    dep = RecommenderConfig(confirm_dependents=True)

    def first(answers: list[tuple[str, bool]], cfg: RecommenderConfig) -> Recommendation:
        rows = [Practice(item, ok, 60.0 * k) for k, (item, ok) in enumerate(answers)]
        view = hist.build_view(idx, m, rows[::-1], reviews=False)
        [rec] = recommend(idx, view, table({}), goals=["D"], config=cfg, rng=rng())
        return rec

    assert first([("A0", False), ("A1", True)], dep).skill == "A"
    two = [("A0", False), ("A1", True), ("A0", True)]
    assert first(two, RecommenderConfig()).skill == "A"
    assert first(two, dep).skill in {"B", "C"}
    # B failing: A, one short of its run, is still unmastered to remediation (not probed:
    # probes only below 0.9, and A's estimate is 0.95) ...
    fails = [("B0", False), ("B1", False), ("B0", False)]
    rec = first([*two, *fails], RecommenderConfig(confirm_dependents=True, probe_below=0.9))
    assert (rec.skill, rec.kind) == ("A", "remediate")
    # ... until a right answer on a dependent completes the run: then B gets an easier item
    rec = first(
        [*two, ("C0", True), *fails], RecommenderConfig(confirm_dependents=True, probe_below=0.9)
    )
    assert (rec.skill, rec.kind) == ("B", "easier")
    with pytest.raises(InvalidParameterError, match="confirm_harder/confirm_dependents"):
        RecommenderConfig(confirm_harder=True, confirm_dependents=True)


def lesson_curriculum() -> CurriculumIndex:
    """s and t ready (no prerequisites); each has a lesson (the easiest item) and exercises;
    u has only a reading."""
    return CurriculumIndex(
        ["s", "t", "u"],
        [],
        [
            ItemSpec("s-lesson", ("s",), difficulty=0.1, exercise=False),
            ItemSpec("s-ex1", ("s",), difficulty=0.4),
            ItemSpec("s-ex2", ("s",), difficulty=0.6),
            ItemSpec("t-lesson", ("t",), difficulty=0.1, exercise=False),
            ItemSpec("t-ex", ("t",), difficulty=0.4),
            ItemSpec("u-reading", ("u",), difficulty=0.1, exercise=False),
        ],
    )


def test_a_skill_studied_since_its_last_answer_gets_an_exercise_next() -> None:
    idx = lesson_curriculum()
    pred = table({}, default=0.2)  # a new learner: below the band, so easiest items first
    fresh = LearnerView(mastery_of(idx))
    recs = recommend(idx, fresh, pred, first=2, rng=rng())
    assert [r.item for r in recs] == ["s-lesson", "t-lesson"]  # lessons first when nothing seen
    # t's lesson was just viewed: t comes first, with an exercise, and says why
    studied = LearnerView(mastery_of(idx), recent_activity=("t-lesson",), studied={"t": "t-lesson"})
    recs = recommend(idx, studied, pred, first=2, rng=rng())
    assert [(r.skill, r.item) for r in recs] == [("t", "t-ex"), ("s", "s-lesson")]
    assert "studied" in codes(recs[0]) and "studied" not in codes(recs[1])
    assert {"skill": "t", "item": "t-lesson"} in [r.data for r in recs[0].reasons]


def test_a_viewed_item_is_not_offered_again_unless_nothing_else_fits() -> None:
    idx = lesson_curriculum()
    pred = table({}, default=0.2)
    # s's lesson viewed, then an exercise of s answered: s is practised (no "studied"), and
    # neither the lesson nor the exercise is offered again while s has another item
    seen = LearnerView(
        mastery_of(idx), recent_items=("s-ex1",), recent_activity=("s-ex1", "s-lesson")
    )
    [rec] = recommend(idx, seen, pred, goals=["s"], rng=rng())
    assert (rec.item, "studied" in codes(rec)) == ("s-ex2", False)
    # u has nothing but its reading: viewed or not, it is what u has
    only = LearnerView(mastery_of(idx), recent_activity=("u-reading",), studied={"u": "u-reading"})
    [rec] = recommend(idx, only, pred, goals=["u"], rng=rng())
    assert rec.item == "u-reading" and "studied" in codes(rec)


def test_a_studied_skill_goes_behind_remediation_only_when_remediation_led() -> None:
    # r -> t: t failing three times with r unmastered gives remediation to r; s is ready too
    idx = CurriculumIndex(
        ["r", "t", "s"],
        [("r", "t", 1.0)],
        [ItemSpec("r-ex", ("r",)), ItemSpec("t-ex", ("t",)), ItemSpec("s-ex", ("s",))],
    )
    m = mastery_of(idx, r=0.3, t=0.2)
    pred = table({}, default=0.7)
    view = LearnerView(m, failure_streaks={"t": 3}, studied={"s": "s-lesson"})
    recs = recommend(idx, view, pred, goals=["t", "s"], first=3, rng=rng())
    assert [(r.kind, r.skill) for r in recs][:2] == [("remediate", "r"), ("learn", "s")]
    assert "studied" in codes(recs[1])
