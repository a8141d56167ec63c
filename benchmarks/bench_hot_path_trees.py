"""CPU per in-process recommendation of two code trees on the same store, alternating.

``bench_hot_path.py`` compares what one process can hold side by side; two versions of the
recommender cannot share a process, so this script runs one short process per tree in turn
(``--rounds`` times each, A B A B ...) on the store ``bench_hot_path.py --db`` built: the app's
services, then ``--calls`` calls of ``recommender.service.recommendations`` as the GraphQL
resolver makes them (same learners and goals in every process), timed with ``process_time``.
Each process prints its CPU median / p99; the summary is the median over a tree's processes
and the ratio to the first tree. Processes vary more than calls do on a shared machine (run
the rounds interleaved for that reason, and read the spread).

``--call graphql`` times the whole GraphQL request in process instead (the app through
``httpx.ASGITransport`` with a learner's token, the query of ``bench_recommend_api.py``; the
client's share of the CPU is in it, alike for every tree); ``--call overhead`` times the same
request with ``recommender.service.recommendations`` answered from memory (each learner and
goal's answer computed once before timing), which leaves what GraphQL and HTTP add alone;
``--call both`` times the service and the GraphQL request in each process, ``--call all`` the
three.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_hot_path_trees.py --db /tmp/hot/hot.db \\
        --tree ../base --tree . [--rounds 4] [--calls 300] [--call service|graphql|both]
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
import httpx
import numpy as np
import api.types.recommend as resolvers
from benchmarks import bench_hot_path as b
from api.app import ApiSettings, build_services, create_app, drain_tasks
from api.auth import issue_token
from benchmarks.bench_recommend_api import AUTH, QUERY, resolver_arguments
from graph.sqlite_store import SqliteStore
from recommender import service

async def main(db, calls, warmup, mode):
    args = argparse.Namespace(seed=0, skills=1000, items_per_skill=10, db=db)
    _, _, goals = b.curriculum(args)
    store = await SqliteStore.open(db)
    try:
        settings = ApiSettings(auth=AUTH)
        services = await build_services(store, settings)
        await services.mastery.load()
        await services.recommender.warm(store)
        same = resolver_arguments(services)
        learners = [lr.id for lr in await store.list_learners(limit=10)]
        tokens = {lid: "Bearer " + issue_token(AUTH, lid, "learner") for lid in learners}
        app = create_app(settings, services=services)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
        ) as client:
            async def svc(k):
                await service.recommendations(
                    store, learners[k % 3], [goals[k % len(goals)]], 5, **same
                )

            async def gql(k):
                lid, goal = learners[k % 3], goals[k % len(goals)]
                r = await client.post(
                    "/graphql",
                    json={"query": QUERY, "variables": {"id": lid, "goals": [goal]}},
                    headers={"authorization": tokens[lid]},
                )
                if r.status_code != 200 or not r.json()["data"]["learner"]["recommendations"]:
                    raise SystemExit(f"unexpected answer: {r.status_code} {r.text[:300]}")

            answers = {}

            class Answered:
                # the service module, its recommendations answered from `answers`
                def __getattr__(self, name):
                    return getattr(service, name)

                async def recommendations(self, store, learner_id, goals, first, **kw):
                    return answers[learner_id, tuple(goals)]

            async def overhead(k):
                resolvers.service = Answered()
                try:
                    await gql(k)
                finally:
                    resolvers.service = service

            if mode in ("overhead", "all"):
                for lid, goal in {
                    (learners[k % 3], goals[k % len(goals)]) for k in range(warmup + calls)
                }:
                    answers[lid, (goal,)] = await service.recommendations(
                        store, lid, [goal], 5, **same
                    )
            wanted = {
                "service": ("service",),
                "graphql": ("graphql",),
                "overhead": ("overhead",),
                "both": ("service", "graphql"),
                "all": ("service", "graphql", "overhead"),
            }[mode]
            out = {}
            for name, call in (("service", svc), ("graphql", gql), ("overhead", overhead)):
                if name not in wanted:
                    continue
                cpu = []
                for k in range(warmup + calls):
                    c = time.process_time()
                    await call(k)
                    cpu.append(time.process_time() - c)
                out[name] = cpu[warmup:]
        print(json.dumps(out))
    finally:
        await drain_tasks()
        await store.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))
"""


def run_tree(tree: Path, db: str, calls: int, warmup: int, mode: str) -> dict[str, np.ndarray]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, db, str(calls), str(warmup), mode],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{tree}: {out.stderr[-2000:]}")
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return {name: np.asarray(cpu) * 1e3 for name, cpu in found.items()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", required=True, help="the store bench_hot_path.py --db built")
    ap.add_argument("--tree", action="append", required=True, help="a checkout (twice or more)")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument(
        "--call",
        choices=("service", "graphql", "overhead", "both", "all"),
        default="service",
        help="what to time: the service call, the GraphQL request in process, that request "
        "with the service answered from memory; both: the first two; all: the three",
    )
    args = ap.parse_args(argv)
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} not found: run bench_hot_path.py --db {args.db} first")
    trees = [Path(t).resolve() for t in args.tree]
    calls = {
        "both": ["service", "graphql"],
        "all": ["service", "graphql", "overhead"],
    }.get(args.call, [args.call])
    load0 = os.getloadavg()
    medians: dict[tuple[Path, str], list[float]] = {(t, c): [] for t in trees for c in calls}
    p99s: dict[tuple[Path, str], list[float]] = {(t, c): [] for t in trees for c in calls}
    for r in range(args.rounds):
        for t in trees:
            cpus = run_tree(t, str(Path(args.db).resolve()), args.calls, args.warmup, args.call)
            for c, cpu in cpus.items():
                medians[t, c].append(float(np.median(cpu)))
                p99s[t, c].append(float(np.percentile(cpu, 99)))
                print(
                    f"round {r + 1} {t} {c}: CPU median {medians[t, c][-1]:.2f} ms, "
                    f"p99 {p99s[t, c][-1]:.2f}",
                    file=sys.stderr,
                )
    load1 = os.getloadavg()
    print(
        f"{args.rounds} processes per tree, {args.calls} calls each (after {args.warmup}); "
        f"load average {load0[0]:.2f} at the start, {load1[0]:.2f} at the end, "
        f"on {os.cpu_count()} CPUs\n"
    )
    print("| tree | call | CPU median ms (median of processes) | range | CPU p99 ms | ratio |")
    print("|---|---|---:|---:|---:|---:|")
    for c in calls:
        first = float(np.median(medians[trees[0], c]))
        for t in trees:
            m = float(np.median(medians[t, c]))
            print(
                f"| {t} | {c} | {m:.2f} | {min(medians[t, c]):.2f}-{max(medians[t, c]):.2f} | "
                f"{float(np.median(p99s[t, c])):.2f} | {m / first:.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
