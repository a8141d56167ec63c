"""A hybrid: base strategies' scores and graph features fed to a tree ensemble.

For each (learner, item) pair the features are the embedding model's score, the item-kNN
score, the content score, log(1 + popularity) and the graph features of
:mod:`.graph_features` (coverage and readiness). A scikit-learn
``HistGradientBoostingClassifier`` learns P(the learner takes the item up next) from them.

Training without leakage: the training learners are split (``ranker_share``, seeded); the base
strategies are fitted on the others only. Each ranker learner's items, in the order taken up,
are cut like the evaluation cuts a test learner (the first ``1 - target_share`` are the
history); the ranker's rows are every later item (label 1) and ``negatives`` items drawn
uniformly from those the learner did not take up (label 0): the same population of items the
ranker later scores, so it learns to rank the whole catalogue. Serving scores every item.

Args: ranker_share (0.2), target_share (0.2), negatives (200), seed (0), embedding_epochs (30),
max_iter: boosting rounds (100).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingClassifier

from recommender.catalogue.base import check_history, check_shapes
from recommender.catalogue.content import ContentBased
from recommender.catalogue.data import Catalogue, history_matrix
from recommender.catalogue.embedding import EmbeddingBPR, ProgressFn, require_torch
from recommender.catalogue.graph_features import GraphFeatures
from recommender.catalogue.knn import ItemKNN
from recommender.catalogue.popularity import Popularity
from recommender.errors import InvalidParameterError

FEATURES = ("embedding", "item_knn", "content", "log_popularity", "coverage", "readiness")


def cut_by_order(order: np.ndarray, target_share: float) -> int:
    """How many of a learner's ``len(order)`` items are history (the rest are targets):
    ``floor((1 - target_share) n)``, at least 1 and at most n - 1 (for n >= 2)."""
    n = len(order)
    return int(min(n - 1, max(1, np.floor((1 - target_share) * n))))


def split_rows(
    train: sparse.csr_matrix, target_share: float
) -> tuple[list[list[int]], list[list[int]]]:
    """Each row's items by their entry (order of uptake): (history, later) item lists; rows
    with fewer than two items give empty lists."""
    hist: list[list[int]] = []
    late: list[list[int]] = []
    for r in range(train.shape[0]):
        lo, hi = train.indptr[r], train.indptr[r + 1]
        cols, vals = train.indices[lo:hi], train.data[lo:hi]
        items = cols[np.lexsort((cols, vals))].tolist()
        if len(items) < 2:
            hist.append([])
            late.append([])
            continue
        cut = cut_by_order(np.asarray(items), target_share)
        hist.append(items[:cut])
        late.append(items[cut:])
    return hist, late


class Hybrid:
    name = "hybrid"

    def __init__(
        self,
        ranker_share: float = 0.2,
        target_share: float = 0.2,
        negatives: int = 200,
        seed: int = 0,
        embedding_epochs: int = 30,
        max_iter: int = 100,
        progress: ProgressFn | None = None,
    ) -> None:
        if not 0 < ranker_share < 1:
            raise InvalidParameterError("ranker_share", ranker_share, "a share in (0, 1)")
        self.ranker_share, self.target_share = ranker_share, target_share
        self.negatives, self.seed, self.max_iter = negatives, seed, max_iter
        self.embedding = EmbeddingBPR(epochs=embedding_epochs, seed=seed, progress=progress)
        self.item_knn = ItemKNN()
        self.content = ContentBased()
        self.popularity = Popularity()
        self.graph: GraphFeatures | None = None
        self.model: HistGradientBoostingClassifier | None = None
        self.n_items: int | None = None

    def _features(self, history: sparse.csr_matrix) -> np.ndarray:
        """(learners, items, features)."""
        assert self.graph is not None and self.popularity.counts is not None
        coverage, readiness = self.graph.compute(history)
        n = history.shape[0]
        pop = np.tile(np.log1p(self.popularity.counts), (n, 1))
        parts = [
            self.embedding.score(history),
            self.item_knn.score(history),
            self.content.score(history),
            pop,
            coverage,
            readiness,
        ]
        return np.stack(parts, axis=2)

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None:
        check_shapes(train, catalogue)
        rng = np.random.default_rng(self.seed)
        n = train.shape[0]
        ranker = rng.random(n) < self.ranker_share
        if ranker.all() or not ranker.any():
            ranker = np.zeros(n, dtype=bool)
            ranker[rng.permutation(n)[: max(1, n // 5)]] = True
        require_torch("hybrid")  # before any fit: the embedding model trains in torch
        base = sparse.csr_matrix(train[~ranker])
        for s in (self.embedding, self.item_knn, self.content, self.popularity):
            s.fit(base, catalogue)
        self.graph = GraphFeatures(catalogue)
        hist, late = split_rows(sparse.csr_matrix(train[ranker]), self.target_share)
        keep = [k for k, h in enumerate(hist) if h]
        if not keep:
            raise InvalidParameterError("train", n, "ranker learners with two or more items")
        h = history_matrix([hist[k] for k in keep], catalogue.n_items)
        feats = self._features(h)
        xs, ys = [], []
        for row, k in enumerate(keep):
            seen, pos = set(hist[k]), set(late[k])
            pool = np.array([i for i in range(catalogue.n_items) if i not in seen and i not in pos])
            neg = rng.choice(pool, size=min(len(pool), self.negatives), replace=False)
            cols = sorted(pos) + sorted(neg.tolist())
            xs.append(feats[row, cols])
            ys.extend([1] * len(pos) + [0] * len(neg))
        self.model = HistGradientBoostingClassifier(
            max_iter=self.max_iter, random_state=self.seed, early_stopping=False
        )
        self.model.fit(np.concatenate(xs), np.asarray(ys))
        self.n_items = catalogue.n_items

    def score(self, history: sparse.csr_matrix) -> np.ndarray:
        check_history(history, self.n_items)
        assert self.model is not None
        feats = self._features(history)
        n, m, f = feats.shape
        p = np.asarray(self.model.predict_proba(feats.reshape(n * m, f)))
        return p[:, 1].reshape(n, m)
