r"""Question-level parts of the graph-neural tracer: attention over the learner's recent
answers, and per-item difficulty and discrimination (IRT) terms.

Papers:

- AKT: A. Ghosh, N. Heffernan, A. Lan, "Context-Aware Attentive Knowledge Tracing", KDD 2020
  -- attention of the target question over the learner's past answers, with a *monotonic*
  (exponentially decaying in time) weight, and Rasch-model question terms.
- simpleKT: Z. Liu, Q. Liu, J. Chen, S. Huang, W. Luo, "simpleKT: A Simple But Tough-to-Beat
  Baseline for Knowledge Tracing", ICLR 2023 -- plain scaled dot-product attention with
  Rasch-style question embeddings is enough.
- 2PL IRT (Birnbaum, 1968): a question's discrimination scales, its difficulty shifts the
  logit.

**Recent-answer attention.** For the answer at position ``t`` to item ``q`` and the learner's
answers ``j = t-1, ..., t-W`` (at most ``W``; none before the first answer), with
:math:`\mathbf{e}` the GCN item embeddings and :math:`r_j` the past labels:

.. math::
    s_{tj} &= \frac{(\mathbf{W}_Q \mathbf{e}_q)^\top (\mathbf{W}_K \mathbf{e}_{q_j})}{\sqrt{D}}
        - \theta\,(t - j), \qquad \theta = \mathrm{softplus}(\vartheta) \ge 0 \\
    \mathbf{c}_t(q) &= \sum_j \mathrm{softmax}_j(s_{tj})\;
        \mathbf{W}_V [\,r_j \mathbf{e}_{q_j} ;\, (1 - r_j)\mathbf{e}_{q_j}\,]
        \qquad (\mathbf{0} \text{ when there is no past answer})

The :math:`-\theta (t - j)` term multiplies each unnormalised weight by
:math:`e^{-\theta (t-j)}`: AKT's monotonic decay, with the plain distance in answers in place
of AKT's context-aware distance. Bounding the window to ``W`` answers keeps the online cost
fixed: the state holds the last ``W`` (item, label) pairs, ``update`` shifts them (O(W)), a
prediction is one ``(n, W)`` attention.

**Item terms** (``irt="2pl"``; ``"1pl"`` keeps the difficulty only; ``"auto"``, the GNN's
default, is ``"2pl"`` on question-level data and off where each item is its own skill, see
:func:`resolve_irt`): with the network's logit
:math:`z_t(q)`,

.. math::  \mathrm{logit}\,P(r_t = 1 \mid q) = e^{\alpha_q}\, z_t(q) - \beta_q

:math:`\alpha_q, \beta_q` start at 0, are L2-penalised (``irt_l2``, AKT's regularisation of its
Rasch scalars) and are 0 for items never answered in training (cold start leaves the logit
as the graph gives it). Mastery of a skill uses the mean :math:`\alpha, \beta` of its items.

Shapes: ``item_emb`` ``(B, T, D)``, ``correct`` / ``mask`` ``(B, T)`` ->
``(B, T, D)`` contexts; online, ``(n, D)`` query embeddings against ``(W, D)`` keys.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from tracing.base import Vocabulary

IRT_KINDS = ("auto", "none", "1pl", "2pl")


def items_are_skills(vocab: Vocabulary) -> bool:
    """Whether ``vocab`` is skill-level data: every item has exactly one skill and no two items
    share one (ASSISTments 2015, the DKT paper's synthetic set), so a per-item term is a
    per-skill term the item embedding already carries."""
    firsts = [sk[0] for sk in vocab.item_skills if len(sk) == 1]
    return len(firsts) == vocab.n_items and len(set(firsts)) == len(firsts)


def resolve_irt(kind: str, vocab: Vocabulary) -> str:
    """The item terms used on ``vocab``: ``kind`` itself, except ``"auto"``, which is
    ``"2pl"`` on question-level data (items are not one-to-one with skills) and ``"none"``
    on skill-level data (:func:`items_are_skills`)."""
    if kind != "auto":
        return kind
    return "none" if items_are_skills(vocab) else "2pl"


def recent_attention(
    query: Tensor, keys: Tensor, values: Tensor, mask: Tensor, window: int, decay: Tensor,
    block: int = 256,
) -> Tensor:
    r"""The contexts :math:`\mathbf{c}_t` of the module docstring for a padded batch.

    ``query``: ``(B, T, D)`` projected target embeddings; ``keys`` / ``values``: ``(B, T, D)``
    projected embeddings of the answers themselves (row ``j`` is answer ``j``); ``mask``
    ``(B, T)`` real answers; ``decay`` the scalar :math:`\theta`. Row ``t`` attends to rows
    ``t-1 .. t-window`` only, so the answer scored is never its own context. Queries go in
    blocks of ``block`` rows, each against its ``block + window`` candidate keys (one batched
    matrix product, a band mask), so memory stays ``O(B block (block + W))`` on long
    sequences. Returns ``(B, T, D)``.
    """
    b, t, d = query.shape
    out = query.new_zeros(b, t, d)
    scale = 1.0 / math.sqrt(d)
    for s in range(0, t, block):
        e = min(s + block, t)
        ks = max(0, s - window)
        pos_q = torch.arange(s, e).view(-1, 1)
        pos_k = torch.arange(ks, e).view(1, -1)
        dist = (pos_q - pos_k).to(query.dtype)  # (Lq, Lk), t - j
        band = (dist >= 1) & (dist <= window)
        ok = band.unsqueeze(0) & mask[:, ks:e].unsqueeze(1)  # (B, Lq, Lk)
        sc = query[:, s:e] @ keys[:, ks:e].transpose(1, 2) * scale - decay * dist
        sc = sc.masked_fill(~ok, float("-inf"))
        any_ok = ok.any(-1, keepdim=True)
        a = torch.softmax(torch.where(any_ok, sc, torch.zeros_like(sc)), dim=-1) * ok
        out[:, s:e] = a @ values[:, ks:e]
    return out


def recent_attention_online(
    query: Tensor, keys: Tensor, values: Tensor, n_recent: int, decay: Tensor
) -> Tensor:
    """The same contexts for one learner: ``query`` ``(n, D)`` targets; ``keys`` / ``values``
    ``(W, D)`` of the last answers, most recent first (row ``k`` is ``k + 1`` answers back),
    of which the first ``n_recent`` are real. Returns ``(n, D)`` (zeros when none is)."""
    if n_recent == 0:
        return query.new_zeros(query.shape)
    k_, v_ = keys[:n_recent], values[:n_recent]
    dist = torch.arange(1, n_recent + 1, dtype=query.dtype)
    s = query @ k_.T / math.sqrt(query.shape[-1]) - decay * dist
    out: Tensor = torch.softmax(s, dim=-1) @ v_
    return out


def push_recent(items: np.ndarray, correct: np.ndarray, item: int, label: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """The last-``W`` buffers after one more answer (new arrays, most recent first; ``-1``
    marks empty slots)."""
    it = np.concatenate([[item], items[:-1]]).astype(np.int64)
    co = np.concatenate([[float(label)], correct[:-1]]).astype(np.float32)
    return it, co


def recent_from_history(items: np.ndarray, correct: np.ndarray, window: int
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The buffers :func:`push_recent` reaches over a history (``items``/``correct`` in time
    order) from empty ones."""
    it = np.full(window, -1, dtype=np.int64)
    co = np.zeros(window, dtype=np.float32)
    last = items[::-1][:window]
    it[: len(last)] = last
    co[: len(last)] = correct[::-1][:window]
    return it, co


class RecentAttention(nn.Module):
    """Projections and the decay of the recent-answer attention (module docstring).

    Args:
        embed_dim (int): item embedding width ``D``.
        window (int): answers looked back, ``W >= 1``.
    """

    def __init__(self, embed_dim: int, window: int) -> None:
        super().__init__()
        self.window = window
        self.w_q = nn.Linear(embed_dim, embed_dim, bias=False)
        self.w_k = nn.Linear(embed_dim, embed_dim, bias=False)
        self.w_v = nn.Linear(2 * embed_dim, embed_dim, bias=False)
        self.decay_raw = nn.Parameter(torch.tensor(-2.0))  # theta = softplus(-2) ~ 0.13

    def decay(self) -> Tensor:
        return nn.functional.softplus(self.decay_raw)

    def values(self, e: Tensor, r: Tensor) -> Tensor:
        """``W_V [r e ; (1 - r) e]`` for embeddings ``e`` ``(..., D)`` and labels ``(...,)``."""
        rr = r.unsqueeze(-1)
        out: Tensor = self.w_v(torch.cat([e * rr, e * (1 - rr)], dim=-1))
        return out

    def forward(self, target: Tensor, e: Tensor, r: Tensor, mask: Tensor) -> Tensor:
        """Contexts ``(B, T, D)``: ``target`` the embeddings of the items scored, ``e`` / ``r``
        those of the answers given (the same items in a training batch), ``mask`` real."""
        return recent_attention(self.w_q(target), self.w_k(e), self.values(e, r), mask,
                                self.window, self.decay())


class ItemTerms(nn.Module):
    """Per-item discrimination ``alpha`` and difficulty ``beta`` (module docstring).

    Args:
        n_items (int): items in the vocabulary.
        kind (str): ``"1pl"`` (difficulty) or ``"2pl"`` (and discrimination).
    """

    def __init__(self, n_items: int, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.alpha = nn.Parameter(torch.zeros(n_items))
        self.beta = nn.Parameter(torch.zeros(n_items))

    def terms(self, seen: Tensor) -> tuple[Tensor, Tensor]:
        """``(alpha, beta)`` of every item, 0 for items never answered in training."""
        s = seen.view(-1)
        alpha = self.alpha * s if self.kind == "2pl" else torch.zeros_like(self.alpha)
        return alpha, self.beta * s

    def shift_scale(self, logit: Tensor, alpha: Tensor, beta: Tensor) -> Tensor:
        return torch.exp(alpha) * logit - beta

    def penalty(self) -> Tensor:
        return (self.alpha**2).sum() + (self.beta**2).sum()
