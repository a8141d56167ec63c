"""Server CPU per request over real HTTP, from two (or more) code trees in turn.

One ``learngraph serve`` per tree on the store ``bench_hot_path.py --db`` built, all started
before timing; one client (``httpx.Client``, keep-alive) then sends, round after round and
tree after tree: ``--calls`` recommendation queries (the query of ``bench_recommend_api.py``
with a learner's token), ``--fixed`` ``{ __typename }`` queries with a token (what any GraphQL
request costs: HTTP, auth, the GraphQL pipeline) and ``--fixed`` ``GET /livez`` (uvicorn and
starlette alone). The server's CPU per request comes from ``/proc/PID/stat`` around each batch
(its threads included); the wall times are the client's. Rounds interleave the trees so that a
change of load touches them alike; the summary is the median over rounds, with their range.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_http_trees.py --db /tmp/hot/hot.db \\
        --tree ../base --tree . [--rounds 6] [--calls 200] [--fixed 1000]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.auth import issue_token  # noqa: E402
from benchmarks.bench_hot_path import cpu_s, curriculum  # noqa: E402
from benchmarks.bench_recommend_api import AUTH, QUERY, SECRET  # noqa: E402
from benchmarks.serve_process import Server, start_server  # noqa: E402

KINDS = ("recommendation", "typename", "livez")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", required=True, help="the store bench_hot_path.py --db built")
    ap.add_argument("--tree", action="append", required=True, help="a checkout (twice or more)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--calls", type=int, default=200, help="recommendations per tree and round")
    ap.add_argument("--fixed", type=int, default=1000, help="typename and livez requests")
    ap.add_argument("--warmup", type=int, default=20)
    args = ap.parse_args(argv)
    db = Path(args.db).resolve()
    if not db.exists():
        raise SystemExit(f"{db} not found: run bench_hot_path.py --db {db} first")
    trees = [str(Path(t).resolve()) for t in args.tree]
    _, _, goals = curriculum(argparse.Namespace(seed=0, skills=1000, items_per_skill=10))
    with sqlite3.connect(db) as conn:
        learners = [r[0] for r in conn.execute("SELECT id FROM learners ORDER BY id LIMIT 3")]
    tokens = {lid: f"Bearer {issue_token(AUTH, lid, 'learner')}" for lid in learners}
    anyone = next(iter(tokens.values()))
    cpu: dict[tuple[str, str], list[float]] = {(t, k): [] for t in trees for k in KINDS}
    walls: dict[str, list[float]] = {t: [] for t in trees}
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        servers: dict[str, Server] = {}
        try:
            for i, tree in enumerate(trees):
                env = {
                    **os.environ,
                    "PYTHONPATH": tree,
                    "LEARNGRAPH_JWT_SECRET": SECRET,
                    "LEARNGRAPH_MODELS": os.path.join(tmp, "models"),
                }
                (Path(tmp) / str(i)).mkdir()
                servers[tree] = start_server(f"sqlite:///{db}", env, Path(tmp) / str(i), 300)
            with httpx.Client(timeout=120) as client:

                def recommend(tree: str, k: int) -> None:
                    lid = learners[k % len(learners)]
                    variables = {"id": lid, "goals": [goals[k % len(goals)]]}
                    r = client.post(
                        f"{servers[tree].url}/graphql",
                        json={"query": QUERY, "variables": variables},
                        headers={"authorization": tokens[lid]},
                    )
                    if r.status_code != 200 or not r.json()["data"]["learner"]["recommendations"]:
                        raise SystemExit(f"{tree}: {r.status_code} {r.text[:300]}")

                def typename(tree: str, k: int) -> None:
                    r = client.post(
                        f"{servers[tree].url}/graphql",
                        json={"query": "{ __typename }"},
                        headers={"authorization": anyone},
                    )
                    if r.status_code != 200 or r.json() != {"data": {"__typename": "Query"}}:
                        raise SystemExit(f"{tree}: {r.status_code} {r.text[:300]}")

                def livez(tree: str, k: int) -> None:
                    if client.get(f"{servers[tree].url}/livez").status_code != 200:
                        raise SystemExit(f"{tree}: /livez failed")

                sends: dict[str, tuple[Callable[[str, int], None], int]] = {
                    "recommendation": (recommend, args.calls),
                    "typename": (typename, args.fixed),
                    "livez": (livez, args.fixed),
                }
                for tree in trees:
                    for send, _ in sends.values():
                        for k in range(args.warmup):
                            send(tree, k)
                for r in range(args.rounds):
                    for tree in trees:
                        pid = servers[tree].proc.pid
                        for kind, (send, n) in sends.items():
                            c0 = cpu_s(pid)
                            for k in range(n):
                                t = time.perf_counter()
                                send(tree, k)
                                if kind == "recommendation":
                                    walls[tree].append(time.perf_counter() - t)
                            cpu[tree, kind].append((cpu_s(pid) - c0) / n * 1e3)
                        print(
                            f"round {r + 1} {tree}: "
                            + ", ".join(f"{k} {cpu[tree, k][-1]:.3f}" for k in KINDS)
                            + " ms server CPU per request",
                            file=sys.stderr,
                        )
        finally:
            for s in servers.values():
                s.stop()
    load1 = os.getloadavg()
    print(
        f"{args.rounds} rounds; per tree and round {args.calls} recommendations, {args.fixed} "
        f"typename and {args.fixed} livez requests; load average {load0[0]:.2f} at the start, "
        f"{load1[0]:.2f} at the end, on {os.cpu_count()} CPUs\n"
    )
    print(
        "| tree | server CPU / recommendation ms (range) | wall median / p99 ms | "
        "`{ __typename }` ms | `/livez` ms |"
    )
    print("|---|---:|---:|---:|---:|")
    for tree in trees:
        rec = cpu[tree, "recommendation"]
        w = np.asarray(walls[tree]) * 1e3
        print(
            f"| {tree} | {np.median(rec):.2f} ({min(rec):.2f}-{max(rec):.2f}) | "
            f"{np.median(w):.2f} / {np.percentile(w, 99):.2f} | "
            f"{np.median(cpu[tree, 'typename']):.3f} | {np.median(cpu[tree, 'livez']):.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
