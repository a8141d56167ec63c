from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.errors import InvalidParameterError, UnknownIdError
from recommender.index import CurriculumIndex, ItemSpec
from recommender.next_item import (
    GainStats,
    LearnerView,
    RecommenderConfig,
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
