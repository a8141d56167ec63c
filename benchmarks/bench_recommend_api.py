"""Next-item recommendation latency through GraphQL, against the same call made in process.

For each graph (the synthetic 1,000-skill / 10,000-item curriculum and the Junyi Academy
prerequisite graph of ``bench_recommender.py``, its one cycle dropped) and each store (SQLite in
a temporary directory; Neo4j too when ``--neo4j bolt://...`` is given, wiped first), the script
loads the curriculum with the store's batch writes, migrates it, adds three learners with
10% / 30% / 50% of the curriculum mastered (a topological prefix, ``save_mastery``) and a few
weeks of attempts (``record_attempts``), builds the real app (``api.app``), gives each learner a
serving-tracer state equal to that mastery (the default BKT's state is its mastery vector,
saved with ``save_tracer_states``), so recommendations are ranked by the tracer's predictions
as for any learner who answered through the API, and times, in one process and on the same
store:

* ``graphql``: ``learner(id) { recommendations(goalIds: [g], first: 5) { item { key } kind
  predictedSuccess reasons { code message data } } }`` POSTed through the ASGI app with
  ``httpx.AsyncClient`` + ``ASGITransport`` and a real learner bearer token, sequentially and
  with ``--concurrency`` clients at once (throughput);
* ``service`` (the baseline): ``recommender.service.recommendations(...)`` called directly with
  the arguments the resolver passes (the app's index and gain caches and its serving tracer's
  predictor), sequentially and concurrently;
* ``service_formula``: the same call without the tracer (the stored-mastery formula ranks the
  items: what a learner with no tracer state gets), so the tracer's cost is measured here too;
* ``recommend``: the pure in-memory ``recommend`` on the cached index (reference);
* ``typename``: ``{ __typename }`` with the same token (the fixed cost of HTTP + auth + GraphQL)
  and ``learner_key``: ``learner(id) { key }`` (that plus the access check's learner read);
* ``after edit``: the first GraphQL call after a curriculum edit (the index is rebuilt), and the
  call after it.

The sequential figures are taken round-robin (one call of each kind in turn), so drifting
machine load touches them alike. Goals are drawn from the deepest 10% of skills. Figures: wall
median and p99 (ms), CPU median of the process, throughput (req/s); the ratio of the GraphQL
median to the service median says what GraphQL + HTTP + auth add. Where the time goes: each
store read of a call timed alone, and a short cProfile of the sequential GraphQL path grouped by
package. Progress goes to stderr, the tables to stdout; ``--json PATH`` writes every figure.

Usage::

    nice .venv/bin/python benchmarks/bench_recommend_api.py [--calls 300] [--concurrency 8] \\
        [--neo4j bolt://localhost:7687] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import inspect
import json
import logging
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.app import ApiSettings, build_services, create_app, drain_tasks  # noqa: E402
from api.auth import AuthConfig, issue_token  # noqa: E402
from benchmarks.bench_recommender import (  # noqa: E402
    junyi,
    learner_mastery,
    log,
    stats,
    synthetic,
)
from graph.models import (  # noqa: E402
    Attempt,
    Item,
    ItemKind,
    Learner,
    Mastery,
    Prerequisite,
    Skill,
    SkillWeight,
    utcnow,
)
from graph.store import GraphStore  # noqa: E402
from recommender import service  # noqa: E402
from recommender.index import CurriculumIndex, ItemSpec  # noqa: E402
from recommender.next_item import LearnerView, recommend  # noqa: E402

SECRET = "bench-recommend-api-secret-0123456789"
AUTH = AuthConfig("HS256", SECRET, SECRET)
SHARES = (0.1, 0.3, 0.5)
CHUNK = 2000
LEARNER_KEY = "query($id: ID!) { learner(id: $id) { key } }"
QUERY = (
    "query($id: ID!, $goals: [ID!]) { learner(id: $id) { recommendations(goalIds: $goals, "
    "first: 5) { item { key } kind predictedSuccess reasons { code message data } } } }"
)
Curriculum = tuple[list[str], list[tuple[str, str, float]], list[ItemSpec]]


# -- loading -----------------------------------------------------------------------------------
def domain(cur: Curriculum) -> tuple[list[Skill], list[Prerequisite], list[Item]]:
    skills, edges, items = cur
    return (
        [Skill(s, s.replace("_", " ")) for s in skills],
        [Prerequisite(u, v, w) for u, v, w in edges],
        [
            Item(
                it.id,
                ItemKind.EXERCISE,
                it.id,
                tuple(SkillWeight(s) for s in it.skills),
                difficulty=it.difficulty,
                expected_seconds=int(it.expected_seconds),
            )
            for it in items
        ],
    )


async def chunked(
    what: str, rows: Sequence[Any], write: Callable[[Sequence[Any]], Awaitable[None]]
) -> None:
    for k in range(0, len(rows), CHUNK):
        await write(rows[k : k + CHUNK])
        log(f"  wrote {min(k + CHUNK, len(rows))}/{len(rows)} {what}")


async def load(
    store: GraphStore, cur: Curriculum, idx: CurriculumIndex, rng: np.random.Generator
) -> list[str]:
    """Write the curriculum, three learners, their mastery and attempts; return learner ids."""
    skills, edges, items = domain(cur)
    await chunked("skills", skills, lambda r: store.upsert_skills(r, actor="bench"))
    await chunked("prerequisites", edges, lambda r: store.upsert_prerequisites(r, actor="bench"))
    await chunked("items", items, lambda r: store.upsert_items(r, actor="bench"))
    learners = [f"learner-{round(s * 100)}" for s in SHARES]
    goal = idx.skill_ids[int(idx.topo[-1])]  # a goal of their own, as real learners have
    await store.upsert_learners([Learner(lid, lid, goals=(goal,)) for lid in learners])
    now = utcnow()
    for lid, share in zip(learners, SHARES, strict=True):
        m = learner_mastery(idx, rng, share)
        await store.save_mastery(
            [
                Mastery(lid, idx.skill_ids[s], float(m[s]), 0.1, now, "bench")
                for s in range(idx.n_skills)
            ]
        )
        # 40 attempts over the last four weeks on items of the mastered prefix: reviews due
        known = idx.topo[: max(1, int(share * idx.n_skills))]
        attempts = []
        for k in range(40):
            pool = idx.items_of(int(rng.choice(known)))
            if not pool.size:
                continue
            attempts.append(
                Attempt(
                    f"{lid}-a{k}",
                    lid,
                    idx.item_ids[int(rng.choice(pool))],
                    float(rng.random() < 0.8),
                    now - timedelta(days=28 * (40 - k) / 40),
                )
            )
        await store.record_attempts(attempts)
    log(f"  {len(learners)} learners with mastery and attempts")
    return learners


async def open_store(kind: str, url: str | None, tmp: str) -> GraphStore:
    from migrations.runner import migrate

    if kind == "sqlite":
        from graph.sqlite_store import SqliteStore

        store: GraphStore = await SqliteStore.open(os.path.join(tmp, "bench.db"))
    else:
        from graph.neo4j_store import Neo4jStore
        from graph.open import neo4j_target

        assert url is not None
        uri, auth = neo4j_target(url)
        neo = await Neo4jStore.open(uri, auth=auth)
        log(f"  wiping {uri}")
        await neo.wipe_all_data_for_tests()
        store = neo
    await migrate(store)
    return store


# -- timing ------------------------------------------------------------------------------------
async def clock(call: Callable[[int], Awaitable[Any]], k: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``call(k)``."""
    w, c = time.perf_counter(), time.process_time()
    await call(k)
    return time.perf_counter() - w, time.process_time() - c


