"""Neo4j read shape: one record per row vs one collected record, for a 1,000-skill subgraph.

The Neo4j store returns many-row reads as ONE record holding a list (``RETURN collect({...})
AS rows``). This script measures why, in one process on one server: it writes the same
benchmark curriculum as ``bench_stores.py`` (the last skill requires all the others), then
reads that skill's ancestors with the store's closure query shaped three ways, interleaved
``--repeats`` times:

* ``per-record, Record.data()``: one record per skill, converted with ``Record.data()``
  (the baseline: what the driver's docs show);
* ``per-record, tuples``: one record per skill, values taken as they come;
* ``collected``: the store's query as shipped, one record.

Usage::

    python benchmarks/bench_neo4j_reads.py --db bolt://127.0.0.1:7688 --wipe
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_stores import curriculum, percentile  # noqa: E402
from graph import cypher  # noqa: E402
from graph.neo4j_store import Neo4jStore, rust_extension_loaded  # noqa: E402
from graph.open import neo4j_target  # noqa: E402
from migrations.runner import migrate  # noqa: E402

PER_RECORD = cypher.closure("ancestors", None).replace(
    "RETURN collect({skill: s {.*},\n"
    "                incoming: [(p:Skill)-[e:PREREQUISITE_OF]->(s) | [p.id, e.strength]]})"
    " AS rows",
    "RETURN s {.*} AS skill,"
    " [(p:Skill)-[e:PREREQUISITE_OF]->(s) | [p.id, e.strength]] AS incoming")


async def main(args: argparse.Namespace) -> None:
    if cypher.closure("ancestors", None) == PER_RECORD:
        raise SystemExit("the store's closure query changed shape; update PER_RECORD")
    uri, auth = neo4j_target(args.db)
    store = await Neo4jStore.open(uri, auth=auth)
    try:
        if args.wipe:
            await store.wipe_all_data_for_tests()
        await migrate(store)
        if await store.list_skills(limit=1):
            raise SystemExit(f"{args.db} already holds data; use an empty store (or --wipe)")
        skills, edges, _ = curriculum(args.skills, random.Random(args.seed))
        await store.upsert_skills(skills, actor="bench")
        await store.upsert_prerequisites(edges, actor="bench")
        top = skills[-1].id
        print(f"{args.db}: {len(skills)} skills, {len(edges)} edges; "
              f"rust packstream: {rust_extension_loaded()}")
        driver = store._driver  # the same pooled driver the store reads with

        async def per_record_data() -> int:
            async with driver.session() as session:
                result = await session.run(PER_RECORD, ids=[top])
                return len(await result.data())

        async def per_record_tuples() -> int:
            async with driver.session() as session:
                result = await session.run(PER_RECORD, ids=[top])
                return len([tuple(r) async for r in result])

        async def collected() -> int:
            return len(await store._read_all(cypher.closure("ancestors", None), ids=[top]))

        variants: dict[str, Callable[[], Awaitable[int]]] = {
            "per-record, Record.data() (baseline)": per_record_data,
            "per-record, tuples": per_record_tuples,
            "collected (as shipped)": collected,
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for rep in range(args.repeats):
            for name, read in variants.items():
                start = time.perf_counter()
                n = await read()
                times[name].append(time.perf_counter() - start)
                assert n == len(skills), f"{name} read {n} skills, expected {len(skills)}"
            print(f"  round {rep + 1}/{args.repeats}", file=sys.stderr, flush=True)
    finally:
        await store.close()
    base = statistics.median(times["per-record, Record.data() (baseline)"])
    for name, seconds in times.items():
        print(f"{name}: median {statistics.median(seconds) * 1e3:.1f} ms, "
              f"p99 {percentile(seconds, 99) * 1e3:.1f} ms over {len(seconds)} runs; "
              f"vs baseline {statistics.median(seconds) / base:.2f}")


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="bolt://host:port of a Neo4j server")
    parser.add_argument("--skills", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wipe", action="store_true", help="empty the database first")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args: Any = parse()
    asyncio.run(main(args))
