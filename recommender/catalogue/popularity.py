"""Popularity: every learner gets the items most learners took up (the baseline to beat)."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommender.catalogue.base import check_history, check_shapes
from recommender.catalogue.data import Catalogue


class Popularity:
    """score(u, i) = number of training learners who took item i up."""

    name = "popularity"

    def __init__(self) -> None:
        self.counts: np.ndarray | None = None

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None:
        check_shapes(train, catalogue)
        self.counts = np.asarray((train > 0).sum(axis=0), dtype=np.float64).ravel()

    def score(self, history: sparse.csr_matrix) -> np.ndarray:
        check_history(history, None if self.counts is None else len(self.counts))
        assert self.counts is not None
        return np.tile(self.counts, (history.shape[0], 1))