async def sequential(
    name: str, call: Callable[[int], Awaitable[Any]], calls: int, warmup: int
) -> dict[str, Any]:
    for k in range(warmup):
        await call(k)
    samples = []
    for k in range(calls):
        samples.append(await clock(call, k))
        if (k + 1) % max(1, calls // 4) == 0:
            log(f"  {name}: {k + 1}/{calls}")
    out: dict[str, Any] = stats(samples)
    out["rps"] = calls / sum(w for w, _ in samples)
    return out


async def interleaved(
    calls: dict[str, Callable[[int], Awaitable[Any]]], n: int, warmup: int
) -> dict[str, dict[str, Any]]:
    """Time every call ``n`` times, round-robin (call k of each, then call k+1 ...), so a
    change in the machine's load touches every figure alike and their ratios stay fair."""
    for k in range(warmup):
        for call in calls.values():
            await call(k)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in calls}
    for k in range(n):
        for name, call in calls.items():
            samples[name].append(await clock(call, k))
        if (k + 1) % max(1, n // 4) == 0:
            log(f"  interleaved {', '.join(calls)}: {k + 1}/{n}")
    out = {}
    for name, got in samples.items():
        out[name] = dict(stats(got))
        out[name]["rps"] = n / sum(w for w, _ in got)
    return out


async def concurrent(
    name: str, call: Callable[[int], Awaitable[Any]], calls: int, clients: int
) -> dict[str, Any]:
    """``clients`` closed-loop workers share ``calls`` calls; latency per call and req/s."""
    wall: list[float] = []
    todo = iter(range(calls))

    async def worker() -> None:
        for k in todo:
            t = time.perf_counter()
            await call(k)
            wall.append(time.perf_counter() - t)

    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    log(f"  {name}: {calls} calls, {clients} clients, {elapsed:.1f} s")
    ms = np.asarray(wall) * 1e3
    return {
        "median_ms": float(np.median(ms)),
        "p99_ms": float(np.percentile(ms, 99)),
        "cpu_per_call_ms": cpu / calls * 1e3,
        "n": calls,
        "clients": clients,
        "rps": calls / elapsed,
    }


#: C-level functions (no file name in the profile) the Neo4j driver's decoding runs
DRIVER_BUILTINS = ("neo4j", "fromutc", "astimezone", "toordinal", "fromordinal")
BUCKETS = (
    ("graphql-core + strawberry (parse, validate, execute)", ("graphql/", "strawberry/")),
    ("starlette + httpx + anyio (HTTP, ASGI)", ("starlette/", "httpx/", "httpcore/", "anyio/",
                                                "h11/")),
    ("jwt + cryptography (bearer token)", ("jwt/", "cryptography/")),
    ("api/ (context, loaders, access, resolvers)", ("/api/",)),
    ("recommender/ + numpy", ("/recommender/", "numpy/")),
    ("store + driver (graph/, neo4j, pytz, sqlite3)", ("/graph/", "neo4j/", "pytz/", "sqlite3")),
    ("asyncio event loop", ("asyncio/",)),
)


def profile_buckets(prof: cProfile.Profile, calls: int) -> tuple[list[dict[str, Any]], str]:
    """Own time (tottime) per package per call, and the top entries by own time."""
    st = pstats.Stats(prof)
    table: dict[str, float] = {}
    total = 0.0
    for (filename, _, func), (_, _, tt, _, _) in st.stats.items():  # type: ignore[attr-defined]
        total += tt
        if filename == "~" and ("poll" in func or "select" in func):
            bucket = "event loop idle: waiting for the store (thread or server)"
        elif filename == "~" and ("SimpleQueue" in func or "set_result" in func):
            # the GIL passes to the SQLite worker thread here: its work shows up as this
            bucket = "hand-off to / from the store's worker thread (GIL)"
        elif filename == "~" and "numpy" in func:
            bucket = "recommender/ + numpy"
        elif filename == "~" and "_socket.socket" in func:
            bucket = "socket send/recv (Neo4j Bolt; the loop's self-pipe wake-ups)"
        elif filename == "~" and any(k in func for k in DRIVER_BUILTINS):
            bucket = "store + driver (graph/, neo4j, pytz, sqlite3)"
        else:
            bucket = next(
                (b for b, keys in BUCKETS if any(k in filename for k in keys)), "other"
            )
        table[bucket] = table.get(bucket, 0.0) + tt
    rows = [
        {"part": k, "ms_per_call": v / calls * 1e3, "share": v / total}
        for k, v in sorted(table.items(), key=lambda kv: -kv[1])
    ]
    import io

    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(12)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if "ncalls" in ln), 0)
    return rows, "\n".join(lines[start:])


