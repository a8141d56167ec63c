"""The GNN's skill graph when every learner answers in one order: the order test, the
co-correctness graph by hand, and the rule that picks it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracing.base import Interaction, TracingError, Vocabulary
from tracing.gnn import GNNTracer
from tracing.gnn_skill_graph import correlation_graph, one_order

# four questions, each its own skill
V4 = Vocabulary(("q0", "q1", "q2", "q3"), ("s0", "s1", "s2", "s3"), ((0,), (1,), (2,), (3,)))


def answers(*rows: tuple[int, ...], order: tuple[int, ...] = (0, 1, 2, 3)) -> list[
        list[Interaction]]:
    """One learner per row: row[k] is the answer to question ``order[k]``."""
    return [[Interaction(q, (q,), c) for q, c in zip(order, row, strict=False)] for row in rows]


def test_one_order_accepts_prefixes_of_one_order_only() -> None:
    same = answers((1, 0, 1, 1), (0, 0, 1, 0), (1, 1))  # the third stopped after two
    assert one_order(same, V4)
    shuffled = same + answers((1, 1, 0, 0), order=(1, 0, 2, 3))
    assert not one_order(shuffled, V4)
    assert not one_order(answers((1, 0, 1, 1)), V4)  # one learner says nothing about order
    # items on the same skill count as the same step: the order is of skills, not items
    v = Vocabulary(("a", "a2", "b"), ("s0", "s1"), ((0,), (0,), (1,)))
    seqs = [[Interaction(0, (0,), 1), Interaction(2, (1,), 0)],
            [Interaction(1, (0,), 0), Interaction(2, (1,), 1)]]
    assert one_order(seqs, v)


def test_correlation_graph_by_hand() -> None:
    # s0 and s1 agree on every learner, s2 is their opposite, s3 is constant (no variance)
    rows = [(1, 1, 0, 1), (0, 0, 1, 1), (1, 1, 0, 1), (0, 0, 1, 1)]
    edges = correlation_graph(answers(*rows), V4, top_k=8, min_count=2)
    assert edges == [(0, 1, 1.0), (1, 0, 1.0)]  # negative and undefined correlations: no edge
    # too few learners who answered both: no edge
    assert correlation_graph(answers(*rows), V4, top_k=8, min_count=5) == []


def test_correlation_graph_weights_are_shares_of_the_kept_correlations() -> None:
    # s0 = s1 exactly (rho 1); s2 agrees with s0 on 3 of 4 learners
    rows = [(1, 1, 1, 0), (0, 0, 0, 1), (1, 1, 0, 1), (0, 0, 0, 0)]
    x = np.array(rows, dtype=float)
    rho02 = float(np.corrcoef(x[:, 0], x[:, 2])[0, 1])
    edges = {(a, b): w for a, b, w in correlation_graph(answers(*rows), V4, 8, 2)}
    assert rho02 > 0 and math.isclose(edges[(0, 1)], 1 / (1 + rho02))
    assert math.isclose(edges[(0, 2)], rho02 / (1 + rho02))
    assert math.isclose(edges[(2, 0)], 0.5) and math.isclose(edges[(2, 1)], 0.5)
    # top_k = 1 keeps the strongest only
    top1 = correlation_graph(answers(*rows), V4, 1, 2)
    assert [(a, b) for a, b, _ in top1 if a == 0] == [(0, 1)]
    # a learner who skipped s2 is left out of the s0-s2 correlation, not counted as wrong
    skipped = answers(*rows) + [[Interaction(0, (0,), 1), Interaction(1, (1,), 1)]]
    again = {(a, b): w for a, b, w in correlation_graph(skipped, V4, 8, 2)}
    assert math.isclose(again[(0, 2)], edges[(0, 2)]) and math.isclose(again[(0, 1)],
                                                                         edges[(0, 1)])


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(st.integers(0, 1), min_size=4, max_size=4), min_size=2, max_size=12),
    top_k=st.integers(1, 3),
    min_count=st.integers(1, 6),
)
def test_correlation_graph_edges_are_bounded_shares_of_positive_correlations(
    rows: list[list[int]], top_k: int, min_count: int
) -> None:
    edges = correlation_graph(answers(*map(tuple, rows)), V4, top_k, min_count)
    x = np.array(rows, dtype=float)
    by_src: dict[int, list[float]] = {}
    for a, b, w in edges:
        assert a != b and w > 0
        by_src.setdefault(a, []).append(w)
        assert len(rows) >= min_count  # every learner answered both here
        assert np.corrcoef(x[:, a], x[:, b])[0, 1] > 0
    for ws in by_src.values():
        assert len(ws) <= top_k and math.isclose(sum(ws), 1.0)


def fixed_order_learners(n: int, seed: int) -> list[list[Interaction]]:
    """Questions 0..3 always in order; q0/q1 share one hidden ability, q2/q3 another."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        a, b = rng.random() < 0.5, rng.random() < 0.5
        p = (0.9 if a else 0.1, 0.9 if a else 0.1, 0.9 if b else 0.1, 0.9 if b else 0.1)
        out.append([Interaction(q, (q,), int(rng.random() < p[q])) for q in range(4)])
    return out


def small(**kw: object) -> GNNTracer:
    args: dict[str, object] = {"embed_dim": 8, "hidden_size": 8, "max_epochs": 1,
                               "batch_size": 16, "valid_fraction": 0.0, "min_count": 2}
    args.update(kw)
    return GNNTracer(**args)  # type: ignore[arg-type]


def test_auto_derives_the_correlation_graph_when_all_learners_share_one_order() -> None:
    t = small().fit(fixed_order_learners(60, seed=0), V4, seed=0)
    assert t._extra["skill_graph"] == "correlations"
    pairs = {(a, b) for a, b, _ in t._extra["skill_edges"]}
    assert {(0, 1), (1, 0), (2, 3), (3, 2)} <= pairs  # the hidden abilities, recovered
    assert t.hyperparameters()["skill_graph"] == "auto"


def test_auto_keeps_transitions_when_orders_differ_and_the_setting_overrides() -> None:
    seqs = fixed_order_learners(60, seed=0)
    seqs[0] = seqs[0][::-1]  # one learner in another order
    assert small().fit(seqs, V4, seed=0)._extra["skill_graph"] == "transitions"
    forced = small(skill_graph="transitions").fit(fixed_order_learners(60, 0), V4, seed=0)
    assert forced._extra["skill_graph"] == "transitions"
    assert {(a, b) for a, b, _ in forced._extra["skill_edges"]} == {(0, 1), (1, 2), (2, 3)}
    chosen = small(skill_graph="correlations").fit(seqs, V4, seed=0)
    assert chosen._extra["skill_graph"] == "correlations"
    # a curriculum still wins over either derived graph
    v = Vocabulary(V4.item_ids, V4.skill_ids, V4.item_skills, prerequisites=((0, 2),))
    assert small().fit(fixed_order_learners(20, 1), v, seed=0)._extra["skill_graph"] == (
        "prerequisites")


def test_bad_skill_graph_setting_is_a_typed_error() -> None:
    with pytest.raises(TracingError, match="skill_graph='cooccurrence'"):
        GNNTracer(skill_graph="cooccurrence")
