"""CPU per in-process recommendation of two code trees on the same store, alternating.

``bench_hot_path.py`` compares what one process can hold side by side; two versions of the
recommender cannot share a process, so this script runs one short process per tree in turn
(``--rounds`` times each, A B A B ...) on the store ``bench_hot_path.py --db`` built: the app's
services, then ``--calls`` calls of ``recommender.service.recommendations`` as the GraphQL
resolver makes them (same learners and goals in every process), timed with ``process_time``.
Each process prints its CPU median / p99; the summary is the median over a tree's processes
and the ratio to the first tree. Processes vary more than calls do on a shared machine (run
the rounds interleaved for that reason, and read the spread).

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_hot_path_trees.py --db /tmp/hot/hot.db \\
        --tree ../base --tree . [--rounds 4] [--calls 300]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

CHILD = r"""
import asyncio, json, sys, time, argparse
import numpy as np
from benchmarks import bench_hot_path as b
from api.app import ApiSettings, build_services, drain_tasks
from benchmarks.bench_recommend_api import AUTH, resolver_arguments
from graph.sqlite_store import SqliteStore
from recommender import service

async def main(db, calls, warmup):
    args = argparse.Namespace(seed=0, skills=1000, items_per_skill=10, db=db)
    _, _, goals = b.curriculum(args)
    store = await SqliteStore.open(db)
    try:
        services = await build_services(store, ApiSettings(auth=AUTH))
        await services.mastery.load()
        await services.recommender.warm(store)
        same = resolver_arguments(services)
        learners = [lr.id for lr in await store.list_learners(limit=10)]
        cpu = []
        for k in range(warmup + calls):
            c = time.process_time()
            await service.recommendations(
                store, learners[k % 3], [goals[k % len(goals)]], 5, **same
            )
            cpu.append(time.process_time() - c)
        print(json.dumps(cpu[warmup:]))
    finally:
        await drain_tasks()
        await store.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


def run_tree(tree: Path, db: str, calls: int, warmup: int) -> np.ndarray:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, db, str(calls), str(warmup)],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    return np.asarray(json.loads(out.stdout.strip().splitlines()[-1])) * 1e3


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", required=True, help="the store bench_hot_path.py --db built")
    ap.add_argument("--tree", action="append", required=True, help="a checkout (twice or more)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    args = ap.parse_args(argv)
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} not found: run bench_hot_path.py --db {args.db} first")
    trees = [Path(t).resolve() for t in args.tree]
    load0 = os.getloadavg()
    medians: dict[Path, list[float]] = {t: [] for t in trees}
    p99s: dict[Path, list[float]] = {t: [] for t in trees}
    for r in range(args.rounds):
        for t in trees:
            cpu = run_tree(t, str(Path(args.db).resolve()), args.calls, args.warmup)
            medians[t].append(float(np.median(cpu)))
            p99s[t].append(float(np.percentile(cpu, 99)))
            print(
                f"round {r + 1} {t}: CPU median {medians[t][-1]:.2f} ms, p99 {p99s[t][-1]:.2f}",
                file=sys.stderr,
            )
    load1 = os.getloadavg()
    print(
        f"{args.rounds} processes per tree, {args.calls} calls each (after {args.warmup}); "
        f"load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end, "
        f"on {os.cpu_count()} CPUs\n"
    )
    print("| tree | CPU median ms (median of processes) | their range | CPU p99 ms | ratio |")
    print("|---|---:|---:|---:|---:|")
    first = float(np.median(medians[trees[0]]))
    for t in trees:
        m = float(np.median(medians[t]))
        print(
            f"| {t} | {m:.2f} | {min(medians[t]):.2f}-{max(medians[t]):.2f} | "
            f"{float(np.median(p99s[t])):.2f} | {m / first:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
