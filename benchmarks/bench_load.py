"""Load: virtual learners against real ``learngraph serve`` processes, ramped in steps.

Each virtual learner is one seeded learner (``learngraph seed``: the demo curriculum and its
simulated learners) with its own token and HTTP connection, in a closed loop with think time:
fetch a recommendation (``learner { recommendations(first: 1) }``), think, answer it
(``recordAttempts``, correct with probability 0.7, the server's time), think, and every
``--overview-every``-th round also read the overview (``mastery``, ``gaps``,
``reviewQueue(first: 5)``). Think times are exponential with mean ``--think-ms``.

After ``--warmup-rounds`` unmeasured rounds of two learners (the server's first answers
build its curriculum index and tracer view; Neo4j plans its queries), the number of virtual
learners is ramped 1, 2, 4, ... up to ``--max-vus`` (default 256), each
step lasting ``--step-s`` seconds; learners added at a step keep going through the later ones.
For each step it prints the completed requests per second, the latency median / p95 / p99 of
the requests started in the step, the errors (HTTP status other than 200, GraphQL errors, a
typed error result, a client timeout), the CPU time the server processes used per request
(``/proc``: the server and its workers; for Neo4j also the Neo4j server's, with
``--neo4j-pid``), the benchmark's own CPU per request (the load generator shares the machine)
and the load average; then the largest step whose p99 stayed under
``--target-ms`` (100 ms).

Configurations: ``--stores sqlite[,neo4j]`` (Neo4j: ``--neo4j URL``, whose data the benchmark
WIPES: never point it at a store you keep) and ``--workers 1,2`` (several workers share
events through a Redis server the benchmark starts on a free loopback port with Debian's
``redis-server``, or ``--redis-url``). Everything is bounded: each step lasts ``--step-s``;
the ramp stops early once a step's p99 passes ``--stop-ms`` or a tenth of its requests fail
(saturated: more learners only queue); requests time out after ``--request-timeout`` s; the
servers and Redis are stopped at the end, also on failure. Loopback only.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_load.py [--stores sqlite,neo4j \\
        --neo4j bolt://127.0.0.1:7687 --neo4j-pid PID] [--workers 1,2] [--learners 300] \\
        [--max-vus 256] [--step-s 20] [--think-ms 1000] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from api.auth import AuthConfig, issue_token  # noqa: E402
from benchmarks.serve_process import Server, free_port, run_cli, spawn_server  # noqa: E402

RECOMMEND = "query($id: ID!) { learner(id: $id) { recommendations(first: 1) { item { key } } } }"
ANSWER = (
    "mutation($a: [AttemptInput!]!) { recordAttempts(input: $a) { __typename "
    "... on Error { message } } }"
)
OVERVIEW = (
    "query($id: ID!) { learner(id: $id) { mastery { skill { key } probability } "
    "gaps { skillKey ready } reviewQueue(first: 5) { skillKey retrievability } } }"
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- measuring ---------------------------------------------------------------------------------
@dataclass
class Sample:
    started: float
    latency_s: float
    kind: str
    ok: bool


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of ``pids`` and all their descendants (``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo, seen = 0.0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


# One TLS context for every virtual learner's client (the servers are plain HTTP, but httpx
# builds a context per client by default: loading the CA bundle costs tens of ms of the load
# generator's CPU per client, which at a step of 128 new learners blocked the generator's
# event loop for seconds and was measured as server latency).
CLIENT_TLS = ssl.create_default_context()


async def post(
    client: httpx.AsyncClient, run: Run, kind: str, query: str, variables: dict[str, Any]
) -> dict[str, Any] | None:
    t = time.perf_counter()
    ok, data = False, None
    try:
        r = await client.post("/graphql", json={"query": query, "variables": variables})
        body = r.json()
        if r.status_code != 200:
            run.error(f"{kind}: HTTP {r.status_code}")
        elif body.get("errors"):
            run.error(f"{kind}: {body['errors'][0].get('message', '?')[:80]}")
        else:
            data, ok = body["data"], True
    except (httpx.HTTPError, ValueError) as exc:
        run.error(f"{kind}: {type(exc).__name__}")
    run.samples.append(Sample(t, time.perf_counter() - t, kind, ok))
    return data


async def learner_loop(
    url: str, token: str, lid: str, args: argparse.Namespace, run: Run, rng: random.Random
) -> None:
    """One virtual learner, until cancelled."""
    headers = {"authorization": f"Bearer {token}"}
    timeout = httpx.Timeout(args.request_timeout)
    # drop idle connections before uvicorn does (its keep-alive timeout is 5 s): reusing one
    # the server is closing fails with a ReadError that is no fault of the server
    limits = httpx.Limits(keepalive_expiry=2.0)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=timeout, limits=limits, verify=CLIENT_TLS
    ) as client:
        rounds = 0

        async def think() -> None:
            await asyncio.sleep(rng.expovariate(1000.0 / args.think_ms))

        await think()  # spread the learners' starts
        while True:
            got = await post(client, run, "recommend", RECOMMEND, {"id": lid})
            recs = (got or {}).get("learner", {}) or {}
            items = [r["item"]["key"] for r in recs.get("recommendations", [])]
            await think()
            if items:
                attempt = {
                    "attemptId": f"load-{uuid.uuid4().hex}",
                    "learnerId": lid,
                    "itemId": items[0],
                    "score": float(rng.random() < 0.7),
                }
                done = await post(client, run, "answer", ANSWER, {"a": [attempt]})
                typename = (done or {}).get("recordAttempts", {}).get("__typename")
                if done is not None and typename != "RecordAttemptsPayload":
                    run.error(f"answer: {typename}")
                    run.samples[-1].ok = False
                await think()
            rounds += 1
            if rounds % args.overview_every == 0:
                await post(client, run, "overview", OVERVIEW, {"id": lid})
                await think()


async def warm_up(url: str, auth: AuthConfig, learners: list[str], rounds: int) -> None:
    """A few unmeasured rounds of each request, so that the first step does not measure the
    server's first answers (curriculum index, tracer view, Neo4j's query plans)."""
    run, rng = Run(), random.Random(0)
    for lid in learners[:2]:
        token = issue_token(auth, lid, "learner", ttl=timedelta(hours=1))
        headers = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as client:
            for _ in range(rounds):
                got = await post(client, run, "recommend", RECOMMEND, {"id": lid})
                recs = ((got or {}).get("learner") or {}).get("recommendations") or []
                if recs:
                    item = recs[0]["item"]["key"]
                    attempt = {
                        "attemptId": f"warm-{uuid.uuid4().hex}",
                        "learnerId": lid,
                        "itemId": item,
                        "score": float(rng.random() < 0.7),
                    }
                    await post(client, run, "answer", ANSWER, {"a": [attempt]})
                await post(client, run, "overview", OVERVIEW, {"id": lid})
    if run.errors:
        raise SystemExit(f"the warm-up requests failed: {run.errors}")


def step_figures(samples: list[Sample], duration_s: float) -> dict[str, Any]:
    ms = np.array([s.latency_s for s in samples]) * 1e3
    ok = sum(s.ok for s in samples)
    pct = (lambda q: float(np.percentile(ms, q))) if ms.size else (lambda q: float("nan"))
    return {
        "requests": len(samples),
        "errors": len(samples) - ok,
        "throughput_rps": ok / duration_s,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "by_kind": {
            k: len([s for s in samples if s.kind == k]) for k in ("recommend", "answer", "overview")
        },
        "p50_ms_by_kind": {
            k: float(np.median([1e3 * s.latency_s for s in samples if s.kind == k]))
            for k in ("recommend", "answer", "overview")
            if any(s.kind == k for s in samples)
        },
    }


async def ramp(
    server: Server,
    auth: AuthConfig,
    learners: list[str],
    args: argparse.Namespace,
    neo4j_pid: int | None,
) -> list[dict[str, Any]]:
    await warm_up(server.url, auth, learners, args.warmup_rounds)
    run, tasks, steps = Run(), [], []
    vus = [v for v in (2**k for k in range(20)) if v <= args.max_vus]
    rng = random.Random(args.seed)
    try:
        for target in vus:
            while len(tasks) < target:
                lid = learners[len(tasks) % len(learners)]
                token = issue_token(auth, lid, "learner", ttl=timedelta(hours=6))
                seeded = random.Random(rng.random())
                tasks.append(
                    asyncio.create_task(learner_loop(server.url, token, lid, args, run, seeded))
                )
            cpu0 = cpu_seconds([server.proc.pid])
            me0 = time.process_time()  # this process alone: the servers are its children
            db0 = cpu_seconds([neo4j_pid]) if neo4j_pid else 0.0
            t0 = time.perf_counter()
            first = len(run.samples)
            await asyncio.sleep(args.step_s)
            duration = time.perf_counter() - t0
            done = [s for s in run.samples[first:] if s.started >= t0]
            fig = step_figures(done, duration)
            fig.update(
                vus=target,
                server_cpu_ms_per_request=1e3
                * (cpu_seconds([server.proc.pid]) - cpu0)
                / max(fig["requests"], 1),
                load_average=os.getloadavg()[0],
                client_cpu_ms_per_request=1e3
                * (time.process_time() - me0)
                / max(fig["requests"], 1),
            )
            if neo4j_pid:
                fig["neo4j_cpu_ms_per_request"] = (
                    1e3 * (cpu_seconds([neo4j_pid]) - db0) / max(fig["requests"], 1)
                )
            steps.append(fig)
            log(
                f"  {target:4d} learners: {fig['throughput_rps']:7.1f} req/s  p50 "
                f"{fig['p50_ms']:7.1f}  p95 {fig['p95_ms']:7.1f}  p99 {fig['p99_ms']:7.1f} ms  "
                f"errors {fig['errors']}  cpu {fig['server_cpu_ms_per_request']:.1f} ms/req  "
                f"(client {fig['client_cpu_ms_per_request']:.1f})  load {fig['load_average']:.1f}"
            )
            if not fig["requests"]:
                log(f"  saturated: no request started in the step completed in {args.step_s} s")
                break
            if fig["p99_ms"] > args.stop_ms or fig["errors"] > 0.1 * fig["requests"]:
                log(f"  saturated (p99 {fig['p99_ms']:.0f} ms > {args.stop_ms} ms or >10% errors)")
                break
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    if run.errors:
        log(f"  errors: {dict(sorted(run.errors.items(), key=lambda kv: -kv[1])[:5])}")
    return steps


def holding(steps: list[dict[str, Any]], target_ms: float) -> int | None:
    """The largest number of learners whose step kept p99 under ``target_ms`` (no errors)."""
    best = None
    for s in steps:
        if s["requests"] and s["p99_ms"] < target_ms and not s["errors"]:
            best = s["vus"]
    return best


# -- setting up --------------------------------------------------------------------------------
class Redis:
    """A throw-away ``redis-server`` on a free loopback port (nothing persisted)."""

    def __init__(self, tmp: Path) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise SystemExit("several workers need Redis: install redis-server or pass --redis-url")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


async def wipe_neo4j(url: str) -> None:
    from graph.neo4j_store import Neo4jStore
    from graph.open import neo4j_target

    uri, auth = neo4j_target(url)
    store = await Neo4jStore.open(uri, auth=auth)
    try:
        await store.wipe_all_data_for_tests()
    finally:
        await store.close()


async def learner_ids(db_url: str) -> list[str]:
    from graph.open import open_store

    store = await open_store(db_url)
    try:
        out: list[str] = []
        while True:
            page = await store.list_learners(after=out[-1] if out else None, limit=500)
            out += [x.id for x in page]
            if len(page) < 500:
                return out
    finally:
        await store.close()


def prepare(kind: str, args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> str:
    db_url = f"sqlite:///{tmp / 'load.db'}" if kind == "sqlite" else args.neo4j
    if kind == "neo4j":
        asyncio.run(wipe_neo4j(db_url))
    t = time.perf_counter()
    run_cli(["migrate", "--db", db_url], env)
    run_cli(
        [
            "seed",
            "--db",
            db_url,
            "--learners",
            str(args.learners),
            "--seed",
            str(args.seed),
            "--truth",
            str(tmp / f"{kind}.truth.jsonl"),
            "--quiet",
        ],
        env,
    )
    log(f"{kind}: seeded {args.learners} learners in {time.perf_counter() - t:.0f} s")
    return db_url


def run(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"configs": []}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        secret = secrets.token_urlsafe(32)
        auth = AuthConfig("HS256", secret, secret)
        redis: Redis | None = None
        redis_url = args.redis_url
        if max(args.workers) > 1 and redis_url is None:
            redis = Redis(tmp)
            redis_url = redis.url
        env = {
            **os.environ,
            "LEARNGRAPH_JWT_SECRET": secret,
            "LEARNGRAPH_MODELS": str(tmp / "models"),  # empty: BKT with population defaults
            "LEARNGRAPH_LIMIT_TIMEOUT_S": str(args.request_timeout),
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT),
        }
        try:
            for kind in args.stores:
                db_url = prepare(kind, args, tmp, env)
                learners = asyncio.run(learner_ids(db_url))
                for workers in args.workers:
                    wenv = dict(env)
                    if workers > 1:
                        assert redis_url is not None
                        wenv["LEARNGRAPH_REDIS_URL"] = redis_url
                    log(f"{kind}, {workers} process(es): starting the server")
                    server = spawn_server(
                        db_url, wenv, tmp, workers=workers, name=f"{kind}-{workers}"
                    )
                    steps: list[dict[str, Any]] = []
                    try:
                        server.wait_ready(args.start_timeout)
                        time.sleep(args.warmup_s)  # every worker up and its model loaded
                        steps = asyncio.run(
                            ramp(
                                server,
                                auth,
                                learners,
                                args,
                                args.neo4j_pid if kind == "neo4j" else None,
                            )
                        )
                    finally:
                        server.stop()
                        if not steps or any(not x["requests"] or x["errors"] for x in steps):
                            log(f"  server log ({server.log_path.name}):\n{server.tail()}")
                    out["configs"].append(
                        {
                            "store": kind,
                            "workers": workers,
                            "steps": steps,
                            "holds_p99_under_target": holding(steps, args.target_ms),
                        }
                    )
        finally:
            if redis is not None:
                redis.stop()
    return out


def table(result: dict[str, Any], target_ms: float) -> str:
    lines = [
        "| store | processes | learners | req/s | p50 ms | p95 ms | p99 ms | errors | "
        "server CPU ms/req | client CPU ms/req | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in result["configs"]:
        for s in c["steps"]:
            lines.append(
                f"| {c['store']} | {c['workers']} | {s['vus']} | {s['throughput_rps']:.1f} | "
                f"{s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['p99_ms']:.0f} | {s['errors']} | "
                f"{s['server_cpu_ms_per_request']:.1f}"
                + (
                    f" (+Neo4j {s['neo4j_cpu_ms_per_request']:.1f})"
                    if "neo4j_cpu_ms_per_request" in s
                    else ""
                )
                + f" | {s.get('client_cpu_ms_per_request', float('nan')):.1f}"
                + f" | {s['load_average']:.1f} |"
            )
    lines.append("")
    for c in result["configs"]:
        held = c["holds_p99_under_target"]
        lines.append(
            f"{c['store']}, {c['workers']} process(es): p99 < {target_ms:.0f} ms "
            + (f"holds up to {held} concurrent learners" if held else "held at no step")
        )
    return "\n".join(lines)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stores", default="sqlite", help="sqlite, neo4j or sqlite,neo4j")
    p.add_argument("--neo4j", help="bolt URL of a Neo4j whose data is WIPED and seeded")
    p.add_argument("--neo4j-pid", type=int, help="the Neo4j server's pid (its CPU per request)")
    p.add_argument("--workers", default="1", help="server process counts, e.g. 1,2")
    p.add_argument("--redis-url", help="a Redis for several workers (default: start one)")
    p.add_argument("--learners", type=int, default=300, help="seeded learners (default 300)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--max-vus", type=int, default=256, help="the last step's learners (256)")
    p.add_argument("--step-s", type=float, default=20.0, help="seconds per step (20)")
    p.add_argument("--think-ms", type=float, default=1000.0, help="mean think time (1000 ms)")
    p.add_argument("--overview-every", type=int, default=5, help="rounds per overview (5)")
    p.add_argument("--target-ms", type=float, default=100.0, help="the p99 target (100 ms)")
    p.add_argument("--stop-ms", type=float, default=5000.0, help="stop the ramp above (5000)")
    p.add_argument("--request-timeout", type=float, default=30.0, help="seconds (30)")
    p.add_argument("--start-timeout", type=float, default=300.0, help="server start, s (300)")
    p.add_argument("--warmup-s", type=float, default=3.0, help="pause after start (3 s)")
    p.add_argument(
        "--warmup-rounds", type=int, default=5, help="unmeasured rounds of 2 learners first (5)"
    )
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    args.stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    try:
        args.workers = [int(w) for w in str(args.workers).split(",")]
    except ValueError:
        p.error(f"--workers {args.workers!r}: give process counts such as 1,2")
    if bad := [s for s in args.stores if s not in ("sqlite", "neo4j")]:
        p.error(f"--stores: unknown store {bad[0]!r}; use sqlite and/or neo4j")
    if "neo4j" in args.stores and not args.neo4j:
        p.error("--stores neo4j needs --neo4j bolt://HOST:PORT (its data is wiped)")
    if min(args.workers) < 1 or args.max_vus < 1 or args.learners < 1 or args.step_s <= 0:
        p.error("--workers, --max-vus, --learners and --step-s must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    started = time.perf_counter()
    result = run(args)
    result["load_average_end"] = os.getloadavg()
    result["cpus"] = os.cpu_count()
    result["wall_s"] = time.perf_counter() - started
    print(table(result, args.target_ms))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"args": {k: str(v) for k, v in vars(args).items()}, "result": result}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
