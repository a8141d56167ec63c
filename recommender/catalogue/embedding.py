"""A learned embedding model in torch: item embeddings, a learner embedding built from them,
dot product plus item bias, trained with the BPR loss.

Model (the factored item similarity model, Kabbur et al., KDD 2013, trained with BPR,
Rendle et al., UAI 2009): each item has a *context* embedding q_j, a *target* embedding p_i and
a bias b_i. A learner with history H is embedded as the mean of their items' context embeddings,
u_H = (1 / |H|) sum_{j in H} q_j, and score(H, i) = b_i + <u_H, p_i>. BPR maximises
log sigmoid(score(H \\ {i}, i) - score(H \\ {i}, j)) over taken-up items i and sampled items j
the learner did not take up, with an L2 penalty ``l2`` on the embeddings in the batch.

Because the learner embedding is the mean of item embeddings, a learner the model never saw is
embedded the same way (cold start from a few chosen items), and a new item can be placed by
averaging the embeddings of the catalogue items most like it (:mod:`.cold_start`).

Args:
    dim: embedding size (default 32). epochs (default 30, chosen over 10 on a validation
    split of the demo's training learners: ``benchmarks/bench_catalogue.py``).
    lr: Adam step (default 0.02).
    l2 (default 1e-4). batch: pairs per step (default 1024). pairs_per_learner: each step
    draws batch / pairs_per_learner learners (uniformly, so every learner weighs the same) and
    this many (taken-up, not taken-up) pairs of each, so a learner's embedding sum is computed
    once for all of them (default 8); an epoch is as many pairs as the matrix has entries.
    seed: torch and sampling seed.

Shapes: fit on learners x items (any positive entry = taken up); score (n, items) -> (n, items).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from recommender.catalogue.base import check_history, check_shapes
from recommender.catalogue.data import Catalogue
from recommender.errors import InvalidParameterError, MissingExtraError

if TYPE_CHECKING:
    import torch

ProgressFn = Callable[[str, float], None]


def require_torch(strategy: str = "embedding") -> ModuleType:
    """torch, imported when a model is fitted (scoring a fitted model is numpy only, and a
    server without the ``neural`` extra imports this module); without it,
    :class:`~recommender.errors.MissingExtraError` naming ``strategy`` and the extra."""
    try:
        import torch
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] != "torch":
            raise
        raise MissingExtraError(strategy, "neural", "torch") from exc
    return torch


def _row_sums(rows: sparse.csr_matrix, table: torch.Tensor) -> torch.Tensor:
    """sum_{j in row} table[j] for each row of a binary matrix: (rows, dim)."""
    th = require_torch()
    coo = rows.tocoo()
    out = th.zeros(rows.shape[0], table.shape[1])
    idx = th.from_numpy(coo.row.astype(np.int64))
    sums: torch.Tensor = out.index_add(0, idx, table[th.from_numpy(coo.col.astype(np.int64))])
    return sums


def bpr_loss(pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """-mean log sigmoid(pos - neg): the BPR objective for scores of pairs."""
    th = require_torch()
    loss: torch.Tensor = -th.nn.functional.logsigmoid(pos - neg).mean()
    return loss


class EmbeddingBPR:
    name = "embedding"

    def __init__(
        self,
        dim: int = 32,
        epochs: int = 30,
        lr: float = 0.02,
        l2: float = 1e-4,
        batch: int = 1024,
        pairs_per_learner: int = 8,
        seed: int = 0,
        progress: ProgressFn | None = None,
    ) -> None:
        checked = (
            ("dim", dim),
            ("epochs", epochs),
            ("batch", batch),
            ("pairs_per_learner", pairs_per_learner),
        )
        for name, value in checked:
            if value < 1:
                raise InvalidParameterError(name, value, "at least 1")
        self.dim, self.epochs, self.lr, self.l2, self.batch = dim, epochs, lr, l2, batch
        self.pairs_per_learner = pairs_per_learner
        self.seed = seed
        self.progress = progress
        self.context: np.ndarray | None = None  # q, items x dim
        self.target: np.ndarray | None = None  # p, items x dim
        self.bias: np.ndarray | None = None  # b, items

    def fit(self, train: sparse.csr_matrix, catalogue: Catalogue) -> None:
        check_shapes(train, catalogue)
        torch = require_torch()
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        a = sparse.csr_matrix((train > 0).astype(np.float32))
        n_items = a.shape[1]
        counts = np.diff(a.indptr)
        eligible = np.flatnonzero(counts >= 2)  # a pair needs another item as context
        n_pairs = int(counts[eligible].sum())
        q = torch.nn.Embedding(n_items, self.dim)
        p = torch.nn.Embedding(n_items, self.dim)
        b = torch.nn.Embedding(n_items, 1)
        for e in (q, p):
            torch.nn.init.normal_(e.weight, std=0.1)
        torch.nn.init.zeros_(b.weight)
        opt = torch.optim.Adam([*q.parameters(), *p.parameters(), *b.parameters()], lr=self.lr)
        per_step = max(1, self.batch // self.pairs_per_learner)
        steps = -(-n_pairs // (per_step * self.pairs_per_learner)) if len(eligible) else 0
        for epoch in range(self.epochs):
            total = 0.0
            for _ in range(steps):
                u = rng.choice(eligible, size=per_step)
                rows = np.repeat(np.arange(per_step), self.pairs_per_learner)
                uu = u[rows]
                i = a.indices[a.indptr[uu] + rng.integers(0, counts[uu])]
                j = rng.integers(0, n_items, size=len(uu))
                # one resampling round for negatives that the learner did take up
                taken = np.asarray(a[uu, j]).ravel() > 0
                j[taken] = rng.integers(0, n_items, size=int(taken.sum()))
                ti, tj = torch.from_numpy(i.astype(np.int64)), torch.from_numpy(j)
                sums = _row_sums(a[u], q.weight)[torch.from_numpy(rows)]
                qi = q(ti)
                ctx = (sums - qi) / torch.from_numpy(counts[uu] - 1).float().unsqueeze(1)
                pi, pj = p(ti), p(tj)
                pos = (ctx * pi).sum(1) + b(ti).squeeze(1)
                neg = (ctx * pj).sum(1) + b(tj).squeeze(1)
                reg = self.l2 * (qi.pow(2).sum() + pi.pow(2).sum() + pj.pow(2).sum()) / len(uu)
                loss = bpr_loss(pos, neg) + reg
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach())
            if self.progress is not None:
                mean = total / max(1, steps)
                self.progress(
                    f"embedding epoch {epoch + 1}/{self.epochs}: BPR loss {mean:.4f}",
                    (epoch + 1) / self.epochs,
                )
        self.context = q.weight.detach().numpy().astype(np.float64)
        self.target = p.weight.detach().numpy().astype(np.float64)
        self.bias = b.weight.detach().numpy().astype(np.float64).ravel()

    def learner_vectors(self, history: sparse.csr_matrix) -> np.ndarray:
        """u_H: the mean context embedding of each history row (zeros for an empty row)."""
        check_history(history, None if self.context is None else self.context.shape[0])
        assert self.context is not None
        h = sparse.csr_matrix((history > 0).astype(np.float64))
        n = np.maximum(np.diff(h.indptr), 1)[:, None]
        out: np.ndarray = np.asarray(h @ self.context) / n
        return out

    def score(self, history: sparse.csr_matrix) -> np.ndarray:
        u = self.learner_vectors(history)
        assert self.target is not None and self.bias is not None
        out: np.ndarray = u @ self.target.T + self.bias[None, :]
        return out
