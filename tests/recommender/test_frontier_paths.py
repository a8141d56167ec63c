from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.errors import CurriculumCycleError, InvalidParameterError, UnknownIdError
from recommender.frontier import inner_fringe, outer_fringe, readiness
from recommender.index import CurriculumIndex, ItemSpec
from recommender.paths import expected_items, learning_path, ready_on_path, unblock_counts
from tests.recommender.helpers import chain, diamond, mastery_of, random_dag


def names(index: CurriculumIndex, pos: np.ndarray) -> list[str]:
    return [index.skill_ids[i] for i in pos.tolist()]


# -- index -----------------------------------------------------------------------------------
def test_index_topological_order_and_levels_of_diamond() -> None:
    idx = diamond()
    assert names(idx, idx.topo)[0] == "A" and names(idx, idx.topo)[-1] == "D"
    assert dict(zip(idx.skill_ids, idx.level.tolist(), strict=True)) == {
        "A": 0,
        "B": 1,
        "C": 1,
        "D": 2,
    }
    assert names(idx, idx.ancestors([idx.skill_pos["D"]])) == ["A", "B", "C", "D"]
    assert names(idx, idx.ancestors([idx.skill_pos["B"]], include_self=False)) == ["A"]
    assert names(idx, idx.descendants([idx.skill_pos["B"]])) == ["B", "D"]
    nodes, dist = idx.ancestor_distances(idx.skill_pos["D"])
    assert dict(zip(names(idx, nodes), dist.tolist(), strict=True)) == {
        "A": 2,
        "B": 1,
        "C": 1,
        "D": 0,
    }


def test_index_names_the_cycle() -> None:
    with pytest.raises(CurriculumCycleError) as err:
        CurriculumIndex(["a", "b", "c", "z"], [("a", "b", 1), ("b", "c", 1), ("c", "a", 1)])
    assert set(err.value.cycle) == {"a", "b", "c"} and err.value.cycle[0] == err.value.cycle[-1]
    assert "remove one of its edges" in str(err.value)


def test_index_rejects_unknown_skills_in_edges_and_items() -> None:
    with pytest.raises(UnknownIdError, match="'q'"):
        CurriculumIndex(["a"], [("a", "q", 1.0)])
    with pytest.raises(UnknownIdError, match="'nope'"):
        CurriculumIndex(["a"], [], [ItemSpec("i", ("nope",))])
    with pytest.raises(UnknownIdError, match="'X'"):
        diamond().skill_positions(["A", "X"])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 25), st.floats(0.0, 0.5))
def test_index_closures_match_networkx(seed: int, n: int, p: float) -> None:
    idx = random_dag(np.random.default_rng(seed), n, p)
    g = idx.to_networkx()
    rank = {s: r for r, s in enumerate(names(idx, idx.topo))}
    assert all(rank[u] < rank[v] for u, v in g.edges)
    for s in idx.skill_ids[:5]:
        i = idx.skill_pos[s]
        assert set(names(idx, idx.ancestors([i]))) == nx.ancestors(g, s) | {s}
        assert set(names(idx, idx.descendants([i], include_self=False))) == nx.descendants(g, s)


# -- frontier --------------------------------------------------------------------------------
def test_outer_fringe_of_diamond() -> None:
    idx = diamond()
    assert names(idx, outer_fringe(idx, mastery_of(idx))) == ["A"]
    assert names(idx, outer_fringe(idx, mastery_of(idx, A=0.9))) == ["B", "C"]
    # D needs both B and C
    assert names(idx, outer_fringe(idx, mastery_of(idx, A=0.9, B=0.95))) == ["C"]
    assert names(idx, outer_fringe(idx, mastery_of(idx, A=0.9, B=0.95, C=0.8))) == ["D"]
    # threshold is inclusive and configurable
    assert names(idx, outer_fringe(idx, mastery_of(idx, A=0.7), threshold=0.7)) == ["B", "C"]
    assert names(idx, outer_fringe(idx, mastery_of(idx, A=1, B=1, C=1, D=1))) == []


def test_weak_edges_do_not_block_when_asked() -> None:
    idx = CurriculumIndex(["a", "b", "c"], [("a", "c", 1.0), ("b", "c", 0.3)])
    m = mastery_of(idx, a=0.9)
    assert names(idx, outer_fringe(idx, m)) == ["b"]
    assert names(idx, outer_fringe(idx, m, min_strength=0.5)) == ["b", "c"]
    assert readiness(idx, m)[idx.skill_pos["c"]] == pytest.approx(1.0 / 1.3)


def test_inner_fringe_of_diamond_and_recency_order() -> None:
    idx = diamond()
    m = mastery_of(idx, A=0.9, B=0.9, C=0.9)
    assert names(idx, inner_fringe(idx, m)) == ["B", "C"]
    t = np.array([1.0, 5.0, 9.0, np.nan])
    assert names(idx, inner_fringe(idx, m, acquired_at=t)) == ["C", "B"]
    assert names(idx, inner_fringe(idx, mastery_of(idx, A=0.9))) == ["A"]


