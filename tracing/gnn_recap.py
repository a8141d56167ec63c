r"""The graph-neural tracer's recap features: a bounded summary of a learner's past answers on
the target item's skills and on their graph neighbours.

GIKT (Yang et al., 2020) "recaps" the past answers most related to the target question by
attention over the whole history, which costs O(history) per prediction. To keep ``update``
independent of history length we keep, per skill, running statistics instead: the counts of
right and wrong answers (as in PFA, Pavlik et al., 2009), the outcome of the last answer and the
number of answers since it (a forgetting proxy, as in DKT+forgetting, Nagatani et al., WWW 2019),
the counts propagated one hop over the row-normalised skill graph :math:`\mathbf{N}`, and the
learner's overall counts. For a target item ``q`` with skills :math:`S(q)`:

.. math::
    \mathbf{f}_t(q) = \frac{1}{|S(q)|} \sum_{s \in S(q)} \big[\,
        \log(1 + c^+_s),\ \log(1 + c^-_s),\ \ell_s,\ \log(1 + g_s),\
        \log(1 + (\mathbf{N}\mathbf{c}^+)_s),\ \log(1 + (\mathbf{N}\mathbf{c}^-)_s),\
        \log(1 + C^+),\ \log(1 + C^-) \,\big]

with :math:`c^\pm_s` the right/wrong answers on ``s`` before step ``t``, :math:`\ell_s \in
\{-1, 0, 1\}` the last answer on ``s`` (0: none), :math:`g_s` the steps since it (0: none) and
:math:`C^\pm` the learner's totals. Everything is "before step t": the answer being predicted
is never part of its own features.

Shapes: batched, ``(B, T, K)`` target skills -> ``(B, T, N_RECAP)``; online, one learner's
:class:`RecapState` (O(n_skills) memory, O(|S(q)| + degree) per update).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

N_RECAP = 8
RECAP_NAMES = (
    "log_right", "log_wrong", "last", "log_gap", "log_nbr_right", "log_nbr_wrong",
    "log_all_right", "log_all_wrong",
)


@dataclass(frozen=True)
class RecapState:
    """Per-skill running statistics of one learner. ``per_skill`` columns: right, wrong,
    neighbour right, neighbour wrong, last answer (-1/0/1), step of the last answer (1-based,
    0 = never); ``totals``: right, wrong."""

    per_skill: np.ndarray
    totals: np.ndarray

    @staticmethod
    def empty(n_skills: int) -> RecapState:
        return RecapState(np.zeros((n_skills, 6), np.float32), np.zeros(2, np.float32))


def recap_update(
    state: RecapState,
    skills: tuple[int, ...],
    correct: int,
    step: int,
    nbr_cols: list[tuple[np.ndarray, np.ndarray]],
) -> RecapState:
    """The statistics after answer number ``step`` (1-based) on ``skills``; a new object."""
    ps, tot = state.per_skill.copy(), state.totals.copy()
    col = 0 if correct else 1
    for s in set(skills):
        ps[s, col] += 1.0
        rows, vals = nbr_cols[s]
        ps[rows, 2 + col] += vals
        ps[s, 4] = 1.0 if correct else -1.0
        ps[s, 5] = float(step)
    tot[col] += 1.0
    return RecapState(ps, tot)


def recap_replay(skills: np.ndarray, smask: np.ndarray, correct: np.ndarray, nbr: np.ndarray
                 ) -> RecapState:
    """The statistics :func:`recap_update` reaches from :meth:`RecapState.empty` over one
    learner's ``n`` answers, in closed form: ``skills``/``smask`` ``(n, K)`` (0-padded skill
    indices, 0/1 mask; a skill repeated within an answer counts once, as in ``recap_update``),
    ``correct`` ``(n,)`` 0/1, ``nbr`` the ``(S, S)`` row-normalised skill graph. The neighbour
    counts are ``N c`` (``recap_update`` adds the same terms one answer at a time, in float32:
    equal to float tolerance)."""
    n_skills = nbr.shape[0]
    t_idx, k_idx = np.nonzero(smask > 0)
    pairs = np.unique(t_idx * n_skills + skills[t_idx, k_idx])  # (answer, skill), deduplicated
    t, s = pairs // n_skills, pairs % n_skills
    r = correct.astype(np.float64)
    right = np.bincount(s, weights=r[t], minlength=n_skills)
    wrong = np.bincount(s, weights=1.0 - r[t], minlength=n_skills)
    last_step = np.zeros(n_skills, np.int64)
    np.maximum.at(last_step, s, t + 1)
    last = np.concatenate([[0.0], 2.0 * r - 1.0])[last_step]  # step 0: never answered
    per_skill = np.stack([right, wrong, nbr @ right, nbr @ wrong, last, last_step], axis=1)
    totals = np.array([r.sum(), len(r) - r.sum()])
    return RecapState(per_skill.astype(np.float32), totals.astype(np.float32))


def recap_online(state: RecapState, step: int, skills: Tensor, smask: Tensor) -> Tensor:
    """Features for the answer at 1-based position ``step`` to items whose skills are
    ``(n, K)`` ``skills`` with 0/1 ``smask``: ``(n, N_RECAP)``."""
    ps = torch.from_numpy(state.per_skill)[skills]  # (n, K, 6): only the skills asked for
    gap = torch.where(ps[..., 5] > 0, step - ps[..., 5], torch.zeros(()))
    per = torch.stack(
        [
            torch.log1p(ps[..., 0]), torch.log1p(ps[..., 1]), ps[..., 4], torch.log1p(gap),
            torch.log1p(ps[..., 2]), torch.log1p(ps[..., 3]),
        ],
        dim=-1,
    )  # (n, K, 6)
    g = (per * smask.unsqueeze(-1)).sum(-2) / smask.sum(-1, keepdim=True).clamp(min=1.0)
    tot = torch.log1p(torch.from_numpy(state.totals)).expand(g.shape[0], 2)
    return torch.cat([g, tot], dim=-1)


def recap_online_many(per_skill: Tensor, totals: Tensor, step: Tensor) -> Tensor:
    """:func:`recap_online` of ``B`` learners for every skill as its own one-skill target
    (the mastery query): ``per_skill`` ``(B, S, 6)``, ``totals`` ``(B, 2)``, ``step`` ``(B,)``
    1-based positions of the next answer -> ``(B, S, N_RECAP)``."""
    gap = torch.where(per_skill[..., 5] > 0, step.view(-1, 1) - per_skill[..., 5],
                      torch.zeros(()))
    per = torch.stack(
        [
            torch.log1p(per_skill[..., 0]), torch.log1p(per_skill[..., 1]), per_skill[..., 4],
            torch.log1p(gap), torch.log1p(per_skill[..., 2]), torch.log1p(per_skill[..., 3]),
        ],
        dim=-1,
    )
    tot = torch.log1p(totals).unsqueeze(1).expand(-1, per.shape[1], 2)
    return torch.cat([per, tot], dim=-1)


def recap_batch(
    skills: Tensor, smask: Tensor, correct: Tensor, mask: Tensor, nbr: Tensor
) -> Tensor:
    """Features of every position of a padded batch: ``skills``/``smask`` ``(B, T, K)``,
    ``correct``/``mask`` ``(B, T)``, ``nbr`` ``(S, S)`` -> ``(B, T, N_RECAP)``, each from the
    answers strictly before that position."""
    b, t, _ = skills.shape
    n_skills = nbr.shape[0]
    hot = torch.zeros(b, t, n_skills)
    hot.scatter_add_(2, skills, smask)
    hot = hot.clamp(max=1.0) * mask.unsqueeze(-1)
    r = (correct * mask).unsqueeze(-1)
    right_in, wrong_in = hot * r, hot * (1.0 - r) * mask.unsqueeze(-1)
    right, wrong = right_in.cumsum(1) - right_in, wrong_in.cumsum(1) - wrong_in
    k = skills.shape[-1]

    def at(x: Tensor) -> Tensor:  # (B, T, S) -> the target skills' columns, (B, T, K)
        return x.gather(2, skills)

    pos = torch.arange(1, t + 1, dtype=torch.float32).view(1, t, 1)
    last_pos = torch.cummax(pos * hot, dim=1).values  # inclusive of step t
    last_pos = at(torch.cat([last_pos.new_zeros(b, 1, n_skills), last_pos[:, :-1]], dim=1))
    signed = (2.0 * correct - 1.0).unsqueeze(-1).expand(b, t, k)
    last = torch.where(
        last_pos > 0, signed.gather(1, (last_pos.long() - 1).clamp(min=0)), torch.zeros(())
    )
    gap = torch.where(last_pos > 0, pos - last_pos, torch.zeros(()))
    per = torch.stack(
        [
            torch.log1p(at(right)), torch.log1p(at(wrong)), last, torch.log1p(gap),
            torch.log1p(at(right @ nbr.T)), torch.log1p(at(wrong @ nbr.T)),
        ],
        dim=-1,
    )  # (B, T, K, 6): only the target skills are kept, so memory stays O(B T S)
    g = (per * smask.unsqueeze(-1)).sum(-2)
    g = g / smask.sum(-1, keepdim=True).clamp(min=1.0)
    tot_r = (r.squeeze(-1)).cumsum(1) - r.squeeze(-1)
    tot_w = ((1.0 - correct) * mask).cumsum(1) - (1.0 - correct) * mask
    return torch.cat([g, torch.log1p(torch.stack([tot_r, tot_w], dim=-1))], dim=-1)
