"""K-fold cross-validation by learner: ``learngraph trace evaluate --cv K``.

Two ways to get the folds:

- **published folds**: ``K`` files given to ``--train`` (e.g. assist2017-pid's ``fold1.csv``
  .. ``fold5.csv``, which hold disjoint learners): fold ``i`` tests on file ``i`` and trains on
  the other ``K - 1``, each read as published (``tracing.data.read_split``);
- **seeded folds**: one file, its learners shuffled with ``--seed`` and cut into ``K`` folds
  (``tracing.data.kfold_learners``); fold ``i`` tests on the ``i``-th.

Every fold is the honest protocol of ``tracing.evaluate``: fit on the training learners, score
each test answer once from the same learner's earlier answers. The summary is the mean and the
sample standard deviation (``ddof=1``) over the folds of each metric.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracing.base import ProgressFn, TracingError
from tracing.data import TraceData, kfold_learners, read_logs, read_prerequisites, read_split
from tracing.evaluate import MODELS, EvalResult, TrainFiles, evaluate, make_tracer, train_paths

SUMMARY_METRICS = ("auc", "accuracy", "rmse", "ece", "train_seconds")


@dataclass
class CVResult:
    """Per-fold results of one model and their summary."""

    model: str
    how: str
    folds: list[EvalResult]

    def values(self, metric: str) -> np.ndarray:
        """``metric`` of each fold (``train_seconds`` included)."""
        if metric == "train_seconds":
            return np.array([f.train_seconds for f in self.folds])
        return np.array([f.metrics[metric] for f in self.folds], dtype=float)

    def summary(self) -> dict[str, tuple[float, float]]:
        """``metric -> (mean, sample sd)`` over the folds (sd is 0 for one fold)."""
        out = {}
        for m in SUMMARY_METRICS:
            v = self.values(m)
            out[m] = (float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0)
        return out

    def to_json(self) -> dict[str, Any]:
        s = self.summary()
        return {
            "model": self.model,
            "cv": len(self.folds),
            "split": self.how,
            "seed": self.folds[0].seed if self.folds else None,
            "mean": {k: round(v[0], 6) for k, v in s.items()},
            "sd": {k: round(v[1], 6) for k, v in s.items()},
            "folds": [f.to_json() for f in self.folds],
        }


def cv_splits(
    train: TrainFiles,
    k: int,
    fmt: str | None = None,
    *,
    prerequisites: str | Path | None = None,
    seed: int = 0,
) -> tuple[Iterator[tuple[TraceData, TraceData]], str]:
    """The ``k`` (train, test) pairs, produced one at a time, and how they were made."""
    paths = train_paths(train)
    if k < 2:
        raise TracingError(f"--cv {k}: cross-validation needs at least 2 folds")
    if len(paths) > 1 and len(paths) != k:
        raise TracingError(
            f"--cv {k} with {len(paths)} --train files: give one file (split into {k} seeded "
            f"folds by learner) or exactly {k} fold files (each tested once)"
        )

    def with_prereq(tr: TraceData, te: TraceData) -> tuple[TraceData, TraceData]:
        if prerequisites is None:
            return tr, te
        vocab, _ = read_prerequisites(prerequisites, te.vocab)
        return tr.with_vocab(vocab), te.with_vocab(vocab)

    if len(paths) == k:

        def published() -> Iterator[tuple[TraceData, TraceData]]:
            for i in range(k):
                tr, te = read_split([p for j, p in enumerate(paths) if j != i], paths[i], fmt)
                yield with_prereq(tr, te)

        return published(), (
            f"{k} published folds: each file tested once, trained on the other {k - 1}"
        )
    data = read_logs(paths, fmt)
    folds = kfold_learners(data, k, seed=seed)
    return (with_prereq(tr, te) for tr, te in folds), (
        f"{k} seeded folds by learner (seed {seed}): each tested once, trained on the others"
    )


def cross_validate(
    model: str,
    train: TrainFiles,
    k: int,
    *,
    fmt: str | None = None,
    prerequisites: str | Path | None = None,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
) -> CVResult:
    """Evaluate a fresh ``model`` on each of the ``k`` folds (see the module docstring)."""
    if model not in MODELS:
        raise TracingError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")
    make_tracer(model, params)  # a bad parameter fails before any file is read
    splits, how = cv_splits(train, k, fmt, prerequisites=prerequisites, seed=seed)
    results: list[EvalResult] = []
    for i, (tr, te) in enumerate(splits):
        inner: ProgressFn | None = None
        if progress is not None:
            inner = _fold_progress(progress, i, k)
            inner(f"{len(tr.sequences)} train / {len(te.sequences)} test learners", 0.0)
        res = evaluate(make_tracer(model, params), tr, te, seed=seed, progress=inner)
        res.info.update({"fold": i + 1, "test": te.source})
        results.append(res)
        if progress is not None:
            progress(f"fold {i + 1}/{k}: AUC {res.metrics['auc']:.4f}", (i + 1) / k)
    return CVResult(model, how, results)


def _fold_progress(progress: ProgressFn, i: int, k: int) -> Callable[[str, float], None]:
    def inner(message: str, fraction: float) -> None:
        progress(f"fold {i + 1}/{k}: {message}", min((i + fraction) / k, 0.999))

    return inner