def neo4j_mastery_variants(
    store: Any, learner_of: Callable[[int], str]
) -> dict[str, Callable[[int], Awaitable[Any]]]:
    """Where Neo4j's ``mastery_of`` spends its time: the store's own query read raw (no domain
    objects), and the same query returning ``updated_at`` as epoch milliseconds instead of a
    zoned ``DateTime`` (whose hydration in the driver is per row and slow): a possible fix."""
    from graph import cypher

    shipped = cypher.MASTERY_OF
    epoch = shipped.replace(
        "m {.*, skill_id: s.id}", "m {.*, skill_id: s.id, updated_at: m.updated_at.epochMillis}"
    )
    out: dict[str, Callable[[int], Awaitable[Any]]] = {
        "mastery_of query, raw rows": lambda k: store._read_all(shipped, ids=[learner_of(k)]),
    }
    if epoch != shipped:
        out["mastery_of query, raw rows, updated_at as epochMillis"] = (
            lambda k: store._read_all(epoch, ids=[learner_of(k)])
        )
    else:
        log("  MASTERY_OF changed shape: the epochMillis variant is skipped")
    return out


def resolver_arguments(services: Any) -> dict[str, Any]:
    """The keyword arguments the GraphQL resolver passes to ``service.recommendations`` (the
    app's index cache, its learning-gain cache and its serving tracer's predictor, where the
    service takes them), so the baseline does the same work minus GraphQL, HTTP and auth."""
    params = inspect.signature(service.recommendations).parameters
    out: dict[str, Any] = {"cache": services.recommender}
    if "gain_cache" in params and hasattr(services, "gains"):
        out["gain_cache"] = services.gains
    if "tracer" in params and hasattr(services.mastery, "predictor"):
        out["tracer"] = services.mastery.predictor
    return out


