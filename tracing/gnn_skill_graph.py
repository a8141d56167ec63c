r"""The graph-neural tracer's data-derived skill graph when learners all follow one order.

The GNN's default skill graph without a curriculum is GKT's transition graph
(:func:`tracing.gnn.transition_graph`: which skills are answered right after which). When every
training learner answers the skills in one and the same order -- a fixed test, or the DKT
paper's synthetic data, where 50 questions are always asked 1..50 -- those transitions only
restate that order: each skill's one "neighbour" is the next question, whatever it assesses.
The data still say which skills go together, through the learners' answers: two skills that
draw on the same hidden ability are answered right (or wrong) by the same learners. GKT
(Nakagawa et al., 2019) names such statistics as one way to build the graph; here, for every
skill ``a``, the ``top_k`` skills ``b`` whose per-learner correctness correlates most with
``a``'s (Pearson over the learners who answered both, at least ``min_count`` of them, only
positive correlations), as ``(a, b, share of a's kept correlation)`` edges:

.. math::
    x_{\ell s} &= \text{share of learner } \ell\text{'s answers on skill } s \text{ that are
        right} \\
    \rho_{ab} &= \operatorname{corr}_{\ell \in L_a \cap L_b}(x_{\ell a}, x_{\ell b}),
    \qquad w_{ab} = \rho_{ab} \Big/ \sum_{b' \in \mathrm{top}_k(a)} \rho_{ab'}

On the synthetic file v0 (5 hidden concepts of 7 to 13 questions) the 4 most correlated
questions of every question are of its own concept in all 50 cases, and 93% of the 8 most
correlated are; the transition graph joins each question to the next one, which is of the same
concept for 10 of the 49 pairs.

Shapes: ``L`` learners, ``S`` skills; dense ``(L, S)`` per-learner shares, ``(S, S)``
correlations from three ``(S, L) @ (L, S)`` products (fixed tests are small: 2,000 x 50 on the
synthetic files).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tracing.base import Interaction, Vocabulary, interaction_skills


def one_order(seqs: Sequence[Sequence[Interaction]], vocab: Vocabulary) -> bool:
    """True when at least two learners answered and every learner's skills, in time order,
    are a prefix of the longest learner's (all answered the skills in one order)."""
    nonempty = [s for s in seqs if len(s) > 0]
    if len(nonempty) < 2:
        return False
    order = [interaction_skills(x, vocab) for x in max(nonempty, key=len)]
    for seq in nonempty:  # stops at the first learner out of order
        for x, skills in zip(seq, order, strict=False):
            if interaction_skills(x, vocab) != skills:
                return False
    return True


def correlation_graph(
    seqs: Sequence[Sequence[Interaction]], vocab: Vocabulary, top_k: int, min_count: int
) -> list[tuple[int, int, float]]:
    """Skill graph from co-correctness (see the module docstring): for every skill ``a`` the
    ``top_k`` skills ``b != a`` most positively correlated with it over the learners who
    answered both (at least ``min_count`` of them), as ``(a, b, share)`` edges; ties broken by
    skill index. A skill with no positive correlation gets no edges."""
    n_s = vocab.n_skills
    right = np.zeros((len(seqs), n_s))
    seen = np.zeros((len(seqs), n_s))
    for i, seq in enumerate(seqs):
        for ans in seq:
            for s in set(interaction_skills(ans, vocab)):
                right[i, s] += ans.correct
                seen[i, s] += 1.0
    m = (seen > 0).astype(np.float64)
    x = np.divide(right, seen, out=np.zeros_like(right), where=seen > 0)
    n = m.T @ m  # learners who answered both
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_a = (x.T @ m) / n  # [a, b]: mean of x_a over the learners of both
        sq_a = ((x * x).T @ m) / n
        cov = (x.T @ x) / n - mean_a * mean_a.T
        var = sq_a - mean_a**2
        rho = cov / np.sqrt(var * var.T)
    ok = (n >= min_count) & np.isfinite(rho) & (rho > 1e-12)
    np.fill_diagonal(ok, False)
    edges: list[tuple[int, int, float]] = []
    for a in range(n_s):
        cand = [(float(rho[a, b]), b) for b in np.nonzero(ok[a])[0]]
        kept = sorted(cand, key=lambda rb: (-rb[0], rb[1]))[:top_k]
        total = sum(r for r, _ in kept)
        edges.extend((a, int(b), r / total) for r, b in kept)
    return edges
