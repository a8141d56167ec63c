"""Each catalogue strategy on tiny hand-made data with a known answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.catalogue import STRATEGIES, make_strategy
from recommender.catalogue.clusters import LearnerClusters, pca_picture
from recommender.catalogue.content import ContentBased
from recommender.catalogue.data import history_matrix
from recommender.catalogue.graph_features import GraphFeatures
from recommender.catalogue.knn import ItemKNN, UserKNN
from recommender.catalogue.metrics import top_k
from recommender.catalogue.popularity import Popularity
from recommender.errors import InvalidParameterError
from tests.recommender.catalogue.helpers import blocks, three_users


def test_popularity_counts_learners() -> None:
    m, cat = three_users()
    s = Popularity()
    s.fit(m, cat)
    np.testing.assert_allclose(s.score(history_matrix([[3]], 4)), [[2, 2, 2, 1]])


def test_item_knn_on_three_users() -> None:
    m, cat = three_users()
    s = ItemKNN(k=3)
    s.fit(m, cat)
    # cos(0,1) = 2/sqrt(2*2) = 1, cos(0,2) = 1/sqrt(2*2) = 0.5, cos(0,3) = 0
    np.testing.assert_allclose(s.score(history_matrix([[0]], 4)), [[0, 1, 0.5, 0]])
    s1 = ItemKNN(k=1)
    s1.fit(m, cat)  # item 2's single neighbour is item 3 (cos 1/sqrt(2) > 0.5)
    np.testing.assert_allclose(s1.score(history_matrix([[2]], 4)), [[0, 0, 0, 1 / np.sqrt(2)]])


def test_user_knn_on_three_users() -> None:
    m, cat = three_users()
    s = UserKNN(k=1)
    s.fit(m, cat)
    # history {0}: cos with A = 1/sqrt(2), with B = 1/sqrt(3); only A is kept
    np.testing.assert_allclose(
        s.score(history_matrix([[0]], 4)), [[1, 1, 0, 0]] * np.array([1 / np.sqrt(2)])
    )
    s2 = UserKNN(k=2)
    s2.fit(m, cat)
    a, b = 1 / np.sqrt(2), 1 / np.sqrt(3)
    np.testing.assert_allclose(s2.score(history_matrix([[0]], 4)), [[a + b, a + b, b, 0]])


def test_content_prefers_items_of_the_same_skill_and_words() -> None:
    m, cat = three_users()
    s = ContentBased()
    s.fit(m, cat)
    assert top_k(s.score(history_matrix([[0]], 4))[0], 1, exclude={0}) == [1]
    assert top_k(s.score(history_matrix([[3]], 4))[0], 1, exclude={3}) == [2]


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_recommends_within_the_community(name: str) -> None:
    m, cat = blocks()
    s = make_strategy(name, seed=3, epochs=30)
    s.fit(m, cat)
    scores = s.score(history_matrix([[0, 1], [6, 7]], 12))
    assert scores.shape == (2, 12)
    if name == "popularity":  # the same for everyone: the one strategy that cannot tell
        return
    assert set(top_k(scores[0], 3, exclude={0, 1})) <= set(range(6))
    assert set(top_k(scores[1], 3, exclude={6, 7})) <= set(range(6, 12))


@pytest.mark.parametrize("name", ["nmf", "embedding", "clusters", "hybrid"])
def test_seeded_strategies_are_reproducible(name: str) -> None:
    m, cat = blocks()
    h = history_matrix([[0, 1], [6]], 12)
    runs = []
    for _ in range(2):
        s = make_strategy(name, seed=5, epochs=3)
        s.fit(m, cat)
        runs.append(s.score(h))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_unfitted_or_misshaped_input_is_refused() -> None:
    m, cat = three_users()
    with pytest.raises(InvalidParameterError, match="fit"):
        ItemKNN().score(history_matrix([[0]], 4))
    s = ItemKNN()
    s.fit(m, cat)
    with pytest.raises(InvalidParameterError, match="history"):
        s.score(history_matrix([[0]], 5))
    with pytest.raises(InvalidParameterError, match="strategy='nope'"):
        make_strategy("nope")


def test_clusters_split_the_communities_and_draw_them(tmp_path: Path) -> None:
    m, cat = blocks()
    s = LearnerClusters(clusters=2, seed=0)
    s.fit(m, cat)
    a, b = s.assign(history_matrix([[0, 2], [7, 9]], 12)).tolist()
    assert a != b
    out = pca_picture(s, tmp_path / "clusters.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph_features_by_hand() -> None:
    _, cat = three_users()  # fruit -> vehicles
    g = GraphFeatures(cat)
    coverage, readiness = g.compute(history_matrix([[], [0]], 4))
    np.testing.assert_allclose(coverage, [[0, 0, 0, 0], [1, 1, 0, 0]])
    # vehicles items need fruit: not ready before any fruit item, ready after one
    np.testing.assert_allclose(readiness, [[1, 1, 0, 0], [1, 1, 1, 1]])
