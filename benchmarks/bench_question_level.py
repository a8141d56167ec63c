"""Question-level ablations of the tracers on assist2017-pid, one published fold held out.

Trains each variant on learners of the other four published folds (all of them, or a seeded
subsample with ``--train-learners`` so an ablation fits a shared 2-core machine), tests on
learners of the held-out fold (``--test-learners`` subsamples them, seeded), through the code
of ``learngraph trace evaluate`` (one prediction per answer, split by learner), and prints one
line per variant: AUC, accuracy, RMSE, ECE, epochs, train and predict seconds (JSON lines with
``--json``)::

    nice -n 10 .venv/bin/python benchmarks/bench_question_level.py --test-fold 1 \\
        --train-learners 300 --test-learners 120 --variants gnn gnn-irt gnn-attn gnn-qa

A variant is a model and constructor parameters (``VARIANTS`` below; ``--param KEY=VALUE``
adds to every neural variant and wins over its own, e.g. ``--param max_epochs=8``). The
baseline is the first variant named. ``gnn`` is the GNN as it was before the question-level
defaults (no item terms, the skill-level schedule); ``gnn-default`` is what the defaults give.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracing.data import TraceData, read_split  # noqa: E402
from tracing.evaluate import evaluate, make_tracer  # noqa: E402

DATA = Path(os.environ.get("LEARNGRAPH_DATASETS", ROOT.parent / "shared" / "datasets")
            ) / "assist2017-pid"

#: the GNN's schedule before the question-level preset (the skill-level one), pinned so the
#: ablations measured with it keep their meaning
SKILL_SCHEDULE: dict[str, Any] = {"lr": 1e-3, "lr_decay": 1.0, "patience": 2, "max_epochs": 12}
#: the question-level preset (tracing.gnn.QUESTION_LEVEL_SCHEDULE), pinned likewise
FAST: dict[str, Any] = {"lr": 3e-3, "lr_decay": 0.5, "patience": 3, "max_epochs": 16}

#: name -> (model kind, constructor parameters)
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "bkt": ("bkt", {}),
    "elo": ("elo", {}),
    "elo-raw": ("elo", {"calibration": None}),
    "dkt": ("dkt", {}),
    "gnn-default": ("gnn", {}),  # whatever the defaults choose on this data
    "gnn": ("gnn", {"attention_window": 0, "irt": "none", **SKILL_SCHEDULE}),
    "gnn-irt": ("gnn", {"attention_window": 0, "irt": "2pl", **SKILL_SCHEDULE}),
    "gnn-1pl": ("gnn", {"attention_window": 0, "irt": "1pl", **SKILL_SCHEDULE}),
    "gnn-attn": ("gnn", {"attention_window": 50, "irt": "none", **SKILL_SCHEDULE}),
    "gnn-qa": ("gnn", {"attention_window": 50, "irt": "2pl", **SKILL_SCHEDULE}),
    "gnn-qa-long": ("gnn", {"attention_window": 50, "irt": "2pl", "window": 500,
                            **SKILL_SCHEDULE}),
    "gnn-qa-decay": ("gnn", {"attention_window": 50, "irt": "2pl", **SKILL_SCHEDULE,
                             "lr_decay": 0.5, "patience": 3}),
    "gnn-fast": ("gnn", {"attention_window": 0, "irt": "none", **FAST}),
    "gnn-irt-fast": ("gnn", {"attention_window": 0, "irt": "2pl", **FAST}),
}


def subsample(data: TraceData, n: int | None, seed: int) -> TraceData:
    if n is None or n >= len(data.sequences):
        return data
    idx = np.sort(np.random.default_rng(seed).permutation(len(data.sequences))[:n])
    return data.subset(idx.tolist())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--test-fold", type=int, default=1, choices=range(1, 6))
    ap.add_argument("--train-learners", type=int, default=None)
    ap.add_argument("--test-learners", type=int, default=None)
    ap.add_argument("--variants", nargs="+", default=["gnn", "gnn-qa"], choices=VARIANTS)
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    extra = {k: json.loads(v) for k, v in (p.split("=", 1) for p in args.param)}
    folds = [args.data / f"fold{i}.csv" for i in range(1, 6)]
    test_file = folds[args.test_fold - 1]
    tr, te = read_split([f for f in folds if f != test_file], test_file)
    tr = subsample(tr, args.train_learners, args.seed)
    te = subsample(te, args.test_learners, args.seed + 1)
    print(f"train {len(tr.sequences)} learners / {tr.n_interactions} answers; test "
          f"{len(te.sequences)} / {te.n_interactions} (fold {args.test_fold}); "
          f"{tr.vocab.n_items} items, {tr.vocab.n_skills} skills", file=sys.stderr, flush=True)
    base: float | None = None
    for name in args.variants:
        kind, params = VARIANTS[name]
        params = dict(params)
        if kind in ("dkt", "gnn"):
            params.update({"num_threads": args.threads, **extra})
        start = time.perf_counter()
        tracer = make_tracer(kind, params)

        def progress(m: str, f: float, name: str = name) -> None:
            if "batch" not in m:
                print(f"[{f:6.1%}] {name}: {m}", file=sys.stderr, flush=True)

        res = evaluate(tracer, tr, te, seed=args.seed, progress=progress)
        info = getattr(res, "info", {})
        fit = getattr(tracer, "fit_info", None) or {}
        tracer_info = {k: fit[k] for k in ("best_epoch", "epochs_run", "best_valid_auc")
                       if k in fit}
        row = {"variant": name, "model": kind, "params": params,
               **{k: round(v, 4) for k, v in res.metrics.items()},
               "train_s": round(res.train_seconds, 1), "predict_s": round(res.predict_seconds, 1),
               "wall_s": round(time.perf_counter() - start, 1), "seed": args.seed,
               "n_train": res.n_train, "n_test": res.n_test, **tracer_info, **info}
        base = row["auc"] if base is None else base
        row["auc_minus_first"] = round(row["auc"] - base, 4)
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(f"{name:<14} AUC {row['auc']:.4f} ({row['auc_minus_first']:+.4f})  "
                  f"acc {row['accuracy']:.4f}  RMSE {row['rmse']:.4f}  ECE {row['ece']:.4f}  "
                  f"epochs {row.get('best_epoch', '-')}/{row.get('epochs_run', '-')}  "
                  f"train {row['train_s']:.0f} s  predict {row['predict_s']:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
