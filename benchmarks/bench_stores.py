"""Store benchmark: bulk attempt recording and reading a 1,000-skill prerequisite subgraph.

For the store named by ``--db`` (default: a fresh SQLite file in a temporary folder):

1. builds a curriculum of ``--skills`` skills whose last skill transitively requires all of
   them (each skill needs its predecessor and up to two random earlier ones), one item per
   five skills, and ``--learners`` learners;
2. records ``--attempts`` attempts in batches of ``--batch`` through ``record_attempts``:
   attempts/s over the whole run, median and p99 latency per batch; then re-sends ten batches
   (all duplicates) and makes ``--singles`` calls of one attempt each (the API's path);
3. reads the last skill's ``ancestors`` (the whole 1,000-skill subgraph with its edges) and
   the whole ``prerequisite_graph`` ``--repeats`` times: median and p99;
4. runs a baseline in the same process on the same rows: for SQLite, raw ``sqlite3``
   ``executemany`` into a bare table (same pragmas, one transaction per batch) and the same
   recursive query without the store; for Neo4j, the raw driver writing the rows with one
   ``UNWIND ... CREATE`` per batch (no idempotence check) into a throwaway label.

Usage::

    python benchmarks/bench_stores.py                                # SQLite, temp file
    python benchmarks/bench_stores.py --db bolt://127.0.0.1:7697 --wipe
    python benchmarks/bench_stores.py --plot docs/img/bench_stores_sqlite.png

``--wipe`` empties a Neo4j database first (it refuses to run on one holding data otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.models import (  # noqa: E402
    Attempt,
    Item,
    ItemKind,
    Learner,
    Prerequisite,
    Skill,
    SkillWeight,
)
from graph.open import open_store  # noqa: E402
from graph.sqlite_rows import to_us  # noqa: E402
from migrations.runner import discover, migrate  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(name: str, seconds: Sequence[float]) -> str:
    return (f"{name}: median {statistics.median(seconds) * 1e3:.2f} ms, "
            f"p99 {percentile(seconds, 99) * 1e3:.2f} ms over {len(seconds)} runs")


def curriculum(n_skills: int, rng: random.Random) -> tuple[list[Skill], list[Prerequisite],
                                                          list[Item]]:
    ids = [f"bench-s{i:05d}" for i in range(n_skills)]
    skills = [Skill(id=s, name=f"Bench skill {i}", topic=f"t{i % 12}", area=f"a{i % 4}")
              for i, s in enumerate(ids)]
    edges: dict[tuple[str, str], Prerequisite] = {}
    for i in range(1, n_skills):
        sources = {i - 1} | {rng.randrange(i) for _ in range(2)}
        for j in sources:
            edges[(ids[j], ids[i])] = Prerequisite(ids[j], ids[i], round(rng.uniform(0.3, 1), 2))
    items = [Item(id=f"bench-i{k:05d}", kind=ItemKind.EXERCISE, title=f"Item {k}",
                  skills=(SkillWeight(ids[k * 5]),), difficulty=rng.random())
             for k in range(max(1, n_skills // 5))]
    return skills, list(edges.values()), items


def attempt_rows(n: int, learners: Sequence[str], items: Sequence[str],
                 rng: random.Random) -> list[Attempt]:
    return [Attempt(attempt_id=f"bench-a{k:07d}", learner_id=learners[rng.randrange(len(learners))],
                    item_id=items[rng.randrange(len(items))], score=float(rng.random() < 0.6),
                    timestamp=T0 + timedelta(seconds=k), response_time_ms=rng.randrange(500, 60000),
                    hints_used=rng.randrange(3))
            for k in range(n)]


class Clock:
    """Wall-clock latencies of repeated runs, plus the process CPU time they used (all
    threads): on a shared machine CPU time per attempt is the steadier figure."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu = 0.0
        self._start = (0.0, 0.0)

    def start(self) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def stop(self) -> None:
        self.wall.append(time.perf_counter() - self._start[0])
        self.cpu += time.process_time() - self._start[1]


