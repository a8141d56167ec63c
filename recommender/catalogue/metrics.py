"""Top-k ranking metrics, as pure functions over ranked lists and relevant sets.

For one learner with ranked recommendations ``r_1..r_k`` and relevant (held-out) items ``T``:

* precision@k = |{r_1..r_k} ∩ T| / k
* recall@k = |{r_1..r_k} ∩ T| / |T|
* NDCG@k = DCG / IDCG with DCG = sum_i rel(r_i) / log2(i + 1) and IDCG the DCG of
  min(|T|, k) relevant items at the top (binary relevance; equals sklearn's ``ndcg_score``
  with ``k`` on the 0/1 relevance row, which the tests check).

Learners with no relevant item are skipped by :func:`mean_metrics` (their recall is undefined).
Catalogue coverage is the share of the catalogue that appears in at least one top-k list.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

import numpy as np

from recommender.errors import InvalidParameterError


def _check_k(k: int) -> None:
    if k < 1:
        raise InvalidParameterError("k", k, "an integer >= 1")


def precision_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    _check_k(k)
    return sum(1 for r in ranked[:k] if r in relevant) / k


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    _check_k(k)
    if not relevant:
        raise InvalidParameterError("relevant", relevant, "at least one item (recall@k)")
    return sum(1 for r in ranked[:k] if r in relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    _check_k(k)
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(ranked[:k]) if r in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal > 0 else 0.0


def catalogue_coverage(rankings: Sequence[Sequence[int]], n_items: int, k: int) -> float:
    _check_k(k)
    if n_items < 1:
        raise InvalidParameterError("n_items", n_items, "a non-empty catalogue")
    shown = {r for ranked in rankings for r in ranked[:k]}
    return len(shown) / n_items


def top_k(scores: np.ndarray, k: int, exclude: Collection[int] = ()) -> list[int]:
    """Positions of the ``k`` highest scores, best first, ties by position; ``exclude``d
    positions (items already taken up) never appear."""
    _check_k(k)
    s = np.asarray(scores, dtype=np.float64).copy()
    if exclude:
        s[list(exclude)] = -np.inf
    order = np.lexsort((np.arange(len(s)), -s))
    return [int(i) for i in order if np.isfinite(s[i])][:k]


def mean_metrics(
    rankings: Sequence[Sequence[int]], relevant: Sequence[Collection[int]], n_items: int, k: int
) -> dict[str, float]:
    """Mean precision, recall and NDCG at ``k`` over learners with relevant items, and
    the catalogue coverage of all the rankings."""
    if len(rankings) != len(relevant):
        raise InvalidParameterError(
            "relevant", len(relevant), f"one relevant set per ranking ({len(rankings)})"
        )
    rows = [(r, t) for r, t in zip(rankings, relevant, strict=True) if t]
    if not rows:
        raise InvalidParameterError("relevant", 0, "at least one learner with relevant items")
    return {
        f"precision@{k}": float(np.mean([precision_at_k(r, t, k) for r, t in rows])),
        f"recall@{k}": float(np.mean([recall_at_k(r, t, k) for r, t in rows])),
        f"ndcg@{k}": float(np.mean([ndcg_at_k(r, t, k) for r, t in rows])),
        "coverage": catalogue_coverage(rankings, n_items, k),
    }
