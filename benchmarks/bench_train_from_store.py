"""Training the serving model from a store's own attempts, and the one rebuild per switch.

What ``learngraph trace train --model gnn --db URL --activate`` does, timed step by step in one
process on the seeded demo (a fresh SQLite file seeded like ``learngraph seed --learners 500
--seed 7``, unless ``--db`` names an already seeded store):

1. read: the curriculum and every learner's attempts through the store's paged reads;
2. train: the baseline, BKT (EM), then the GNN, on the same sequences (wall and process CPU
   seconds, and the GNN / BKT ratio);
3. rebuild: replay every learner's history through the registered GNN and write state and
   mastery under its version (wall seconds, learners/s, answers/s, and the time a store of
   ``--extrapolate`` learners with the same histories would take), once with the batched
   replay (``Tracer.replay``, what ``rebuild_states`` uses) and once with the same model's
   ``update`` loop (the baseline: how the rebuild ran before), same process, same store,
   ``--rounds`` rounds in alternating order; then the batched rebuild's stages timed apart
   (paged reads, replay, mastery, encoding with watermarks, writes);
4. replay cost without the store: per learner (median, p99) and per answer, for the GNN and
   the BKT baseline, so the rebuild's store share can be told apart from the model's, and
   the batched replay of every learner (GNN, BKT) per answer.

Usage::

    nice .venv/bin/python benchmarks/bench_train_from_store.py --learners 500 --seed 7 [--json]
    # reuse a seeded store, a 1-epoch GNN, 2 rounds of the rebuild comparison:
    nice .venv/bin/python benchmarks/bench_train_from_store.py --db sqlite:////tmp/demo.db \
        --epochs 1 --rounds 2
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

from graph.models import Mastery, utcnow  # noqa: E402
from graph.open import open_store  # noqa: E402
from migrations.runner import migrate  # noqa: E402
from tracing.base import Interaction, Tracer  # noqa: E402
from tracing.evaluate import fit_timed, make_tracer  # noqa: E402
from tracing.registry import Registry  # noqa: E402
from tracing.serving import (  # noqa: E402
    MasteryService,
    encode_state,
    mastery_uncertainty,
)
from tracing.store_train import (  # noqa: E402
    attempts_oldest_first,
    learner_pages,
    mastery_all,
    read_store,
    rebuild_states,
    replay_all,
)
from tracing.train import StderrProgress  # noqa: E402
from tracing.watermark import Watermark, attempt_key  # noqa: E402


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


class UpdateLoopOnly:
    """The same tracer with its batched ``replay`` hidden, so ``rebuild_states`` replays
    through the ``update`` loop: the rebuild as it ran before the batched replay."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def __getattr__(self, name: str) -> Any:
        if name == "replay":
            raise AttributeError(name)
        return getattr(self._tracer, name)


def batched_replay_cost(tracer: Tracer, sequences: list[list[Interaction]]) -> dict[str, float]:
    """Seconds to replay every learner at once through ``replay_all`` (the batched path)."""
    start = time.perf_counter()
    mastery_all(tracer, replay_all(tracer, sequences))
    seconds = time.perf_counter() - start
    return {"all_seconds": seconds,
            "answer_us_mean": 1e6 * seconds / max(sum(len(s) for s in sequences), 1)}


async def rebuild_stages(store: Any, service: MasteryService) -> dict[str, float]:
    """The batched rebuild's work, stage by stage (what ``rebuild_states`` does per page)."""
    clock = {"reads": 0.0, "replay": 0.0, "mastery": 0.0, "encode": 0.0, "writes": 0.0}
    tracer, version = service.tracer, f"{service.model_version}-stages"
    t = time.perf_counter()
    async for ids in learner_pages(store):
        placed = []
        for lid in ids:
            history = await attempts_oldest_first(store, lid)
            pairs = [(a, x) for a in history if (x := service.interaction(a)) is not None]
            if pairs:
                placed.append((lid, [a for a, _ in pairs], [x for _, x in pairs]))
        clock["reads"] += time.perf_counter() - t
        t = time.perf_counter()
        states = replay_all(tracer, [p[2] for p in placed])
        clock["replay"] += time.perf_counter() - t
        t = time.perf_counter()
        rows = []
        now = utcnow()
        for (lid, _, xs), p in zip(placed, mastery_all(tracer, states), strict=True):
            unc = mastery_uncertainty(p)
            rows += sorted((Mastery(lid, service.vocab.skill_ids[k], float(p[k]),
                                    float(unc[k]), now, version)
                            for k in {k for x in xs for k in x.skills}),
                           key=lambda m: m.skill_id)
        clock["mastery"] += time.perf_counter() - t
        t = time.perf_counter()
        blobs = [(lid, version, encode_state(st, watermark=Watermark().add(
            (attempt_key(a) for a in answered), service.keep)))
            for (lid, answered, _), st in zip(placed, states, strict=True)]
        clock["encode"] += time.perf_counter() - t
        t = time.perf_counter()
        await store.save_tracer_states(blobs)
        await store.save_mastery(rows)
        clock["writes"] += time.perf_counter() - t
        t = time.perf_counter()
    return clock


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
        looped = MasteryService(UpdateLoopOnly(served), f"{rec.key}-loop",  # type: ignore[arg-type]
                                got.items)
        runs: dict[str, list[Any]] = {"batched": [], "loop": []}
        for r in range(args.rounds):
            order = ("loop", "batched") if r % 2 == 0 else ("batched", "loop")
            for name in order:
                print(f"rebuild round {r + 1}/{args.rounds}: {name}", file=sys.stderr)
                svc = service if name == "batched" else looped
                runs[name].append(await rebuild_states(
                    store, svc, progress=StderrProgress(interval=5.0)))
        for name, reports in runs.items():
            sec = statistics.median(rp.seconds for rp in reports)
            report = reports[0]
            out.update({
                f"rebuild_{name}_seconds": sec,
                f"rebuild_{name}_seconds_rounds": [round(rp.seconds, 3) for rp in reports],
                f"rebuild_{name}_learners": report.learners,
                f"rebuild_{name}_answers": report.attempts,
                f"rebuild_{name}_learners_per_s": report.learners / sec,
                f"rebuild_{name}_answers_per_s": report.attempts / sec,
                f"rebuild_{name}_minutes_at_{args.extrapolate}_learners":
                    args.extrapolate / (report.learners / sec) / 60})
        out["rebuild_speedup_batched_over_loop"] = (
            out["rebuild_loop_seconds"] / out["rebuild_batched_seconds"])
        for k, v in (await rebuild_stages(store, service)).items():
            out[f"rebuild_batched_stage_{k}_seconds"] = v
        for name, tracer in (("gnn", served), ("bkt", bkt)):
            for k, v in replay_cost(tracer, data.sequences).items():
                out[f"{name}_replay_{k}"] = v
        for name, tracer in (("gnn", served), ("bkt", bkt)):
            for k, v in batched_replay_cost(tracer, data.sequences).items():
                out[f"{name}_replay_batched_{k}"] = v
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
    ap.add_argument("--rounds", type=int, default=1,
                    help="rebuild comparison rounds, order alternated (default 1)")
    ap.add_argument("--extrapolate", type=int, default=50_000,
                    help="learners to extrapolate the rebuild time to (default 50000)")
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
