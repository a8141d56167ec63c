"""Neo4j hot reads with timestamps as epoch microseconds vs as ``DateTime`` values.

The store's many-row reads (a learner's mastery, a page of attempts, the change log) return
timestamps as integer microseconds since the epoch computed in Cypher
(``graph.cypher.epoch_us``) and turned back into ``datetime`` in Python
(``graph.neo4j_values.to_datetime``). The baseline is the same query returning the stored
``DateTime`` (what the store did before), hydrated by the driver and converted with
``DateTime.to_native()``. Both run in this process on this server, interleaved round-robin,
each producing the same domain objects (checked equal before timing).

The data: ``--skills`` skills, one learner with a mastery row on each, ``--attempts``
attempts. Figures: wall median and p99, CPU median (ms) and the ratio of medians to the
baseline. The server is WIPED first.

Usage::

    nice .venv/bin/python benchmarks/bench_neo4j_timestamps.py --neo4j bolt://localhost:7706 \\
        [--skills 1000] [--attempts 200] [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph import cypher  # noqa: E402
from graph import neo4j_values as v  # noqa: E402
from graph.models import Attempt, Item, ItemKind, Learner, Mastery, Skill, SkillWeight  # noqa: E402
from graph.neo4j_store import Neo4jStore, rust_extension_loaded  # noqa: E402
from graph.open import neo4j_target  # noqa: E402
from migrations.runner import migrate  # noqa: E402

T0 = datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC)
LEARNER = "bench-learner"


def baseline(query: str, projected: str, raw: str) -> str:
    """``query`` with its epoch-microseconds projection put back to the raw ``DateTime``."""
    if projected not in query:
        raise SystemExit(f"the store's query changed shape ({projected!r} not found); update "
                         "this benchmark's baseline")
    return query.replace(projected, raw)


MASTERY_DATETIME = baseline(cypher.MASTERY_OF, cypher._MASTERY_PROJECTION,
                            "m {.*, skill_id: s.id}")
ATTEMPTS_QUERY = cypher.attempts_of(since=False, cursor=False)
ATTEMPTS_DATETIME = baseline(
    ATTEMPTS_QUERY, f"a {{.*, timestamp: {cypher.epoch_us('a.timestamp')}}}", "a {.*}")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def load(store: Neo4jStore, skills: int, attempts: int) -> None:
    sids = [f"s{k:05d}" for k in range(skills)]
    await store.upsert_skills([Skill(s, s) for s in sids], actor="bench")
    await store.upsert_items([Item("i0", ItemKind.EXERCISE, "i0", (SkillWeight(sids[0]),))],
                             actor="bench")
    await store.upsert_learners([Learner(LEARNER, "Bench")])
    await store.save_mastery([
        Mastery(LEARNER, s, 0.5, 0.1, T0 + timedelta(seconds=k, microseconds=k), "v1")
        for k, s in enumerate(sids)])
    await store.record_attempts([Attempt(f"a{k:05d}", LEARNER, "i0", float(k % 2),
                                         T0 + timedelta(minutes=k, microseconds=k))
                                 for k in range(attempts)])


async def main(args: argparse.Namespace) -> None:
    uri, auth = neo4j_target(args.neo4j)
    store = await Neo4jStore.open(uri, auth=auth)
    try:
        log(f"wiping and loading {args.neo4j}: {args.skills} mastery rows, "
            f"{args.attempts} attempts")
        await store.wipe_all_data_for_tests()
        await migrate(store)
        await load(store, args.skills, args.attempts)

        async def mastery_datetime() -> list[Mastery]:
            rows = await store._read_all(MASTERY_DATETIME, ids=[LEARNER])
            return [v.mastery(r["lid"], r["mastery"]) for r in rows]

        async def mastery_epoch() -> list[Mastery]:
            return (await store.mastery_of([LEARNER]))[0]

        async def attempts_datetime() -> list[Attempt]:
            rows = await store._read_all(ATTEMPTS_DATETIME, learner_id=LEARNER,
                                         limit=args.attempts)
            return [v.attempt(r["attempt"]) for r in rows]

        async def attempts_epoch() -> list[Attempt]:
            return list((await store.attempts_of(LEARNER, limit=args.attempts)).attempts)

        cases: list[tuple[str, str, Callable[[], Awaitable[Any]]]] = [
            ("mastery_of (1 learner)", "DateTime (baseline)", mastery_datetime),
            ("mastery_of (1 learner)", "epoch microseconds (shipped)", mastery_epoch),
            ("attempts_of", "DateTime (baseline)", attempts_datetime),
            ("attempts_of", "epoch microseconds (shipped)", attempts_epoch),
        ]
        if await mastery_datetime() != await mastery_epoch():
            raise SystemExit("the two mastery reads disagree")
        if await attempts_datetime() != await attempts_epoch():
            raise SystemExit("the two attempt reads disagree")
        wall: dict[int, list[float]] = {k: [] for k in range(len(cases))}
        cpu: dict[int, list[float]] = {k: [] for k in range(len(cases))}
        for n in range(args.warmup + args.calls):
            for k, (_, _, call) in enumerate(cases):
                w0, c0 = time.perf_counter(), time.process_time()
                await call()
                if n >= args.warmup:
                    wall[k].append((time.perf_counter() - w0) * 1e3)
                    cpu[k].append((time.process_time() - c0) * 1e3)
            if (n + 1) % max(1, (args.warmup + args.calls) // 4) == 0:
                log(f"  round {n + 1}/{args.warmup + args.calls}")
    finally:
        await store.close()

    print(f"Neo4j at {args.neo4j}; neo4j-rust-ext loaded: {rust_extension_loaded()}; "
          f"{args.calls} calls each (after {args.warmup} warm-up), interleaved\n")
    print("| read | timestamps as | median ms | p99 ms | CPU median ms | median / baseline |")
    print("|---|---|---:|---:|---:|---:|")
    base: dict[str, float] = {}
    for k, (read, how, _) in enumerate(cases):
        med = float(np.median(wall[k]))
        base.setdefault(read, med)
        print(f"| {read} ({args.skills if 'mastery' in read else args.attempts} rows) | {how} | "
              f"{med:.2f} | {float(np.percentile(wall[k], 99)):.2f} | "
              f"{float(np.median(cpu[k])):.2f} | {med / base[read]:.2f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neo4j", required=True, help="server URL (it is WIPED first)")
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