async def give_tracer_states(store: GraphStore, services: Any, learners: Sequence[str]) -> None:
    """Save each learner's serving-tracer state: the default BKT's state is the vector of its
    mastery, here the stored mastery (what tracing their answers would have left)."""
    from tracing.serving import encode_state
    from tracing.watermark import Watermark

    served = await services.mastery._current()  # the app's serving model (default BKT)
    if served.tracer.name != "bkt":
        raise SystemExit(f"the serving model is {served.model_version}, not the default BKT")
    rows = await store.mastery_of(list(learners))
    states = []
    for lid, got in zip(learners, rows, strict=True):
        p = {r.skill_id: r.probability for r in got}
        prior = served.tracer.init_state()
        vec = np.array([p.get(s, prior[k]) for k, s in enumerate(served.vocab.skill_ids)])
        states.append((lid, served.model_version, encode_state(vec, watermark=Watermark())))
    await store.save_tracer_states(states)
    loaded = await store.load_tracer_states(list(learners), served.model_version)
    if any(b is None for b in loaded):
        raise SystemExit("a learner's tracer state was not saved")
    log(f"  {len(learners)} tracer states saved ({served.model_version})")


# -- one graph on one store --------------------------------------------------------------------
async def bench_case(
    graph: str, cur: Curriculum, kind: str, url: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    skills, edges, items = cur
    idx = CurriculumIndex(skills, edges, items, version="bench")
    deep = np.flatnonzero(idx.level >= np.percentile(idx.level, 90))
    goals = [idx.skill_ids[int(g)] for g in rng.choice(deep, size=64)]
    log(f"{graph} on {kind}: {len(skills)} skills, {len(edges)} edges, {len(items)} items")
    with tempfile.TemporaryDirectory(prefix="bench-recapi-") as tmp:
        saved = os.environ.get("LEARNGRAPH_MODELS")
        os.environ["LEARNGRAPH_MODELS"] = os.path.join(tmp, "models")  # not ./models
        store = await open_store(kind, url, tmp)
        try:
            t = time.perf_counter()
            learners = await load(store, cur, idx, rng)
            load_s = time.perf_counter() - t
            log(f"  loaded in {load_s:.1f} s")
            return await measure(graph, kind, store, learners, goals, idx, load_s, args)
        finally:
            await drain_tasks()
            await store.close()
            if saved is None:
                os.environ.pop("LEARNGRAPH_MODELS", None)
            else:
                os.environ["LEARNGRAPH_MODELS"] = saved


async def measure(
    graph: str,
    kind: str,
    store: GraphStore,
    learners: list[str],
    goals: list[str],
    idx: CurriculumIndex,
    load_s: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    settings = ApiSettings(auth=AUTH)
    services = await build_services(store, settings)
    app = create_app(settings, services=services)
    await give_tracer_states(store, services, learners)
    tokens = {lid: f"Bearer {issue_token(AUTH, lid, 'learner')}" for lid in learners}
    cache = services.recommender

    def case(k: int) -> tuple[str, str]:
        return learners[k % len(learners)], goals[k % len(goals)]

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
            body = r.json()
            recs = (body.get("data") or {}).get("learner") or {}
            if r.status_code != 200 or "errors" in body or not recs.get("recommendations"):
                raise SystemExit(f"unexpected answer for {lid} -> {goal}: {r.status_code} {body}")

        async def learner_key(k: int) -> None:
            lid, _ = case(k)
            r = await client.post(
                "/graphql",
                json={"query": LEARNER_KEY, "variables": {"id": lid}},
                headers={"authorization": tokens[lid]},
            )
            assert r.json()["data"]["learner"]["key"] == lid, r.text

        async def typename(k: int) -> None:
            lid, _ = case(k)
            r = await client.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"authorization": tokens[lid]}
            )
            assert r.status_code == 200, r.text

        same = resolver_arguments(services)
        formula = {k: v for k, v in same.items() if k != "tracer"}

        async def direct(k: int) -> None:
            lid, goal = case(k)
            if not await service.recommendations(store, lid, [goal], 5, **same):
                raise SystemExit(f"no recommendation for {lid} -> {goal}")

        async def direct_formula(k: int) -> None:
            lid, goal = case(k)
            if not await service.recommendations(store, lid, [goal], 5, **formula):
                raise SystemExit(f"no recommendation for {lid} -> {goal}")

        # first call: the app builds its curriculum index (cold)
        first = await clock(gql, 0)
        log(f"  first GraphQL call (index build): {first[0] * 1e3:.0f} ms")
        index = await cache.get(store)
        views = []
        for lid in learners:
            [rows] = await store.mastery_of([lid])
            m = index.mastery_array({r.skill_id: r.probability for r in rows})
            views.append((LearnerView(m), service.mastery_predictor(index, m)))

        async def pure(k: int) -> None:
            view, predict = views[k % len(views)]
            recommend(index, view, predict, goals=[goals[k % len(goals)]], first=5,
                      rng=np.random.default_rng(k))

        n, warm = args.calls, args.warmup
        res: dict[str, Any] = {"graph": graph, "store": kind, "skills": len(idx.skill_ids),
                               "edges": int(idx.edge_src.size),
                               "items": idx.n_items, "load_s": load_s}
        fig: dict[str, Any] = {}
        fig.update(
            await interleaved(
                {"recommend": pure, "service": direct, "service_formula": direct_formula,
                 "graphql": gql, "typename": typename, "learner_key": learner_key},
                n,
                warm,
            )
        )
        c = args.concurrency
        fig["service_concurrent"] = await concurrent("service, concurrent", direct, n, c)
        fig["graphql_concurrent"] = await concurrent("GraphQL, concurrent", gql, n, c)
        fig["first_call_ms"] = first[0] * 1e3
        # the store reads one GraphQL call makes, each on its own
        reads: dict[str, Callable[[int], Awaitable[Any]]] = {
            "change_log probe": lambda k: store.change_log(after_seq=10**9, limit=1000),
            "get_learners (access check)": lambda k: store.get_learners([case(k)[0]]),
            "mastery_of (all skills)": lambda k: store.mastery_of([case(k)[0]]),
            "attempts_of (200)": lambda k: store.attempts_of(case(k)[0], limit=200),
            "load_tracer_states (the serving tracer's state)": lambda k: (
                store.load_tracer_states([case(k)[0]], "bkt-default")
            ),
            "get_items (5, item loader)": lambda k: store.get_items(index.item_ids[k : k + 5]),
        }
        if kind == "neo4j":
            reads.update(neo4j_mastery_variants(store, lambda k: case(k)[0]))
        nr = max(3, min(n, 100))
        res["store_reads"] = {
            name: await sequential(name, read, nr, min(warm, 5)) for name, read in reads.items()
        }
        # curriculum edits: the next call rebuilds the index (change log moved)
        after, second = [], []
        for e in range(args.edits):
            s = idx.skill_ids[e]
            await store.upsert_skills([Skill(s, f"{s} (edit {e})")], actor="bench")
            after.append(await clock(gql, e))
            second.append(await clock(gql, e + 1))
        fig["after_edit"] = stats(after)
        fig["after_edit_next"] = stats(second)
        log(f"  after an edit: {fig['after_edit']['median_ms']:.0f} ms (median of {args.edits})")
        prof = cProfile.Profile()
        pc = args.profile_calls
        prof.enable()
        for k in range(pc):
            await gql(k)
        prof.disable()
        res["profile"], res["profile_top"] = profile_buckets(prof, pc)
        res["figures"] = fig
        res["ratio_graphql_vs_service"] = fig["graphql"]["median_ms"] / fig["service"]["median_ms"]
        res["ratio_graphql_vs_service_cpu"] = (
            fig["graphql"]["cpu_median_ms"] / fig["service"]["cpu_median_ms"]
        )
    return res


