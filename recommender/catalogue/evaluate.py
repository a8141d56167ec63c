"""Fit each strategy on a split's training matrix and score the held-out learners.

Each strategy ranks every catalogue item outside the learner's history; the top ``k`` are
scored against the learner's later items with :mod:`.metrics`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from recommender.catalogue.base import Strategy
from recommender.catalogue.data import Catalogue, history_matrix
from recommender.catalogue.metrics import mean_metrics, top_k
from recommender.catalogue.split import Split

ProgressFn = Callable[[str, float], None]
CHUNK = 256


@dataclass(frozen=True)
class Result:
    strategy: str
    metrics: dict[str, float]
    fit_seconds: float
    score_seconds: float

    def to_dict(self) -> dict[str, object]:
        return {
            "strategy": self.strategy,
            **self.metrics,
            "fit_seconds": self.fit_seconds,
            "score_seconds": self.score_seconds,
        }


def rankings(strategy: Strategy, split: Split, n_items: int, k: int) -> list[list[int]]:
    out: list[list[int]] = []
    for lo in range(0, len(split.histories), CHUNK):
        part = split.histories[lo : lo + CHUNK]
        scores = strategy.score(history_matrix(part, n_items))
        out.extend(top_k(scores[r], k, exclude=set(h)) for r, h in enumerate(part))
    return out


def evaluate(
    strategies: Sequence[Strategy],
    split: Split,
    catalogue: Catalogue,
    *,
    k: int = 10,
    progress: ProgressFn | None = None,
) -> list[Result]:
    results = []
    for n, s in enumerate(strategies):
        if progress is not None:
            progress(f"fitting {s.name} ({n + 1}/{len(strategies)})", n / len(strategies))
        t0 = time.perf_counter()
        s.fit(split.train, catalogue)
        t1 = time.perf_counter()
        ranked = rankings(s, split, catalogue.n_items, k)
        t2 = time.perf_counter()
        relevant = [set(t) for t in split.targets]
        results.append(
            Result(s.name, mean_metrics(ranked, relevant, catalogue.n_items, k), t1 - t0, t2 - t1)
        )
    if progress is not None:
        progress("done", 1.0)
    return results


def table(results: Sequence[Result], k: int) -> list[str]:
    """A fixed-width text table of the results."""
    head = f"{'strategy':<12} {'P@' + str(k):>7} {'R@' + str(k):>7} {'NDCG@' + str(k):>8} "
    lines = [head + f"{'coverage':>9} {'fit s':>7}"]
    for r in results:
        m = r.metrics
        lines.append(
            f"{r.strategy:<12} {m[f'precision@{k}']:>7.3f} {m[f'recall@{k}']:>7.3f} "
            f"{m[f'ndcg@{k}']:>8.3f} {m['coverage']:>9.1%} {r.fit_seconds:>7.1f}"
        )
    return lines
