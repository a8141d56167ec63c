"""The recommendation hot path at 1,000 skills / 10,000 items on SQLite (issue 13 item 2):
median and p99 in process and over real HTTP, the first request after start-up, and requests
right after a curriculum edit, each against a baseline measured in the same run.

The store is the synthetic curriculum of ``bench_recommender.py`` with the three learners of
``bench_recommend_api.py`` (10% / 30% / 50% mastered, a mastery row per skill, 40 attempts,
a serving-tracer state each), written once to ``--db`` and reused by later runs. Goals are drawn
from the deepest 10% of skills. Figures:

* **in process** (one event loop, the app's own services), timed round-robin so changing load
  touches every row alike:

  - ``service``: ``recommender.service.recommendations`` as the GraphQL resolver calls it
    (index cache, gain cache, serving tracer);
  - ``service, rows read as before`` (the baseline): the same call on a store whose
    ``mastery_probabilities`` is answered from ``mastery_of`` (a ``Mastery`` row object with
    its timestamp per skill, which is what the service read before);
  - ``GraphQL in process``: the real app through ``httpx.ASGITransport`` with a learner's token.

* **over HTTP**: ``learngraph serve`` subprocesses on loopback, one per code tree: this tree,
  and with ``--baseline-tree DIR`` the same command from another checkout (e.g. a ``git
  worktree`` of the commit before), on the same database, requests sent to them in turn by one
  client (``httpx.Client``, keep-alive). Per server: the very first recommendation after
  ``/healthz`` says ready, then ``--calls`` sequential ones (wall median / p99; the server's CPU
  per request from ``/proc/PID/stat``), then ``--edits`` curriculum edits through the API
  (``updateSkill`` renaming a skill, as a designer, so the process's own caches are
  invalidated), each followed by ``--after-edit`` recommendations: the slowest of those is
  what a request waited for the rebuild; the server's CPU over the edit phase, less those
  calls at the steady per-call CPU, per edit, is what an edit costs the serving process.

Progress goes to stderr, the tables (and the load average before and after) to stdout.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_hot_path.py --db /tmp/hot.db [--calls 300] \\
        [--baseline-tree ../base] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.app import ApiSettings, build_services, create_app, drain_tasks  # noqa: E402
from api.auth import issue_token  # noqa: E402
from benchmarks.bench_recommend_api import (  # noqa: E402
    AUTH,
    QUERY,
    SECRET,
    give_tracer_states,
    load,
    resolver_arguments,
)
from benchmarks.bench_recommender import log, stats, synthetic  # noqa: E402
from benchmarks.serve_process import Server, start_server  # noqa: E402
from graph.sqlite_store import SqliteStore  # noqa: E402
from graph.store import GraphStore  # noqa: E402
from recommender import service  # noqa: E402
from recommender.index import CurriculumIndex  # noqa: E402

EDIT = "mutation($k: ID!, $n: String!) { updateSkill(input: {id: $k, name: $n}) { __typename } }"


class RowsAsBefore:
    """The store, with the learner's mastery answered from ``mastery_of`` (a ``Mastery`` row
    per skill, the read the service made before ``mastery_probabilities``): the in-process
    baseline. Since the learner's snapshot (one store call for the learner, mastery, history
    and tracer state) the baseline reads the snapshot and then ``mastery_of`` on top, so its
    ratio to ``service`` is not comparable with runs before that change."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def learner_snapshot(self, learner_id: str, **kwargs: Any) -> Any:
        snap = await self._store.learner_snapshot(learner_id, **kwargs)
        [rows] = await self._store.mastery_of([learner_id])
        return dataclasses.replace(snap, mastery={r.skill_id: r.probability for r in rows})

    async def mastery_probabilities(
        self, learner_id: str, skill_ids: Sequence[str] | None = None
    ) -> dict[str, float]:
        [rows] = await self._store.mastery_of([learner_id])
        return {r.skill_id: r.probability for r in rows}