# -- report ------------------------------------------------------------------------------------
def report(results: list[dict[str, Any]]) -> str:
    out = []
    for r in results:
        f = r["figures"]
        base = f["service"]["median_ms"]
        out.append(
            f"\n### {r['graph']} on {r['store']} ({r['skills']} skills, {r['items']} items; "
            f"loaded in {r['load_s']:.1f} s)\n"
        )
        out.append("| call | median ms | p99 ms | CPU median ms | req/s | median / service |")
        out.append("|---|---:|---:|---:|---:|---:|")
        rows = [
            ("`recommend`, in memory (reference)", f["recommend"]),
            ("`service.recommendations`, same store (baseline)", f["service"]),
            ("`service.recommendations` without the tracer (stored-mastery formula)",
             f["service_formula"]),
            ("GraphQL `recommendations(first: 5)`, sequential", f["graphql"]),
            ("`{ __typename }` with the token (fixed HTTP + auth + GraphQL)", f["typename"]),
            ("`learner(id) { key }` (+ access check and learner read)", f["learner_key"]),
        ]
        for name, s in rows:
            out.append(
                f"| {name} | {s['median_ms']:.2f} | {s['p99_ms']:.2f} | "
                f"{s['cpu_median_ms']:.2f} | {s['rps']:.0f} | {s['median_ms'] / base:.2f} |"
            )
        for name, key in (("service", "service_concurrent"), ("GraphQL", "graphql_concurrent")):
            s = f[key]
            out.append(
                f"| {name}, {s['clients']} concurrent clients | {s['median_ms']:.2f} | "
                f"{s['p99_ms']:.2f} | {s['cpu_per_call_ms']:.2f} (per call) | {s['rps']:.0f} | "
                f"{s['median_ms'] / base:.2f} |"
            )
        a, b = f["after_edit"], f["after_edit_next"]
        out.append(
            f"| GraphQL, first call after a curriculum edit (index rebuild, {a['n']} edits) | "
            f"{a['median_ms']:.2f} | {a['p99_ms']:.2f} | {a['cpu_median_ms']:.2f} | | "
            f"{a['median_ms'] / base:.2f} |"
        )
        out.append(
            f"| GraphQL, the call after that | {b['median_ms']:.2f} | {b['p99_ms']:.2f} | "
            f"{b['cpu_median_ms']:.2f} | | {b['median_ms'] / base:.2f} |"
        )
        out.append(
            f"\nVery first GraphQL call (builds the index): {f['first_call_ms']:.0f} ms. "
            f"GraphQL / service: x{r['ratio_graphql_vs_service']:.2f} wall, "
            f"x{r['ratio_graphql_vs_service_cpu']:.2f} CPU (medians).\n"
        )
        out.append("Store reads of one call, each timed alone:\n")
        out.append("| read | median ms | p99 ms | CPU median ms |")
        out.append("|---|---:|---:|---:|")
        for name, s in r["store_reads"].items():
            out.append(
                f"| {name} | {s['median_ms']:.2f} | {s['p99_ms']:.2f} | {s['cpu_median_ms']:.2f} |"
            )
        out.append("\nOwn time of the sequential GraphQL path by package (cProfile):\n")
        out.append("| part | ms per call | share |")
        out.append("|---|---:|---:|")
        for p in r["profile"]:
            out.append(f"| {p['part']} | {p['ms_per_call']:.2f} | {p['share']:.0%} |")
        out.append("\nTop entries by own time:\n\n```\n" + r["profile_top"] + "\n```")
    return "\n".join(out)


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Median and p99 per call kind, one panel per graph x store (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [("recommend", "recommend\n(memory)"), ("service", "service"),
             ("graphql", "GraphQL"), ("graphql_concurrent", "GraphQL\n8 clients"),
             ("after_edit", "after\nedit")]
    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * len(results), 3.6), sharey=True,
                             squeeze=False)
    for ax, r in zip(axes[0], results, strict=True):
        f = r["figures"]
        x = np.arange(len(kinds))
        ax.bar(x - 0.2, [f[k]["median_ms"] for k, _ in kinds], 0.4, label="median")
        ax.bar(x + 0.2, [f[k]["p99_ms"] for k, _ in kinds], 0.4, label="p99")
        ax.set_xticks(x, [label for _, label in kinds], fontsize=7)
        ax.set_yscale("log")
        ax.set_title(f"{r['graph']}, {r['store']}", fontsize=9)
    axes[0][0].set_ylabel("latency (ms, wall)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    log(f"wrote {path}")


def curricula(args: argparse.Namespace) -> list[tuple[str, Curriculum]]:
    rng = np.random.default_rng(args.seed)
    out: list[tuple[str, Curriculum]] = []
    for g in args.graphs.split(","):
        if g == "synthetic":
            cur = synthetic(args.skills, args.items_per_skill, rng)
            out.append((f"synthetic {args.skills}/{args.skills * args.items_per_skill}", cur))
        elif g == "junyi":
            j_skills, j_edges, j_items, dropped = junyi()
            log(f"junyi: dropped the cycle-closing edge {dropped[0]} -> {dropped[1]}")
            out.append(("junyi", (j_skills, j_edges, j_items)))
        else:
            raise SystemExit(f"unknown graph {g!r}: use synthetic and/or junyi (comma-separated)")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--calls", type=int, default=300, help="timed calls per figure")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--edits", type=int, default=5, help="curriculum edits timed")
    ap.add_argument("--profile-calls", type=int, default=50)
    ap.add_argument("--graphs", default="synthetic,junyi")
    ap.add_argument("--skills", type=int, default=1000, help="synthetic graph's skills")
    ap.add_argument("--items-per-skill", type=int, default=10)
    ap.add_argument("--neo4j", default=None, metavar="URL",
                    help="also run on this Neo4j server (it is WIPED first)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, metavar="PATH")
    ap.add_argument("--plot", default=None, metavar="PNG", help="median / p99 bar chart")
    args = ap.parse_args(argv)
    # the server's notes on a fresh database (label not there yet) are not figures
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    if args.calls < 1 or args.concurrency < 1:
        raise SystemExit("--calls and --concurrency must be at least 1")
    stores = [("sqlite", None)] + ([("neo4j", args.neo4j)] if args.neo4j else [])
    results = []
    for graph, cur in curricula(args):
        for kind, url in stores:
            results.append(asyncio.run(bench_case(graph, cur, kind, url, args)))
    load = os.getloadavg()
    header = (
        f"calls {args.calls} (after {args.warmup} warm-up), {args.concurrency} concurrent "
        f"clients; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"on {os.cpu_count()} CPUs"
    )
    print(header)
    print(report(results))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "loadavg": load, "results": results}, indent=2)
        )
        log(f"wrote {args.json}")
    if args.plot:
        plot(results, Path(args.plot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
