from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender import diagnostic as dg
from recommender.errors import InvalidParameterError, RecommenderError
from recommender.gaps import group_gaps, learner_gaps
from recommender.index import CurriculumIndex, ItemSpec
from tests.recommender.helpers import chain, diamond, mastery_of, random_dag

CFG = dg.DiagnosticConfig(n_particles=4000)


# -- gaps ------------------------------------------------------------------------------------
def gap_graph() -> CurriculumIndex:
    """a -> b -> g, c -> g, a -> d (d off the goal's closure)."""
    return CurriculumIndex(
        ["a", "b", "c", "d", "g"], [("a", "b", 1), ("b", "g", 1), ("c", "g", 1), ("a", "d", 1)]
    )


def test_learner_gaps_name_root_causes() -> None:
    idx = gap_graph()
    gaps = learner_gaps(idx, mastery_of(idx, c=0.9), ["g"])
    assert [(g.skill, g.ready, g.root_causes) for g in gaps] == [
        ("g", False, ("a",)),
        ("b", False, ("a",)),
        ("a", True, ("a",)),
    ]
    gaps = learner_gaps(idx, mastery_of(idx, a=0.9), ["g"])
    # root causes in topological order: c (no prerequisites) before b
    assert {g.skill: g.root_causes for g in gaps} == {"g": ("c", "b"), "b": ("b",), "c": ("c",)}
    assert learner_gaps(idx, mastery_of(idx, a=1, b=1, c=1, g=1), ["g"]) == []
    with pytest.raises(InvalidParameterError, match="goals"):
        learner_gaps(idx, mastery_of(idx), [])


def test_group_gaps_count_learners_per_root_cause() -> None:
    idx = gap_graph()
    group = {
        "ann": mastery_of(idx, a=0.9),  # stuck at b and c
        "bob": mastery_of(idx, a=0.9, b=0.9),  # stuck at c
        "cy": mastery_of(idx, c=0.95),  # stuck at a
        "dee": mastery_of(idx, a=1, b=1, c=1, g=1),  # done
    }
    rows = group_gaps(idx, group, ["g"])
    assert [(r.skill, r.learners) for r in rows] == [
        ("c", ("ann", "bob")),
        ("a", ("cy",)),
        ("b", ("ann",)),
    ]
    assert rows[0].mean_mastery == pytest.approx(0.0)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 15))
def test_every_gap_root_cause_is_a_ready_unmastered_prerequisite(seed: int, n: int) -> None:
    r = np.random.default_rng(seed)
    idx = random_dag(r, n, 0.3)
    m = np.where(r.random(n) < 0.5, 0.9, 0.2)
    g = idx.to_networkx()
    goal = idx.skill_ids[int(r.integers(n))]
    import networkx as nx

    for gap in learner_gaps(idx, m, [goal]):
        assert gap.root_causes, "every gap has a root cause in a DAG"
        for rc in gap.root_causes:
            assert rc == gap.skill or rc in nx.ancestors(g, gap.skill)
            assert m[idx.skill_pos[rc]] < 0.8
            assert all(m[idx.skill_pos[p]] >= 0.8 for p in g.predecessors(rc))


# -- diagnostic ------------------------------------------------------------------------------
def test_particles_are_downsets_of_every_size() -> None:
    idx = diamond()
    parts = dg.sample_downsets(idx, 3000, seed=1)
    for s, t in zip(idx.edge_src.tolist(), idx.edge_dst.tolist(), strict=True):
        assert not np.any(parts[:, t] & ~parts[:, s]), "a dependent without its prerequisite"
    assert set(parts.sum(axis=1).tolist()) == {0, 1, 2, 3, 4}


def test_first_question_on_a_chain_is_near_the_middle() -> None:
    idx = chain(9)
    q = dg.next_question(idx, dg.start(idx, CFG))
    assert q is not None and q.skill in {"S3", "S4", "S5"}


def test_evidence_propagates_along_the_graph() -> None:
    idx = diamond()
    st0 = dg.start(idx, CFG)
    up = dg.answer(idx, st0, "D", "D0", True).probabilities
    p0 = st0.probabilities
    assert all(up[i] > p0[i] for i in range(4)), "success on D is evidence for A, B and C"
    down = dg.answer(idx, st0, "A", "A0", False).probabilities
    assert all(down[i] < p0[i] for i in range(4)), "failure on A is evidence against B, C, D"


def test_diagnostic_of_a_chain_finds_the_boundary_and_stops() -> None:
    idx = chain(9)
    truth = {f"S{i}": i < 5 for i in range(9)}  # S0..S4 known
    state = dg.start(
        idx, dg.DiagnosticConfig(n_particles=4000, confidence=0.9, slip=0.01, guess=0.01)
    )
    while (q := dg.next_question(idx, state)) is not None:
        state = dg.answer(idx, state, q.skill, q.item, truth[q.skill])
    res = dg.finish(state)
    assert res.mastered == ("S0", "S1", "S2", "S3", "S4")
    assert res.questions <= 6  # a binary search over 10 boundaries, not 9 questions
    assert res.expected_accuracy >= 0.9


def test_diagnostic_stops_at_max_questions() -> None:
    idx = chain(9)
    state = dg.start(idx, dg.DiagnosticConfig(n_particles=1000, max_questions=2, confidence=1.0))
    for _ in range(2):
        q = dg.next_question(idx, state)
        assert q is not None
        state = dg.answer(idx, state, q.skill, q.item, True)
    assert state.done and dg.next_question(idx, state) is None


def test_state_round_trips_through_json_and_checks_the_curriculum() -> None:
    idx = diamond()
    state = dg.answer(idx, dg.start(idx, CFG), "B", "B0", True)
    back = dg.DiagnosticState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert back.answers == state.answers and back.config == state.config
    assert back.marginals == pytest.approx(state.marginals, abs=1e-6)
    with pytest.raises(RecommenderError, match="start a new diagnostic"):
        dg.DiagnosticState.from_dict({"version": "x"})
    other = CurriculumIndex(["A", "B"], [], [ItemSpec("B0", ("B",))])
    with pytest.raises(RecommenderError, match="curriculum changed"):
        dg.answer(other, state, "B", "B0", True)
    with pytest.raises(InvalidParameterError, match="assesses skill 'A'"):
        dg.answer(idx, state, "A", "B0", True)
