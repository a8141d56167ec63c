"""The held-out split every strategy is evaluated on: by learner, then by time within learner.

1. Learners with at least two items are shuffled (``seed``) and ``test_share`` of them are
   held out whole; every other learner's items are the training matrix.
2. Each held-out learner's items, in the order first taken up, are cut: the first
   ``1 - target_share`` (at least one) are the *history* the strategy sees, the rest are the
   *targets* it should rank at the top.

So no held-out learner's data is fitted on (strategies fold histories in), and no future item
of a held-out learner is in its history. Training entries are the 1-based order in which the
learner took the item up (strategies that only need presence read ``> 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from recommender.catalogue.data import Interactions
from recommender.catalogue.hybrid import cut_by_order
from recommender.errors import InvalidParameterError


@dataclass(frozen=True)
class Split:
    train: sparse.csr_matrix
    train_learners: tuple[str, ...]
    test_learners: tuple[str, ...]
    histories: tuple[tuple[int, ...], ...]
    targets: tuple[tuple[int, ...], ...]


def _rows(data: Interactions) -> list[list[int]]:
    """Each learner's items in the order first taken up (ties by item position)."""
    out: list[list[int]] = [[] for _ in range(data.n_learners)]
    for k in np.lexsort((data.cols, data.times, data.rows)).tolist():
        out[int(data.rows[k])].append(int(data.cols[k]))
    return out


def order_matrix(rows: list[list[int]], n_items: int) -> sparse.csr_matrix:
    """Learners x items, entry = 1-based order of uptake."""
    r = [k for k, items in enumerate(rows) for _ in items]
    c = [i for items in rows for i in items]
    v = [j + 1.0 for items in rows for j in range(len(items))]
    return sparse.csr_matrix((v, (r, c)), shape=(len(rows), n_items))


def split_by_learner_then_time(
    data: Interactions, *, test_share: float = 0.2, target_share: float = 0.2, seed: int = 0
) -> Split:
    for name, v in (("test_share", test_share), ("target_share", target_share)):
        if not 0 < v < 1:
            raise InvalidParameterError(name, v, "a share in (0, 1)")
    rows = _rows(data)
    eligible = [k for k, items in enumerate(rows) if len(items) >= 2]
    if len(eligible) < 2:
        raise InvalidParameterError(
            "interactions", len(eligible), "at least two learners with two or more items"
        )
    rng = np.random.default_rng(seed)
    n_test = min(len(eligible) - 1, max(1, round(test_share * len(eligible))))
    test = sorted(rng.permutation(eligible)[:n_test].tolist())
    test_set = set(test)
    train = [k for k in range(data.n_learners) if k not in test_set]
    hist, targ = [], []
    for k in test:
        cut = cut_by_order(np.asarray(rows[k]), target_share)
        hist.append(tuple(rows[k][:cut]))
        targ.append(tuple(rows[k][cut:]))
    return Split(
        train=order_matrix([rows[k] for k in train], data.n_items),
        train_learners=tuple(data.learner_ids[k] for k in train),
        test_learners=tuple(data.learner_ids[k] for k in test),
        histories=tuple(hist),
        targets=tuple(targ),
    )


def training_only(data: Interactions, split: Split) -> Interactions:
    """``data`` without the split's held-out learners: what a validation split (for choosing
    hyperparameters) may be cut from, so that no choice ever sees a test learner."""
    held = set(split.test_learners)
    keep_rows = [k for k, lr in enumerate(data.learner_ids) if lr not in held]
    remap = np.full(data.n_learners, -1, dtype=np.int64)
    remap[keep_rows] = np.arange(len(keep_rows))
    mask = remap[data.rows] >= 0
    return Interactions(
        learner_ids=tuple(data.learner_ids[k] for k in keep_rows),
        n_items=data.n_items,
        rows=remap[data.rows[mask]],
        cols=data.cols[mask],
        times=data.times[mask],
    )
