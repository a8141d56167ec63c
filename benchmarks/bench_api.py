"""Throughput and latency of the GraphQL API, measured over loopback HTTP.

Seeds a fresh embedded store with ``learngraph seed``, starts ``learngraph serve`` on a free
port, then drives it with a closed-loop load generator (``--concurrency`` clients, each sending
its next request when the previous one is answered) for these scenarios:

* ``baseline``: ``{ __typename }``, the fixed cost of HTTP + GraphQL with no store access;
* ``skills50``: ``{ skills(first: 50) { edges { node { name prerequisites { name } } } } }``;
* ``record1`` / ``record100``: ``recordAttempts`` with 1 and 100 new attempts per request
  (fresh attempt ids, each learner's own token), which stores them, updates mastery with the
  serving tracer and returns the new mastery.

Prints requests/s, p50 and p99 latency per scenario and each scenario's p50 as a ratio to the
baseline's (same server, same run), and writes ``out/bench_api.png``.

    nice .venv/bin/python benchmarks/bench_api.py [--requests 400] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from api.auth import AuthConfig, issue_token

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "api.cli"]
SECRET = "bench-secret-0123456789abcdef0123"

SKILLS50 = "{ skills(first: 50) { edges { node { name prerequisites { name } } } } }"
RECORD = (
    "mutation($input: [AttemptInput!]!) { recordAttempts(input: $input) { __typename "
    "... on RecordAttemptsPayload { storedIds mastery { probability skill { key } } } "
    "... on Error { message } } }"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return done.stdout


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


async def drive(
    client: httpx.AsyncClient,
    name: str,
    make: Callable[[int], tuple[dict[str, Any], dict[str, str]]],
    requests: int,
    concurrency: int,
) -> dict[str, float]:
    latencies: list[float] = []
    counter = iter(range(requests))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for i in counter:
            payload, headers = make(i)
            start = time.perf_counter()
            response = await client.post("/graphql", json=payload, headers=headers)
            latencies.append(time.perf_counter() - start)
            body = response.json()
            outcome = (body.get("data") or {}).get("recordAttempts") or {}
            if (
                response.status_code != 200
                or body.get("errors")
                or outcome.get("__typename", "RecordAttemptsPayload") != "RecordAttemptsPayload"
            ):
                failures += 1
                if failures == 1:
                    print(f"  {name}: unexpected answer {response.status_code} {body}")
            if len(latencies) % max(1, requests // 4) == 0:
                print(f"  {name}: {len(latencies)}/{requests}", flush=True)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{name}: {failures} requests failed")
    return {
        "requests": requests,
        "rps": requests / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


async def main_async(args: argparse.Namespace, url: str, env: dict[str, str], db: str) -> None:
    learners = [f"learner-{i:04d}" for i in range(1, args.token_learners + 1)]  # seed's ids
    auth = AuthConfig.from_env(env)  # the same secret the server was started with
    tokens = {lid: issue_token(auth, lid, "learner") for lid in learners}
    items = await list_items(url)
    rng = random.Random(0)
    fresh = iter(range(10**9))

    def attempts(n: int) -> Callable[[int], tuple[dict[str, Any], dict[str, str]]]:
        def make(i: int) -> tuple[dict[str, Any], dict[str, str]]:
            lid = rng.choice(list(tokens))
            batch = [
                {
                    "attemptId": f"bench-{n}-{next(fresh)}",
                    "learnerId": lid,
                    "itemId": rng.choice(items),
                    "score": float(rng.random() < 0.6),
                }
                for _ in range(n)
            ]
            return {"query": RECORD, "variables": {"input": batch}}, {
                "authorization": f"Bearer {tokens[lid]}"
            }

        return make

    scenarios: dict[str, Callable[[int], tuple[dict[str, Any], dict[str, str]]]] = {
        "baseline": lambda i: ({"query": "{ __typename }"}, {}),
        "skills50": lambda i: ({"query": SKILLS50}, {}),
        "record1": attempts(1),
        "record100": attempts(100),
    }
    results: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for name, make in scenarios.items():
            n = args.requests if name != "record100" else max(40, args.requests // 5)
            await drive(client, f"{name} (warm-up)", make, min(20, n), 1)
            print(f"{name}: {n} requests, concurrency {args.concurrency}", flush=True)
            results[name] = await drive(client, name, make, n, args.concurrency)
    base = results["baseline"]["p50_ms"]
    print()
    print(f"{'scenario':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50/base':>9}")
    for name, r in results.items():
        print(
            f"{name:<10} {r['rps']:>8.1f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['p50_ms'] / base:>9.2f}"
        )
    print("record100 attempts/s:", f"{results['record100']['rps'] * 100:.0f}")
    print(json.dumps({"db": db, "concurrency": args.concurrency, "results": results}))
    plot(results, ROOT / "out" / "bench_api.png")


async def list_items(url: str) -> list[str]:
    keys: list[str] = []
    after = None
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while True:
            q = (
                "query($a: String) { items(first: 100, after: $a, kind: EXERCISE) { "
                "nodes { key } pageInfo { hasNextPage endCursor } } }"
            )
            body = (
                await client.post("/graphql", json={"query": q, "variables": {"a": after}})
            ).json()
            conn = body["data"]["items"]
            keys += [n["key"] for n in conn["nodes"]]
            if not conn["pageInfo"]["hasNextPage"]:
                return keys
            after = conn["pageInfo"]["endCursor"]


def plot(results: dict[str, dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(exist_ok=True)
    names = list(results)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [results[n]["p50_ms"] for n in names], 0.4, label="p50")
    ax.bar([i + 0.2 for i in x], [results[n]["p99_ms"] for n in names], 0.4, label="p99")
    ax.set_xticks(list(x), names)
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    ax.set_title("learngraph serve, embedded store, loopback")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--learners", type=int, default=200, help="seeded learners")
    parser.add_argument("--token-learners", type=int, default=50)
    args = parser.parse_args()
    env = {
        **os.environ,
        "LEARNGRAPH_JWT_SECRET": SECRET,
        "LEARNGRAPH_MODELS": tempfile.mkdtemp(prefix="bench-models-"),
    }
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        print(f"seeding {db} with {args.learners} learners ...", flush=True)
        run([*CLI, "migrate", "--db", db], env)
        run([*CLI, "seed", "--db", db, "--learners", str(args.learners), "--quiet"], env)
        port = free_port()
        server = subprocess.Popen(
            [*CLI, "serve", "--db", db, "--port", str(port), "--log-level", "warning"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                raise SystemExit("learngraph serve did not start")
            asyncio.run(main_async(args, url, env, db))
        finally:
            server.terminate()
            server.wait(10)


if __name__ == "__main__":
    main()