async def timed_batches(batches: Sequence[Sequence[Attempt]], label: str,
                        write: Callable[[Sequence[Attempt]], Awaitable[Any]]) -> Clock:
    clock = Clock()
    latencies = clock.wall
    step = max(1, len(batches) // 10)
    for n, batch in enumerate(batches, 1):
        clock.start()
        await write(batch)
        clock.stop()
        if n % step == 0 or n == len(batches):
            print(f"  {label}: {n}/{len(batches)} batches, "
                  f"{sum(len(b) for b in batches[:n]) / sum(latencies):,.0f} attempts/s so far",
                  file=sys.stderr, flush=True)
    return clock


async def timed_reads(repeats: int, read: Callable[[], Awaitable[Any]]) -> Clock:
    clock = Clock()
    for _ in range(repeats):
        clock.start()
        await read()
        clock.stop()
    return clock


# -- baselines ------------------------------------------------------------------------------


def sqlite_baseline(batches: Sequence[Sequence[Attempt]], learners: Sequence[str],
                    edges: Sequence[Prerequisite], top: str,
                    repeats: int) -> tuple[Clock, Clock, Clock]:
    """Raw sqlite3, no store code, in a temporary file with the store's pragmas and schema
    (the migration files executed directly): executemany per batch into ``attempts``, and
    the recursive ancestors query plus the edges among the result. Also the floor: the same
    rows into a bare one-index table. Returns (schema writes, bare writes, reads)."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "baseline.db", isolation_level=None)
        for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON",
                       "cache_size = -65536"):
            conn.execute(f"PRAGMA {pragma}")
        for migration in discover("sqlite"):
            for statement in migration.statements:
                conn.execute(statement)
        conn.execute("CREATE TABLE bare (attempt_id TEXT PRIMARY KEY, learner_id TEXT,"
                     " item_id TEXT, score REAL, ts_us INTEGER, response_time_ms INTEGER,"
                     " hints_used INTEGER)")
        conn.executemany("INSERT INTO learners (id, display_name) VALUES (?, '')",
                         [(lid,) for lid in learners])
        conn.executemany("INSERT INTO skills (id, name) VALUES (?, '')",
                         [(s,) for s in sorted({x for e in edges for x in (e.source, e.target)})])
        conn.executemany("INSERT INTO prerequisites VALUES (?, ?, ?)",
                         [(e.source, e.target, e.strength) for e in edges])
        series = {"attempts": Clock(), "bare": Clock()}
        for batch in batches:
            rows = [(a.attempt_id, a.learner_id, a.item_id, a.score, to_us(a.timestamp, "t"),
                     a.response_time_ms, a.hints_used) for a in batch]
            for table, clock in series.items():
                clock.start()
                conn.execute("BEGIN")
                conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
                clock.stop()
        reads = Clock()
        for _ in range(repeats):
            reads.start()
            ids = [r[0] for r in conn.execute(
                "WITH RECURSIVE up(id) AS (SELECT ? UNION SELECT p.source FROM prerequisites p"
                " JOIN up ON p.target = up.id) SELECT id FROM up", (top,))]
            conn.execute("SELECT p.source, p.target, p.strength FROM json_each(?) j"
                         " JOIN prerequisites p ON p.target = j.value", (json.dumps(ids),)
                         ).fetchall()
            reads.stop()
        conn.close()
    return series["attempts"], series["bare"], reads


async def neo4j_baseline(url: str, batches: Sequence[Sequence[Attempt]],
                         repeats: int) -> tuple[Clock, Clock]:
    """Raw driver: one UNWIND ... CREATE per batch into the label BenchBaseline (no
    idempotence or existence checks), then removed; and a plain read of every skill id with
    its incoming edges as bare values (the benchmark's subgraph is every skill)."""
    import neo4j

    from graph.open import neo4j_target

    uri, auth = neo4j_target(url)
    driver = neo4j.AsyncGraphDatabase.driver(uri, auth=auth)
    query = ("UNWIND $rows AS r CREATE (:BenchBaseline {attempt_id: r.id, learner_id: r.l,"
             " item_id: r.i, score: r.s, timestamp: r.t, response_time_ms: r.rt, hints: r.h})")
    clock = Clock()
    try:
        for batch in batches:
            rows = [{"id": a.attempt_id, "l": a.learner_id, "i": a.item_id, "s": a.score,
                     "t": a.timestamp, "rt": a.response_time_ms, "h": a.hints_used}
                    for a in batch]
            clock.start()
            async with driver.session() as session:
                await session.execute_write(_consume, query, rows)
            clock.stop()
        async with driver.session() as session:
            result = await session.run("MATCH (n:BenchBaseline) CALL (n) { DELETE n }"
                                       " IN TRANSACTIONS OF 10000 ROWS")
            await result.consume()
        reads = Clock()
        read = ("MATCH (s:Skill) RETURN s.id AS id,"
                " [(p:Skill)-[e:PREREQUISITE_OF]->(s) | [p.id, e.strength]] AS incoming")
        for _ in range(repeats):
            reads.start()
            async with driver.session() as session:
                await session.execute_read(_values, read)
            reads.stop()
    finally:
        await driver.close()
    return clock, reads


async def _consume(tx: Any, query: str, rows: list[dict[str, Any]]) -> None:
    result = await tx.run(query, rows=rows)
    await result.consume()


async def _values(tx: Any, query: str) -> list[Any]:
    result = await tx.run(query)
    return [record.values() async for record in result]


# -- main -----------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    tmp = None
    url = args.db
    if url is None:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.db"
    store: Any = await open_store(url)
    try:
        if args.wipe:
            await store.wipe_all_data_for_tests()
        await migrate(store)
        if await store.attempt_count() or (await store.list_skills(limit=1)):
            raise SystemExit(f"{url} already holds data; use an empty store (or --wipe)")
        print(f"store: {url} ({store.kind}); python {sys.version.split()[0]}")

        skills, edges, items = curriculum(args.skills, rng)
        learners = [Learner(f"bench-l{i:05d}", f"Learner {i}") for i in range(args.learners)]
        start = time.perf_counter()
        await store.upsert_skills(skills, actor="bench")
        await store.upsert_prerequisites(edges, actor="bench")
        await store.upsert_items(items, actor="bench")
        await store.upsert_learners(learners)
        print(f"curriculum: {len(skills)} skills, {len(edges)} edges, {len(items)} items, "
              f"{len(learners)} learners written in {time.perf_counter() - start:.2f} s")

        rows = attempt_rows(args.attempts, [lr.id for lr in learners], [i.id for i in items], rng)
        batches = [rows[k:k + args.batch] for k in range(0, len(rows), args.batch)]
        store_lat = await timed_batches(batches, "store", store.record_attempts)
        retry_lat = await timed_batches(batches[:10], "retry", store.record_attempts)
        singles = [[a] for a in attempt_rows(args.singles, [lr.id for lr in learners],
                                             [i.id for i in items], rng)]
        singles = [[replace(b[0], attempt_id=f"single-{n}")] for n, b in enumerate(singles)]
        single_lat = await timed_batches(singles, "single", store.record_attempts)

        top = skills[-1].id
        graph = await store.ancestors([top])
        assert len(graph.skills) == len(skills), "the benchmark DAG should span every skill"
        anc_reads = await timed_reads(args.repeats, lambda: store.ancestors([top]))
        whole_reads = await timed_reads(args.repeats, store.prerequisite_graph)

        if store.kind == "sqlite":
            base_writes, floor_writes, base_reads = sqlite_baseline(
                batches, [lr.id for lr in learners], edges, top, args.repeats)
            base_name = "raw sqlite3 executemany, same schema"
        else:
            base_writes, base_reads = await neo4j_baseline(url, batches, args.repeats)
            floor_writes = None
            base_name = "raw driver UNWIND CREATE"
    finally:
        await store.close()
        if tmp is not None:
            tmp.cleanup()

    def line(name: str, clock: Clock) -> str:
        text = (f"  {name}: {args.attempts / sum(clock.wall):,.0f} attempts/s; "
                f"{summary('batch latency', clock.wall)}")
        if store.kind == "sqlite":  # a server's work is not in this process's CPU time
            text += f"; {args.attempts / clock.cpu:,.0f} attempts per CPU-second"
        return text

    print(f"\nrecord_attempts, {args.attempts:,} attempts in batches of {args.batch}:")
    print(line("store", store_lat))
    print(line(f"baseline ({base_name})", base_writes))
    if floor_writes is not None:
        print(line("floor (raw executemany, bare table with only a primary key)",
                   floor_writes))
    print(f"  store / baseline throughput: {sum(base_writes.wall) / sum(store_lat.wall):.2f}"
          + (f" (CPU: {base_writes.cpu / store_lat.cpu:.2f})" if store.kind == "sqlite" else ""))
    print(f"  retried batches (all duplicates): {summary('batch latency', retry_lat.wall)}")
    print(f"  one attempt per call (the recordAttempt path), {len(single_lat.wall)} calls: "
          f"{summary('call latency', single_lat.wall)}")
    print(f"\nsubgraph read, ancestors of one skill = {len(graph.skills)} skills, "
          f"{len(graph.edges)} edges:")
    def read_line(name: str, clock: Clock) -> str:
        text = f"  {name}: {summary('read', clock.wall)}"
        if store.kind == "sqlite":
            text += f"; {clock.cpu / len(clock.wall) * 1e3:.2f} ms CPU per read"
        return text

    print(read_line("store ancestors()", anc_reads))
    print(read_line("store prerequisite_graph()", whole_reads))
    if base_reads is not None:
        what = ("raw recursive query, ids + edges, no objects built" if store.kind == "sqlite"
                else "raw driver, every skill id + incoming edges as plain values")
        print(read_line(f"baseline ({what})", base_reads))
        print(f"  store / baseline median: "
              f"{statistics.median(anc_reads.wall) / statistics.median(base_reads.wall):.2f}")
    if args.plot:
        plot(args.plot, store.kind, store_lat.wall, base_writes.wall, base_name)


def plot(path: Path, kind: str, store_lat: Sequence[float], base_lat: Sequence[float],
         base_name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot([x * 1e3 for x in store_lat], label="store record_attempts")
    ax.plot([x * 1e3 for x in base_lat], label=f"baseline: {base_name}")
    ax.set_xlabel("batch number (1,000 attempts each)")
    ax.set_ylabel("batch latency (ms, log scale)")
    ax.set_yscale("log")
    ax.set_title(f"Bulk attempt recording, {kind} store vs baseline")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None, help="store URL (default: a temp SQLite file)")
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--skills", type=int, default=1_000)
    parser.add_argument("--learners", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--singles", type=int, default=1_000,
                        help="calls recording one attempt each, timed one by one")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wipe", action="store_true", help="empty a Neo4j database first")
    parser.add_argument("--plot", type=Path, default=None, help="write a PNG of batch latency")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
