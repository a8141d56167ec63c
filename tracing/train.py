"""Training a tracer on a log file and registering it for serving."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, TextIO

from tracing.base import ProgressFn
from tracing.data import read_logs, read_prerequisites
from tracing.evaluate import TrainFiles, evaluate, fit_timed, load_split, make_tracer, train_paths
from tracing.registry import ModelRecord, Registry


class StderrProgress:
    """A progress callback printing ``[ 42%] message`` lines to a stream (stderr), at most one
    every ``interval`` seconds except for the first and the last (100%)."""

    def __init__(self, stream: TextIO | None = None, interval: float = 1.0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self._last = float("-inf")

    def __call__(self, message: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < self.interval:
            return
        self._last = now
        print(f"[{100 * min(max(fraction, 0.0), 1.0):3.0f}%] {message}", file=self.stream,
              flush=True)


def validation_metrics(tracer: Any) -> dict[str, Any]:
    """What a fitted tracer measured on the training learners it held out (early stopping for
    the neural ones, the calibration fold for Elo): ``valid_auc`` and its learners; empty when
    it held none out. A validation AUC, not a test AUC."""
    info = getattr(tracer, "fit_info", None) or {}
    valid_auc = info.get("best_valid_auc")
    if valid_auc is None or not 0.0 <= valid_auc <= 1.0:  # -1 or NaN: no usable AUC
        return {}
    out: dict[str, Any] = {"valid_auc": round(float(valid_auc), 6),
                           "n_valid_learners": info.get("n_valid_learners")}
    if info.get("best_epoch") is not None:
        out["best_epoch"] = info["best_epoch"]
    return out


def train_and_register(
    model: str,
    train: TrainFiles,
    *,
    fmt: str | None = None,
    test: str | Path | None = None,
    prerequisites: str | Path | None = None,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    registry: Registry | None = None,
    name: str | None = None,
    progress: ProgressFn | None = None,
) -> ModelRecord:
    """Fit ``model`` on ``train`` (all of it), score it on ``test`` if given, and register it
    with the data used, the metrics and the seed."""
    reg = registry if registry is not None else Registry.from_env()
    tracer = make_tracer(model, params)
    metrics: dict[str, Any] = {}
    paths = train_paths(train)
    names = ",".join(str(p) for p in paths)
    if test is not None:
        tr, te, how = load_split(train, test, fmt, prerequisites=prerequisites, seed=seed)
        result = evaluate(tracer, tr, te, seed=seed, progress=progress)
        metrics = result.to_json()
        data = {"train": names, "test": str(test), "format": tr.format, "split": how,
                "n_train": tr.n_interactions, "n_train_learners": len(tr.sequences)}
    else:
        tr = read_logs(paths, fmt)
        if prerequisites is not None:
            tr = tr.with_vocab(read_prerequisites(prerequisites, tr.vocab)[0])
        seconds = fit_timed(tracer, tr, seed=seed, progress=progress)
        metrics = {"train_seconds": round(seconds, 3)}
        data = {"train": names, "format": tr.format, "n_train": tr.n_interactions,
                "n_train_learners": len(tr.sequences)}
    metrics.update(validation_metrics(tracer))
    if prerequisites is not None:
        data["prerequisites"] = str(prerequisites)
    if params:
        data["params"] = params
    return reg.register(tracer, name=name, data=data, metrics=metrics, seed=seed)
