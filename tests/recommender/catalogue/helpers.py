"""Tiny hand-made interaction data for the catalogue strategies."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from recommender.catalogue.data import Catalogue


def three_users() -> tuple[sparse.csr_matrix, Catalogue]:
    """A: items 0, 1; B: 0, 1, 2; C: 2, 3 (entries are the order of uptake)."""
    m = sparse.csr_matrix(np.array([[1, 2, 0, 0], [1, 2, 3, 0], [0, 0, 1, 2]], dtype=float))
    cat = Catalogue(
        ("a", "b", "c", "d"),
        ("apples and pears", "pears", "cars and trucks", "trucks"),
        (("fruit",), ("fruit",), ("vehicles",), ("vehicles",)),
        (("fruit", "vehicles"),),
    )
    return m, cat


def blocks(n_learners: int = 40, seed: int = 0) -> tuple[sparse.csr_matrix, Catalogue]:
    """Two communities: even learners take up 4 of items 0-5, odd ones 4 of items 6-11."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((n_learners, 12))
    for u in range(n_learners):
        base = 0 if u % 2 == 0 else 6
        chosen = base + rng.permutation(6)[:4]
        rows[u, chosen] = np.arange(1, 5)
    cat = Catalogue(
        tuple(f"i{i}" for i in range(12)),
        tuple(("fractions halves" if i < 6 else "clocks hours") + f" item {i}" for i in range(12)),
        tuple(("frac",) if i < 6 else ("time",) for i in range(12)),
    )
    return sparse.csr_matrix(rows), cat