def test_frontier_rejects_bad_mastery_shape_and_threshold() -> None:
    idx = diamond()
    with pytest.raises(InvalidParameterError, match="shape"):
        outer_fringe(idx, np.zeros(3))
    with pytest.raises(InvalidParameterError, match="threshold"):
        outer_fringe(idx, np.zeros(4), threshold=1.5)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 20), st.floats(0.0, 0.6))
def test_outer_fringe_definition_property(seed: int, n: int, p: float) -> None:
    rng = np.random.default_rng(seed)
    idx = random_dag(rng, n, p)
    m = rng.random(n)
    g = idx.to_networkx()
    got = set(names(idx, outer_fringe(idx, m)))
    mastered = {s for s in idx.skill_ids if m[idx.skill_pos[s]] >= 0.8}
    want = {s for s in idx.skill_ids if s not in mastered and set(g.predecessors(s)) <= mastered}
    assert got == want
    inner = set(names(idx, inner_fringe(idx, m)))
    assert inner == {s for s in mastered if not set(g.successors(s)) & mastered}


# -- paths -----------------------------------------------------------------------------------
def test_expected_items_follow_bkt_learning() -> None:
    # from 0 with T=0.2: 1 - 0.8^n >= 0.8  <=>  n >= 7.21  ->  8
    assert expected_items(np.array([0.0, 0.5, 0.8, 0.95]), 0.8, 0.2).tolist() == [8, 5, 0, 0]


def test_path_of_diamond_orders_prerequisites_first_and_estimates_effort() -> None:
    idx = diamond()
    path = learning_path(idx, mastery_of(idx, A=0.9), ["D"])
    assert path.skills[-1] == "D" and set(path.skills[:2]) == {"B", "C"}
    # B's items are as long as C's, unblocks the same: topological tie-break keeps B first
    assert path.skills == ("B", "C", "D")
    assert [s.ready for s in path.steps] == [True, True, False]
    assert [s.unblocks for s in path.steps] == [1, 1, 0]
    assert path.estimated_items == 3 * 8
    # each skill's items take 30 s and 60 s: 45 s a practice on average
    assert path.estimated_seconds == pytest.approx(24 * 45.0)
    assert learning_path(idx, mastery_of(idx, A=1, B=1, C=1, D=1), ["D"]).steps == ()


def test_path_prefers_the_skill_that_unblocks_more_of_the_goal() -> None:
    # x unblocks y and g; z unblocks only g: x first although z sorts earlier topologically
    idx = CurriculumIndex(["z", "x", "y", "g"], [("x", "y", 1), ("y", "g", 1), ("z", "g", 1)])
    path = learning_path(idx, mastery_of(idx), ["g"])
    assert path.skills == ("x", "y", "z", "g") or path.skills == ("x", "z", "y", "g")
    assert path.skills[0] == "x"
    assert {s.skill: s.unblocks for s in path.steps} == {"x": 2, "y": 1, "z": 1, "g": 0}


def test_path_keeps_only_the_goal_closure_and_rejects_bad_goals() -> None:
    idx = CurriculumIndex(["a", "b", "c", "other"], [("a", "b", 1), ("b", "c", 1)])
    assert learning_path(idx, mastery_of(idx), ["b"]).skills == ("a", "b")
    with pytest.raises(UnknownIdError, match="'nope'"):
        learning_path(idx, mastery_of(idx), ["nope"])
    with pytest.raises(InvalidParameterError, match="goals"):
        learning_path(idx, mastery_of(idx), [])


def test_unblock_counts_exact_and_approximate_agree_on_a_chain() -> None:
    idx = chain(6)
    nodes = np.arange(6)
    assert unblock_counts(idx, nodes).tolist() == [5, 4, 3, 2, 1, 0]
    assert unblock_counts(idx, nodes, exact_limit=0).tolist() == [5, 4, 3, 2, 1, 0]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 25), st.floats(0.0, 0.5))
def test_path_is_a_topological_order_of_the_unmastered_closure(seed: int, n: int, p: float) -> None:
    rng = np.random.default_rng(seed)
    idx = random_dag(rng, n, p)
    m = np.where(rng.random(n) < 0.4, 0.9, rng.random(n) * 0.8)
    goal = idx.skill_ids[int(rng.integers(n))]
    g = idx.to_networkx()
    path = learning_path(idx, m, [goal])
    closure = nx.ancestors(g, goal) | {goal}
    assert set(path.skills) == {s for s in closure if m[idx.skill_pos[s]] < 0.8}
    pos = {s: i for i, s in enumerate(path.skills)}
    assert all(pos[u] < pos[v] for u, v in g.edges if u in pos and v in pos)
    for step in path.steps:
        want = len(nx.descendants(g.subgraph(path.skills), step.skill))
        assert step.unblocks == want
    ready = ready_on_path(idx, m, [goal])
    assert ready.remaining == len(path.steps)
    assert {idx.skill_ids[i] for i in ready.skills.tolist()} == {
        s.skill for s in path.steps if s.ready
    }
    if path.steps:
        assert idx.skill_ids[int(ready.skills[0])] == path.skills[0]
