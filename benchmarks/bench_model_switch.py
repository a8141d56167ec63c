"""Switching the serving tracer inside a running server: what it costs other requests.

``activateTracerModel`` (``tracing.activation``, ``tracing.switch``) starts a background job
that rebuilds every learner's state under the new model in a worker thread, its store calls
sent back to the server's event loop. The baseline is the same rebuild run on the event loop
itself (``tracing.store_train.rebuild_states`` awaited directly, as the CLI does in its own
process). Both rebuild the same model version of the same store in this process, one after the
other. While each runs, a probe coroutine sleeps 10 ms in a loop and records how late it wakes
up: the event-loop lag, i.e. the delay any other request (a ``recordAttempts``, a query) would
see on top of its own work.

Also timed: the check each ``recordAttempts`` makes for a switch made by another process (one
read of the store's serving model, ``GraphStore.serving_model``), against a one-answer
``MasteryUpdater.apply``.

The store is the seeded demo (a fresh SQLite file seeded like ``learngraph seed --learners N
--seed S``) unless ``--db`` names an already seeded one; the serving model is BKT trained on it,
the target a GNN (``--epochs``, default 2: training time is not what is measured here).

Usage::

    nice .venv/bin/python benchmarks/bench_model_switch.py --learners 500 --seed 7 [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.services import MasteryUpdater  # noqa: E402
from graph.models import Attempt, utcnow  # noqa: E402
from graph.open import open_store  # noqa: E402
from migrations.runner import migrate  # noqa: E402
from tracing.registry import Registry  # noqa: E402
from tracing.serving import MasteryService  # noqa: E402
from tracing.store_train import read_curriculum, rebuild_states, train_from_store  # noqa: E402
from tracing.train import StderrProgress  # noqa: E402

PROBE_S = 0.010


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def with_probe(work: Callable[[], Awaitable[Any]]) -> tuple[Any, float, list[float]]:
    """Run ``work()`` while a probe measures the event loop's lag (ms); returns the result,
    the wall seconds and the lags."""
    lags: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        while not done.is_set():
            start = time.perf_counter()
            await asyncio.sleep(PROBE_S)
            lags.append(1e3 * (time.perf_counter() - start - PROBE_S))

    task = asyncio.create_task(probe())
    start = time.perf_counter()
    try:
        result = await work()
    finally:
        done.set()
        await task
    return result, time.perf_counter() - start, lags


def lag_figures(lags: list[float]) -> dict[str, float]:
    return {"lag_ms_median": statistics.median(lags),
            "lag_ms_p99": float(np.percentile(lags, 99)), "lag_ms_max": max(lags),
            "probes": float(len(lags))}


async def per_call_us(fn: Callable[[], Any], n: int) -> dict[str, float]:
    """Median and p99 microseconds of ``fn()`` (awaited when it returns an awaitable)."""
    times: list[float] = []
    for _ in range(n):
        start = time.perf_counter()
        got = fn()
        if inspect.isawaitable(got):
            await got
        times.append(1e6 * (time.perf_counter() - start))
    return {"median_us": statistics.median(times), "p99_us": float(np.percentile(times, 99))}


async def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    os.environ["LEARNGRAPH_MODELS"] = str(work / "models-seed")  # seeding must not touch ./models
    url = args.db
    if url is None:
        from seed.cli import seed_store

        url = f"sqlite:///{work / 'demo.db'}"
        store = await open_store(url)
        await migrate(store)
        await store.close()
        say(f"seeding {args.learners} learners (seed {args.seed}) into {url}")
        with contextlib.redirect_stdout(sys.stderr):  # stdout: the figures only
            await seed_store(url, n_learners=args.learners, seed=args.seed,
                             truth=work / "truth.jsonl")
    store = await open_store(url)
    reg = Registry(work / "models")
    progress = StderrProgress(interval=5.0)
    try:
        say("training BKT (becomes active, states rebuilt) and the target GNN")
        bkt, _ = await train_from_store(store, url, "bkt", seed=args.seed, registry=reg,
                                        progress=progress)
        gnn, _ = await train_from_store(store, url, "gnn", seed=args.seed, registry=reg,
                                        params={"max_epochs": args.epochs}, progress=progress)
        out: dict[str, Any] = {"db": "seeded demo" if args.db is None else url,
                               "learners": args.learners, "attempts": await
                               store.attempt_count(), "target": gnn.key}
        os.environ["LEARNGRAPH_MODELS"] = str(reg.root)  # as a server finds it
        updater = MasteryUpdater(store)
        (lid,) = [lr.id for lr in await store.list_learners(limit=1)]
        graph, items = await read_curriculum(store)
        item = next(it.id for it in items if it.skills)
        await updater.apply([Attempt("bench-0", lid, item, 1.0, utcnow())])  # loads bkt-v1

        async def in_loop() -> Any:
            _, tracer = await asyncio.to_thread(reg.load, gnn.key)
            return await rebuild_states(store, MasteryService(tracer, gnn.key, items),
                                        progress=progress)

        runs: list[dict[str, Any]] = []
        for r in range(args.rounds):  # alternate which goes first: warm-up and load drift
            for way in (("in", "off") if r % 2 == 0 else ("off", "in")):
                if way == "in":
                    say(f"round {r + 1}: baseline, rebuild under {gnn.key} on the event loop")
                    report, wall, lags = await with_probe(in_loop)
                    learners = report.learners
                else:
                    say(f"round {r + 1}: activateTracerModel's way, off the event loop")
                    # so that the switch to the GNN does the work
                    await store.set_serving_model(bkt.key)

                    async def background() -> Any:  # the job, started and waited for
                        started = await updater.activate(gnn.key)
                        return await updater.jobs.wait(started.id)

                    done, wall, lags = await with_probe(background)
                    assert done.changed and done.passes == 1, done
                    learners = done.learners
                runs.append({"round": r + 1, "way": way, "seconds": wall,
                             "learners": learners, **lag_figures(lags)})
        out["runs"] = runs
        for way in ("in", "off"):
            mine = [x for x in runs if x["way"] == way]
            out[f"{way}_loop"] = {k: statistics.median(x[k] for x in mine)
                                  for k in ("seconds", "lag_ms_median", "lag_ms_p99",
                                            "lag_ms_max")}
        out["lag_p99_in_over_off"] = out["in_loop"]["lag_ms_p99"] / out["off_loop"]["lag_ms_p99"]
        out["seconds_off_over_in"] = out["off_loop"]["seconds"] / out["in_loop"]["seconds"]
        out["rebuilt_learners"] = runs[0]["learners"]

        say("per-answer check for a switch made elsewhere")
        n = args.calls
        out["stamp_check"] = await per_call_us(updater._stale, n)
        applies: list[float] = []
        t0 = utcnow()
        for i in range(min(n, 500)):
            attempt = Attempt(f"bench-{i + 1}", lid, item, float(i % 2),
                              t0 + timedelta(seconds=i))
            start = time.perf_counter()
            await updater.apply([attempt])
            applies.append(1e6 * (time.perf_counter() - start))
        out["apply_one"] = {"median_us": statistics.median(applies),
                            "p99_us": float(np.percentile(applies, 99))}
        return out
    finally:
        await store.close()


def table(out: dict[str, Any]) -> str:
    rows = [
        "| rebuild under the new model (round) | wall s | loop lag median ms | p99 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    labels = {"in": "on the event loop (baseline)", "off": "worker thread (activateTracerModel)"}
    for r in sorted(out["runs"], key=lambda x: (x["way"] != "in", x["round"])):
        rows.append(f"| {labels[r['way']]} ({r['round']}) | {r['seconds']:.1f} | "
                    f"{r['lag_ms_median']:.2f} | {r['lag_ms_p99']:.1f} | {r['lag_ms_max']:.1f} |")
    rows += [
        "",
        f"medians over the rounds: p99 lag, baseline / off-loop: "
        f"{out['lag_p99_in_over_off']:.1f}x; wall, off-loop / baseline: "
        f"{out['seconds_off_over_in']:.2f}x ({out['rebuilt_learners']} learners, "
        f"{out['attempts']} attempts, target {out['target']})",
        "",
        "| per recordAttempts | median µs | p99 µs |",
        "|---|---|---|",
    ]
    for key, label in (("stamp_check", "switch check (read the store's serving model)"),
                       ("apply_one", "MasteryUpdater.apply, one answer (GNN served)")):
        r = out[key]
        rows.append(f"| {label} | {r['median_us']:.1f} | {r['p99_us']:.1f} |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--learners", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--db", default=None, help="an already seeded store (default: seed one)")
    ap.add_argument("--epochs", type=int, default=2, help="GNN max_epochs (default 2)")
    ap.add_argument("--calls", type=int, default=5000, help="timed calls of each check")
    ap.add_argument("--rounds", type=int, default=2, help="rebuilds of each way (default 2)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="bench-model-switch-") as tmp:
        out = asyncio.run(run(args, Path(tmp)))
    print(table(out))
    if args.json is not None:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
