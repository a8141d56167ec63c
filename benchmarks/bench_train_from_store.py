"""Training the serving model from a store's own attempts, and the one rebuild per switch.

What ``learngraph trace train --model gnn --db URL --activate`` does, timed step by step in one
process on the seeded demo (a fresh SQLite file seeded like ``learngraph seed --learners 500
--seed 7``, unless ``--db`` names an already seeded store):

1. read: the curriculum and every learner's attempts through the store's paged reads;
2. train: the baseline, BKT (EM), then the GNN, on the same sequences (wall and process CPU
   seconds, and the GNN / BKT ratio);
3. rebuild: replay every learner's history through the registered GNN and write state and
   mastery under its version (wall seconds, learners/s, answers/s);
4. replay cost without the store: per learner (median, p99) and per answer, for the GNN and
   the BKT baseline, so the rebuild's store share can be told apart from the model's.

Usage::

    nice .venv/bin/python benchmarks/bench_train_from_store.py --learners 500 --seed 7 [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.open import open_store  # noqa: E402
from migrations.runner import migrate  # noqa: E402
from tracing.base import Interaction, Tracer  # noqa: E402
from tracing.evaluate import fit_timed, make_tracer  # noqa: E402
from tracing.registry import Registry  # noqa: E402
from tracing.serving import MasteryService  # noqa: E402
from tracing.store_train import read_store, rebuild_states  # noqa: E402
from tracing.train import StderrProgress  # noqa: E402


def timed_fit(kind: str, params: dict[str, Any], data: Any, seed: int) -> tuple[Tracer, float,
                                                                                float]:
    tracer = make_tracer(kind, params)
    cpu = time.process_time()
    wall = fit_timed(tracer, data, seed=seed, progress=StderrProgress(interval=5.0))
    return tracer, wall, time.process_time() - cpu


def replay_cost(tracer: Tracer, sequences: list[list[Interaction]]) -> dict[str, float]:
    """Milliseconds to replay each learner's history from the prior (update only)."""
    per_learner: list[float] = []
    n = 0
    for seq in sequences:
        start = time.perf_counter()
        state = tracer.init_state()
        for x in seq:
            state = tracer.update(state, x)
        tracer.mastery(state)
        per_learner.append(1e3 * (time.perf_counter() - start))
        n += len(seq)
    return {"learner_ms_median": statistics.median(per_learner),
            "learner_ms_p99": float(np.percentile(per_learner, 99)),
            "answer_us_mean": 1e3 * sum(per_learner) / max(n, 1)}


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    os.environ["LEARNGRAPH_MODELS"] = str(work / "models")  # seeding must not touch ./models
    url = args.db
    if url is None:
        from seed.cli import seed_store

        url = f"sqlite:///{work / 'demo.db'}"
        store = await open_store(url)
        await migrate(store)
        await store.close()
        print(f"seeding {args.learners} learners (seed {args.seed}) into {url}",
              file=sys.stderr)
        with contextlib.redirect_stdout(sys.stderr):  # stdout: the figures only
            await seed_store(url, n_learners=args.learners, seed=args.seed,
                             truth=work / "truth.jsonl")
    store = await open_store(url)
    try:
        start = time.perf_counter()
        got = await read_store(store, progress=StderrProgress(interval=5.0))
        read_s = time.perf_counter() - start
        data = got.data
        out: dict[str, Any] = {
            "db": "seeded demo" if args.db is None else url, "learners": got.n_learners,
            "attempts": got.n_attempts, "answers_trained": data.n_interactions,
            "items": data.vocab.n_items, "skills": data.vocab.n_skills,
            "read_seconds": read_s, "read_attempts_per_s": got.n_attempts / read_s}

        bkt, bkt_wall, bkt_cpu = timed_fit("bkt", {}, data, args.seed)
        gnn_params = {} if args.epochs is None else {"max_epochs": args.epochs}
        gnn, gnn_wall, gnn_cpu = timed_fit("gnn", gnn_params, data, args.seed)
        info = getattr(gnn, "fit_info", {})
        out.update({
            "bkt_train_seconds": bkt_wall, "bkt_train_cpu": bkt_cpu,
            "gnn_train_seconds": gnn_wall, "gnn_train_cpu": gnn_cpu,
            "gnn_over_bkt_cpu": gnn_cpu / bkt_cpu if bkt_cpu else float("nan"),
            "gnn_epochs_run": info.get("epochs_run"),
            "gnn_valid_auc": info.get("best_valid_auc")})

        reg = Registry(work / "models-bench")
        rec = reg.register(gnn, data={"db": out["db"]}, seed=args.seed)
        _, served = reg.load(rec.key)
        service = MasteryService(served, rec.key, got.items)
        report = await rebuild_states(store, service, progress=StderrProgress(interval=5.0))
        out.update({
            "rebuild_seconds": report.seconds, "rebuild_learners": report.learners,
            "rebuild_answers": report.attempts,
            "rebuild_learners_per_s": report.learners / report.seconds,
            "rebuild_answers_per_s": report.attempts / report.seconds})
        for name, tracer in (("gnn", served), ("bkt", bkt)):
            for k, v in replay_cost(tracer, data.sequences).items():
                out[f"{name}_replay_{k}"] = v
        return out
    finally:
        await store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--learners", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db", default=None, help="an already seeded store (default: seed one)")
    ap.add_argument("--epochs", type=int, default=None, help="GNN max_epochs (default 12)")
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-train-store-") as tmp:
        out = asyncio.run(run(args, Path(tmp)))
    if args.json:
        print(json.dumps(out))
        return 0
    for k, v in out.items():
        print(f"{k:<32} {v:.4g}" if isinstance(v, float) else f"{k:<32} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
