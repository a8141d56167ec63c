"""Ranking metrics: hand-computed values, and NDCG against scikit-learn's ndcg_score."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import ndcg_score

from recommender.catalogue.metrics import (
    catalogue_coverage,
    mean_metrics,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    top_k,
)
from recommender.errors import InvalidParameterError


def test_hand_computed_values() -> None:
    ranked, relevant = [3, 1, 4, 2], {1, 2, 9}
    assert precision_at_k(ranked, relevant, 2) == 0.5
    assert recall_at_k(ranked, relevant, 4) == pytest.approx(2 / 3)
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, relevant, 4) == pytest.approx(dcg / idcg)
    assert ndcg_at_k([1, 2], {1, 2}, 2) == pytest.approx(1.0)
    assert catalogue_coverage([[0, 1], [1, 2]], 8, 2) == pytest.approx(3 / 8)
    assert catalogue_coverage([[0, 1], [1, 2]], 8, 1) == pytest.approx(2 / 8)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=12, unique=True),
    st.data(),
    st.integers(1, 6),
)
def test_ndcg_matches_sklearn(scores: list[float], data: st.DataObject, k: int) -> None:
    n = len(scores)
    rel = data.draw(st.sets(st.integers(0, n - 1), min_size=1))
    ranked = top_k(np.array(scores), n)
    truth = np.array([[1.0 if i in rel else 0.0 for i in range(n)]])
    expected = ndcg_score(truth, np.array([scores]), k=k)
    assert ndcg_at_k(ranked, rel, k) == pytest.approx(expected)


def test_top_k_excludes_and_breaks_ties_by_position() -> None:
    assert top_k(np.array([1.0, 3.0, 3.0, 2.0]), 3) == [1, 2, 3]
    assert top_k(np.array([1.0, 3.0, 3.0, 2.0]), 3, exclude={1}) == [2, 3, 0]
    assert top_k(np.array([1.0, 2.0]), 5, exclude={0, 1}) == []


def test_mean_skips_learners_without_targets_and_checks_input() -> None:
    out = mean_metrics([[0, 1], [2, 3]], [{0}, set()], 4, 2)
    assert out["precision@2"] == 0.5 and out["recall@2"] == 1.0 and out["coverage"] == 1.0
    with pytest.raises(InvalidParameterError, match="k=0"):
        precision_at_k([1], {1}, 0)
    with pytest.raises(InvalidParameterError, match="relevant"):
        mean_metrics([[0]], [set()], 4, 1)