# -- the store ---------------------------------------------------------------------------------
def curriculum(args: argparse.Namespace) -> tuple[Any, CurriculumIndex, list[str]]:
    rng = np.random.default_rng(args.seed)
    cur = synthetic(args.skills, args.items_per_skill, rng)
    idx = CurriculumIndex(*cur, version="bench")
    deep = np.flatnonzero(idx.level >= np.percentile(idx.level, 90))
    goals = [idx.skill_ids[int(g)] for g in rng.choice(deep, size=64)]
    return cur, idx, goals


async def prepare(args: argparse.Namespace) -> list[str]:
    """Build the store at ``--db`` unless it is there; return the learner ids."""
    from migrations.runner import migrate

    cur, idx, _ = curriculum(args)
    fresh = not Path(args.db).exists()
    store = await SqliteStore.open(args.db)
    try:
        await migrate(store)
        if fresh:
            t = time.perf_counter()
            learners = await load(store, cur, idx, np.random.default_rng(args.seed))
            log(f"built {args.db} in {time.perf_counter() - t:.1f} s")
            services = await build_services(store, ApiSettings(auth=AUTH))
            await give_tracer_states(store, services, learners)
        learners = [lr.id for lr in await store.list_learners(limit=10)]
        if len(learners) != 3:
            raise SystemExit(f"{args.db} is not this benchmark's store; remove it")
        return learners
    finally:
        await drain_tasks()
        await store.close()


# -- in process --------------------------------------------------------------------------------
async def clock(call: Callable[[int], Awaitable[Any]], k: int) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    await call(k)
    return time.perf_counter() - w, time.process_time() - c


async def in_process(args: argparse.Namespace, learners: list[str]) -> dict[str, Any]:
    _, _, goals = curriculum(args)
    store = await SqliteStore.open(args.db)
    try:
        settings = ApiSettings(auth=AUTH)
        services = await build_services(store, settings)
        await services.mastery.load()
        await services.recommender.warm(store)
        app = create_app(settings, services=services)
        tokens = {lid: f"Bearer {issue_token(AUTH, lid, 'learner')}" for lid in learners}
        same = resolver_arguments(services)
        before = RowsAsBefore(store)

        def case(k: int) -> tuple[str, str]:
            return learners[k % len(learners)], goals[k % len(goals)]

        async def new(k: int) -> None:
            lid, goal = case(k)
            if not await service.recommendations(store, lid, [goal], 5, **same):
                raise SystemExit(f"no recommendation for {lid} -> {goal}")

        async def old(k: int) -> None:
            lid, goal = case(k)
            got = await service.recommendations(before, lid, [goal], 5, **same)  # type: ignore[arg-type]
            if not got:
                raise SystemExit(f"no recommendation for {lid} -> {goal}")

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
        ) as client:

            async def gql(k: int) -> None:
                lid, goal = case(k)
                r = await client.post(
                    "/graphql",
                    json={"query": QUERY, "variables": {"id": lid, "goals": [goal]}},
                    headers={"authorization": tokens[lid]},
                )
                if r.status_code != 200 or not r.json()["data"]["learner"]["recommendations"]:
                    raise SystemExit(f"unexpected answer: {r.status_code} {r.text[:500]}")

            # the same learner and goal give the same decision both ways (rng aside)
            for k in range(6):
                lid, goal = case(k)
                a = await service.recommendations(
                    store, lid, [goal], 5, **same, rng=np.random.default_rng(k)
                )
                b = await service.recommendations(
                    before, lid, [goal], 5, **same, rng=np.random.default_rng(k)  # type: ignore[arg-type]
                )
                if a != b:
                    raise SystemExit(f"the two reads decide differently for {lid} -> {goal}")
            calls = {
                "service, rows read as before (baseline)": old,
                "service": new,
                "GraphQL in process (ASGI)": gql,
            }
            for k in range(args.warmup):
                for call in calls.values():
                    await call(k)
            samples: dict[str, list[tuple[float, float]]] = {n: [] for n in calls}
            for k in range(args.calls):
                for name, call in calls.items():
                    samples[name].append(await clock(call, k))
            log(f"  in process: {args.calls} rounds")
            reads = {
                "mastery_of (1,000 Mastery rows, before)": lambda k: store.mastery_of(
                    [case(k)[0]]
                ),
                "mastery_probabilities (1,000 pairs, now)": lambda k: store.mastery_probabilities(
                    case(k)[0]
                ),
            }
            read_samples: dict[str, list[tuple[float, float]]] = {n: [] for n in reads}
            for k in range(args.calls):
                for name, read in reads.items():
                    read_samples[name].append(await clock(read, k))
        out = {name: stats(s) for name, s in samples.items()}
        out.update({name: stats(s) for name, s in read_samples.items()})
        return out
    finally:
        await drain_tasks()
        await store.close()


