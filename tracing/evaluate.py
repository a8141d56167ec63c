"""Honest evaluation: train on one set of learners, predict every answer of other learners.

Protocol (the one the knowledge-tracing literature reports): fit on the training learners;
for each test learner, predict answer ``t`` from that learner's answers ``0..t-1`` only
(``Tracer.predict_sequences``); score all test answers together, each answer once.

Cold start: the answers of the test set whose item never appears in the training set are also
scored on their own (``cold_auc``, ``n_cold``), when there are any.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracing.base import ProgressFn, Tracer, TracingError
from tracing.data import TraceData, read_logs, read_prerequisites, read_split
from tracing.metrics import auc, score
from tracing.registry import tracer_class

MODELS = ("bkt", "elo", "dkt", "gnn")


def make_tracer(kind: str, params: dict[str, Any] | None = None) -> Tracer:
    """A new, unfitted tracer of ``kind`` with constructor arguments ``params``."""
    cls = tracer_class(kind)
    try:
        return cls(**(params or {}))  # type: ignore[no-any-return]
    except TypeError as exc:
        raise TracingError(f"bad parameter for model {kind!r}: {exc}") from exc


@dataclass
class EvalResult:
    """Scores of one model on one test set, and the predictions behind them."""

    model: str
    metrics: dict[str, float]
    n_train: int
    n_test: int
    n_train_learners: int
    n_test_learners: int
    train_seconds: float
    predict_seconds: float
    seed: int
    y_true: np.ndarray = field(repr=False)
    y_prob: np.ndarray = field(repr=False)
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        def clean(v: float) -> float | None:
            return None if v != v else round(float(v), 6)  # NaN -> null

        return {
            "model": self.model,
            **{k: clean(v) for k, v in self.metrics.items()},
            "n_train": self.n_train,
            "n_test": self.n_test,
            "n_train_learners": self.n_train_learners,
            "n_test_learners": self.n_test_learners,
            "train_seconds": round(self.train_seconds, 3),
            "predict_seconds": round(self.predict_seconds, 3),
            "seed": self.seed,
            **self.info,
        }


def _labels(sequences: Sequence[Sequence[Any]]) -> np.ndarray:
    return np.fromiter((x.correct for s in sequences for x in s), dtype=float)


def fit_timed(tracer: Tracer, train: TraceData, *, seed: int = 0,
              progress: ProgressFn | None = None) -> float:
    """Fit ``tracer`` on ``train``; returns the seconds it took."""
    _seed_everything(seed)
    start = time.perf_counter()
    tracer.fit(train.sequences, train.vocab, seed=seed, progress=progress)
    return time.perf_counter() - start


def evaluate(
    tracer: Tracer,
    train: TraceData,
    test: TraceData,
    *,
    seed: int = 0,
    progress: ProgressFn | None = None,
    fitted: bool = False,
    train_seconds: float = 0.0,
) -> EvalResult:
    """Fit ``tracer`` on ``train`` (unless ``fitted``) and score it on ``test``.

    ``train`` and ``test`` must share a vocabulary (read them with :func:`read_split`)."""
    if train.vocab.item_ids != test.vocab.item_ids[: train.vocab.n_items]:
        raise TracingError("train and test use different vocabularies; read them together "
                           "with tracing.data.read_split")
    if not fitted:
        train_seconds = fit_timed(tracer, train, seed=seed, progress=progress)
    if progress is not None:
        progress("predicting the test answers", 1.0)
    start = time.perf_counter()
    preds = tracer.predict_sequences(test.sequences)
    predict_seconds = time.perf_counter() - start
    y = _labels(test.sequences)
    p = np.concatenate(preds) if preds else np.zeros(0)
    metrics = score(y, np.clip(p, 0.0, 1.0))
    seen = np.zeros(test.vocab.n_items, dtype=bool)
    for s in train.sequences:
        for x in s:
            seen[x.item] = True
    cold = np.fromiter((not seen[x.item] for s in test.sequences for x in s), dtype=bool,
                       count=len(y))
    info: dict[str, Any] = {"n_cold": int(cold.sum())}
    if cold.any():
        info["cold_auc"] = auc(y[cold], np.clip(p[cold], 0.0, 1.0))
        if info["cold_auc"] != info["cold_auc"]:
            info["cold_auc"] = None
    return EvalResult(
        model=tracer.name, metrics=metrics,
        n_train=train.n_interactions, n_test=len(y),
        n_train_learners=len(train.sequences), n_test_learners=len(test.sequences),
        train_seconds=train_seconds, predict_seconds=predict_seconds, seed=seed,
        y_true=y, y_prob=p, info=info,
    )


def _seed_everything(seed: int) -> None:
    np.random.seed(seed % (2**32))
    import sys

    if "torch" in sys.modules:  # only when a neural model already imported it
        import torch

        torch.manual_seed(seed)


TrainFiles = str | Path | Sequence[str | Path]
"""One training file, or several read as one data set (e.g. published folds)."""


def train_paths(train: TrainFiles) -> list[Path]:
    """``train`` as a list of paths."""
    return [Path(train)] if isinstance(train, str | Path) else [Path(p) for p in train]


def load_split(
    train: TrainFiles,
    test: str | Path | None,
    fmt: str | None = None,
    *,
    prerequisites: str | Path | None = None,
    seed: int = 0,
) -> tuple[TraceData, TraceData, str]:
    """The train and test sets for a command line, and a description of the split.

    With a test file: the train file(s) and the test file, sharing one vocabulary. Without one
    (or with the one train file again): for ``dktsyn`` data the DKT paper's protocol, the
    first half of the rows trains (rows 1-2000 of 4000) and the second half tests; for other
    formats a seeded 80/20 split by learner.
    """
    paths = train_paths(train)
    same = test is None or (len(paths) == 1
                            and Path(test).resolve() == paths[0].resolve())
    if same:
        data = read_logs(paths, fmt)
        n = len(data.sequences)
        if data.format == "dktsyn":
            tr, te = data.subset(range(n // 2)), data.subset(range(n // 2, n))
            how = f"DKT protocol: rows 1-{n // 2} train, rows {n // 2 + 1}-{n} test"
        else:
            from tracing.data import split_learners

            tr, te = split_learners(data, 0.2, seed=seed)
            how = f"seeded 80/20 split by learner (seed {seed})"
    else:
        assert test is not None
        tr, te = read_split(paths, test, fmt)
        how = "given train and test files"
    if prerequisites is not None:
        vocab, _dropped = read_prerequisites(prerequisites, te.vocab)
        tr, te = tr.with_vocab(vocab), te.with_vocab(vocab)
    return tr, te, how


def evaluate_files(
    model: str,
    train: TrainFiles,
    test: str | Path | None = None,
    *,
    fmt: str | None = None,
    prerequisites: str | Path | None = None,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
) -> EvalResult:
    """:func:`evaluate` on files, as ``learngraph trace evaluate`` does."""
    if model not in MODELS:
        raise TracingError(f"unknown model {model!r}; use one of {', '.join(MODELS)}")
    tr, te, how = load_split(train, test, fmt, prerequisites=prerequisites, seed=seed)
    result = evaluate(make_tracer(model, params), tr, te, seed=seed, progress=progress)
    names = ",".join(str(p) for p in train_paths(train))
    result.info.update({"format": tr.format, "split": how, "train": names,
                        "test": str(test) if test is not None else names,
                        "merged_rows": tr.merged_rows + (0 if te.source == tr.source
                                                         else te.merged_rows)})
    return result
