"""The surface every catalogue strategy shares, so evaluation and serving treat them alike.

A strategy is fitted once on a training matrix (learners x items, binary) and the catalogue,
then scores *histories*: rows of items that learners (trained on or not) have taken up. Scoring
from a history, not from a trained learner's row, is what lets one fitted model serve a learner
it never saw (cold start: a few chosen items) and lets evaluation hold out whole learners.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy import sparse

from recommender.catalogue.data import Catalogue
from recommender.errors import InvalidParameterError


class Strategy(Protocol):
    """``fit(train, catalogue)`` then ``score(history) -> (learners, items)`` scores; higher
    is more recommended. Items already in a history may get any score: callers exclude them."""

    name: str

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None: ...

    def score(self, history: sparse.csr_matrix) -> np.ndarray: ...


def check_shapes(train: sparse.csr_matrix, catalogue: Catalogue) -> None:
    if train.shape[1] != catalogue.n_items:
        raise InvalidParameterError(
            "train", train.shape, f"a matrix with {catalogue.n_items} item columns"
        )


def check_history(history: sparse.csr_matrix, n_items: int | None) -> None:
    if n_items is None:
        raise InvalidParameterError("strategy", "unfitted", "fit() before score()")
    if history.shape[1] != n_items:
        raise InvalidParameterError("history", history.shape, f"{n_items} item columns")


def row_normalise(m: sparse.csr_matrix) -> sparse.csr_matrix:
    """Rows scaled to unit L2 norm (empty rows stay empty)."""
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1))).ravel()
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ m)
