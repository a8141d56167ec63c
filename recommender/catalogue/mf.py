"""Matrix factorisation: non-negative factors of the interaction matrix (scikit-learn ``NMF``).

R ≈ W H with W >= 0 (learners x f) and H >= 0 (f x items), fitted by coordinate descent on the
Frobenius loss with an L2 penalty ``alpha`` (Lee & Seung, NIPS 2000; Cichocki & Phan 2009).
A history h (trained learner or not) is folded in by solving for its factors with H fixed
(``NMF.transform``); score = w_h H. ``implicit``'s ALS installs here as a wheel too, but NMF
covers the factorisation idea without another compiled dependency.

Args: factors (default 16), alpha (default 0.0), max_iter (default 200), seed (default 0).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from recommender.catalogue.base import check_history, check_shapes
from recommender.catalogue.data import Catalogue
from recommender.errors import InvalidParameterError


class NMFStrategy:
    name = "nmf"

    def __init__(
        self, factors: int = 16, alpha: float = 0.0, max_iter: int = 200, seed: int = 0
    ) -> None:
        if factors < 1:
            raise InvalidParameterError("factors", factors, "at least 1")
        self.factors = factors
        self.alpha = alpha
        self.max_iter = max_iter
        self.seed = seed
        self.model: NMF | None = None
        self.n_items: int | None = None

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None:
        check_shapes(train, catalogue)
        f = max(1, min(self.factors, *train.shape))
        self.model = NMF(
            n_components=f,
            init="nndsvda",
            alpha_W=self.alpha,
            alpha_H="same",
            max_iter=self.max_iter,
            random_state=self.seed,
        )
        with warnings.catch_warnings():  # a capped iteration count is a choice, not a fault
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(sparse.csr_matrix((train > 0).astype(np.float64)))
        self.n_items = catalogue.n_items

    def score(self, history: sparse.csr_matrix) -> np.ndarray:
        check_history(history, self.n_items)
        assert self.model is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            w = self.model.transform(sparse.csr_matrix(history, dtype=np.float64))
        return np.asarray(w @ self.model.components_)
