"""Neighbourhood collaborative filtering: item-kNN and user-kNN on the binary interaction matrix.

Item-kNN (Sarwar et al., WWW 2001; Deshpande & Karypis, TOIS 2004): cosine similarity between
item columns, s(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|), each item keeping its ``k`` most
similar neighbours; score(u, i) = sum over items j in u's history of s(j, i).

User-kNN (Herlocker et al., SIGIR 1999): cosine similarity between the history row and every
training learner's row, the ``k`` most similar kept; score(u, i) = sum over those neighbours v
of sim(u, v) * r(v, i).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommender.catalogue.base import check_history, check_shapes, row_normalise
from recommender.catalogue.data import Catalogue
from recommender.errors import InvalidParameterError


def _check_k(k: int) -> None:
    if k < 1:
        raise InvalidParameterError("k", k, "at least one neighbour")


def keep_top_k_per_row(m: np.ndarray, k: int) -> np.ndarray:
    """Zero all but the ``k`` largest entries of each row (ties: lower column first)."""
    if k >= m.shape[1]:
        return m
    out = np.zeros_like(m)
    order = np.argsort(-m, axis=1, kind="stable")[:, :k]
    rows = np.arange(m.shape[0])[:, None]
    out[rows, order] = m[rows, order]
    return out


def item_cosine(train: sparse.csr_matrix) -> np.ndarray:
    """Item x item cosine similarity of the columns, diagonal zeroed."""
    cols = row_normalise(sparse.csr_matrix((train > 0).T.astype(np.float64)))
    sim = np.asarray((cols @ cols.T).todense())
    np.fill_diagonal(sim, 0.0)
    return sim


class ItemKNN:
    """Args: k: neighbours kept per item (default 50)."""

    name = "item-knn"

    def __init__(self, k: int = 50) -> None:
        _check_k(k)
        self.k = k
        self.sim: np.ndarray | None = None

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None:
        check_shapes(train, catalogue)
        self.sim = keep_top_k_per_row(item_cosine(train), self.k)

    def score(self, history: sparse.csr_matrix) -> np.ndarray:
        check_history(history, None if self.sim is None else self.sim.shape[0])
        assert self.sim is not None
        return np.asarray(history @ self.sim)


class UserKNN:
    """Args: k: most similar training learners used (default 50)."""

    name = "user-knn"

    def __init__(self, k: int = 50) -> None:
        _check_k(k)
        self.k = k
        self.train: sparse.csr_matrix | None = None
        self.train_unit: sparse.csr_matrix | None = None

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None:
        check_shapes(train, catalogue)
        self.train = sparse.csr_matrix((train > 0).astype(np.float64))
        self.train_unit = row_normalise(self.train)

    def score(self, history: sparse.csr_matrix) -> np.ndarray:
        check_history(history, None if self.train is None else self.train.shape[1])
        assert self.train is not None and self.train_unit is not None
        sims = np.asarray((row_normalise(history) @ self.train_unit.T).todense())
        sims = keep_top_k_per_row(sims, self.k)
        return np.asarray((sparse.csr_matrix(sims) @ self.train).toarray())