# -- over HTTP ---------------------------------------------------------------------------------
def cpu_s(pid: int) -> float:
    """utime + stime of a process (and its threads), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def over_http(args: argparse.Namespace, learners: list[str]) -> dict[str, Any]:
    _, idx, goals = curriculum(args)
    trees = {"this tree": str(ROOT)}
    if args.baseline_tree:
        trees = {"baseline tree": str(Path(args.baseline_tree).resolve()), **trees}
    tokens = {lid: f"Bearer {issue_token(AUTH, lid, 'learner')}" for lid in learners}
    designer = f"Bearer {issue_token(AUTH, 'designer-01', 'designer')}"
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-hot-") as tmp:
        servers: dict[str, Server] = {}
        first: dict[str, float] = {}
        try:
            with httpx.Client(timeout=120) as client:

                def rec(name: str, k: int) -> float:
                    lid, goal = learners[k % len(learners)], goals[k % len(goals)]
                    t = time.perf_counter()
                    r = client.post(
                        f"{servers[name].url}/graphql",
                        json={"query": QUERY, "variables": {"id": lid, "goals": [goal]}},
                        headers={"authorization": tokens[lid]},
                    )
                    wall = time.perf_counter() - t
                    if r.status_code != 200 or not r.json()["data"]["learner"]["recommendations"]:
                        raise SystemExit(f"{name}: {r.status_code} {r.text[:500]}")
                    return wall

                for name, tree in trees.items():
                    env = {
                        **os.environ,
                        "PYTHONPATH": tree,
                        "LEARNGRAPH_JWT_SECRET": SECRET,
                        "LEARNGRAPH_MODELS": os.path.join(tmp, "models"),
                    }
                    (Path(tmp) / name).mkdir()
                    t = time.perf_counter()
                    servers[name] = start_server(
                        f"sqlite:///{args.db}", env, Path(tmp) / name, timeout_s=300
                    )
                    log(f"  {name}: ready in {time.perf_counter() - t:.1f} s")
                    first[name] = rec(name, 0)
                    log(f"  {name}: first recommendation {first[name] * 1e3:.0f} ms")
                for k in range(args.warmup):
                    for name in servers:
                        rec(name, k)
                walls: dict[str, list[float]] = {n: [] for n in servers}
                cpu: dict[str, float] = {}
                cpu0 = {n: cpu_s(s.proc.pid) for n, s in servers.items()}
                for k in range(args.calls):
                    for name in servers:
                        walls[name].append(rec(name, k))
                cpu = {n: cpu_s(s.proc.pid) - cpu0[n] for n, s in servers.items()}
                log(f"  over HTTP: {args.calls} rounds")
                after: dict[str, list[float]] = {n: [] for n in servers}
                # a name no earlier run gave (a rename to the name a skill already has writes
                # nothing, and rebuilds nothing)
                run = f"{time.time_ns():x}"
                cpu_e0 = {n: cpu_s(s.proc.pid) for n, s in servers.items()}
                for e in range(args.edits):
                    for name in servers:
                        key = idx.skill_ids[(e * len(servers) + len(after[name])) % idx.n_skills]
                        r = client.post(
                            f"{servers[name].url}/graphql",
                            json={"query": EDIT, "variables": {"k": key, "n": f"{key} e{e} {run}"}},
                            headers={"authorization": designer},
                        )
                        if "errors" in r.json():
                            raise SystemExit(f"edit failed: {r.text[:500]}")
                        after[name].extend(rec(name, k) for k in range(args.after_edit))
                # what an edit costs the serving process: its CPU over the edits and the
                # calls after them, less those calls at the steady per-call CPU
                edit_cpu = {
                    n: (cpu_s(s.proc.pid) - cpu_e0[n] - cpu[n] / args.calls * len(after[n]))
                    / max(args.edits, 1)
                    for n, s in servers.items()
                }
                log(f"  over HTTP: {args.edits} edits")
        finally:
            for s in servers.values():
                s.stop()
        for name in servers:
            w = np.asarray(walls[name]) * 1e3
            a = np.asarray(after[name]) * 1e3
            out[name] = {
                "first_ms": first[name] * 1e3,
                "median_ms": float(np.median(w)),
                "p99_ms": float(np.percentile(w, 99)),
                "server_cpu_per_call_ms": cpu[name] / args.calls * 1e3,
                "after_edit_max_ms": float(a.max()) if a.size else None,
                "after_edit_first_median_ms": (
                    float(np.median(a[:: args.after_edit])) if a.size else None
                ),
                "after_edit_median_ms": float(np.median(a)) if a.size else None,
                "server_cpu_per_edit_ms": edit_cpu[name] * 1e3 if args.edits else None,
            }
    return out


# -- report ------------------------------------------------------------------------------------
def report(res: dict[str, Any]) -> str:
    lines = ["\n### In process (SQLite, 1,000 skills / 10,000 items)\n"]
    lines.append("| call | wall median ms | wall p99 ms | CPU median ms | CPU p99 ms |")
    lines.append("|---|---:|---:|---:|---:|")
    for name, s in res["in_process"].items():
        lines.append(
            f"| {name} | {s['median_ms']:.2f} | {s['p99_ms']:.2f} | {s['cpu_median_ms']:.2f} | "
            f"{s['cpu_p99_ms']:.2f} |"
        )
    if "http" in res:
        lines.append("\n### Over HTTP (`learngraph serve`, loopback)\n")
        lines.append(
            "| server | first call ms | median ms | p99 ms | server CPU / call ms | "
            "after an edit: first call median ms | slowest ms | all median ms | "
            "server CPU per edit ms |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name, s in res["http"].items():
            lines.append(
                f"| {name} | {s['first_ms']:.0f} | {s['median_ms']:.2f} | {s['p99_ms']:.2f} | "
                f"{s['server_cpu_per_call_ms']:.2f} | {s['after_edit_first_median_ms'] or 0:.0f} "
                f"| {s['after_edit_max_ms'] or 0:.0f} | {s['after_edit_median_ms'] or 0:.1f} "
                f"| {s['server_cpu_per_edit_ms'] or 0:.0f} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", required=True, help="SQLite file (built on the first run)")
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--after-edit", type=int, default=5, help="recommendations after each edit")
    ap.add_argument("--skills", type=int, default=1000)
    ap.add_argument("--items-per-skill", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--baseline-tree", default=None, metavar="DIR",
                    help="also serve from this checkout (the code before) over HTTP")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--json", default=None, metavar="PATH")
    args = ap.parse_args(argv)
    args.db = str(Path(args.db).resolve())
    load0 = os.getloadavg()
    learners = asyncio.run(prepare(args))
    res: dict[str, Any] = {"in_process": asyncio.run(in_process(args, learners))}
    if not args.no_http:
        res["http"] = over_http(args, learners)
    load1 = os.getloadavg()
    print(
        f"calls {args.calls} (after {args.warmup} warm-up); load average "
        f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f} at the start, "
        f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} at the end, on {os.cpu_count()} CPUs"
    )
    print(report(res))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "loadavg": [load0, load1], **res}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
