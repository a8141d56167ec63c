"""Neo4j ``groups_of_teacher``: the ``Teacher`` index (migration 0002) vs scanning every group.

Writes ``--groups`` groups (no learners), each taught by one of ``--teachers`` teachers and
a shared co-teacher, then times, interleaved in this process on this server: the store's
``groups_of_teacher`` (a seek on ``Teacher.id``, then the teacher's groups) and the baseline,
the query the store ran before (``$teacher_id IN g.teacher_ids`` over every group), for a
teacher with a handful of groups. Both return the same groups (checked before timing).
Figures: wall median and p99, CPU median (ms), ratio to the baseline. The server is WIPED.

Usage::

    nice .venv/bin/python benchmarks/bench_neo4j_teacher_groups.py --neo4j bolt://localhost:7706 \\
        [--groups 20000] [--teachers 4000] [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph import cypher  # noqa: E402
from graph import neo4j_values as v  # noqa: E402
from graph.models import Group  # noqa: E402
from graph.neo4j_store import Neo4jStore  # noqa: E402
from graph.open import neo4j_target  # noqa: E402
from migrations.runner import migrate  # noqa: E402

SEEK = "MATCH (:Teacher {id: $teacher_id})<-[:TAUGHT_BY]-(g:Group)"
SCAN = "MATCH (g:Group) WHERE $teacher_id IN g.teacher_ids"
CHUNK = 2000


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def main(args: argparse.Namespace) -> None:
    if SEEK not in cypher.GROUPS_OF_TEACHER:
        raise SystemExit("GROUPS_OF_TEACHER changed shape; update this benchmark's baseline")
    scan_query = cypher.GROUPS_OF_TEACHER.replace(SEEK, SCAN)
    uri, auth = neo4j_target(args.neo4j)
    store = await Neo4jStore.open(uri, auth=auth)
    try:
        await store.wipe_all_data_for_tests()
        await migrate(store)
        groups = [Group(f"g{k:06d}", f"Group {k}", (f"t{k % args.teachers:05d}", "co"), ())
                  for k in range(args.groups)]
        for at in range(0, len(groups), CHUNK):
            await store.upsert_groups(groups[at:at + CHUNK])
            log(f"  wrote {min(at + CHUNK, len(groups))}/{len(groups)} groups")
        teacher = "t00001"

        async def scan() -> list[Group]:
            rows = await store._read_all(scan_query, teacher_id=teacher)
            return [v.group(r["grp"]) for r in rows]

        async def seek() -> list[Group]:
            return await store.groups_of_teacher(teacher)

        found = await seek()
        if found != await scan() or not found:
            raise SystemExit("the two reads disagree")
        cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("scan every group (baseline)", scan), ("Teacher index (shipped)", seek)]
        wall: list[list[float]] = [[] for _ in cases]
        cpu: list[list[float]] = [[] for _ in cases]
        for n in range(args.warmup + args.calls):
            for k, (_, call) in enumerate(cases):
                w0, c0 = time.perf_counter(), time.process_time()
                await call()
                if n >= args.warmup:
                    wall[k].append((time.perf_counter() - w0) * 1e3)
                    cpu[k].append((time.process_time() - c0) * 1e3)
            if (n + 1) % max(1, (args.warmup + args.calls) // 4) == 0:
                log(f"  round {n + 1}/{args.warmup + args.calls}")
    finally:
        await store.close()

    print(f"{args.groups} groups, {args.teachers} teachers (+1 co-teacher of every group); "
          f"the teacher read has {len(found)} groups; {args.calls} calls each, interleaved\n")
    print("| groups_of_teacher | median ms | p99 ms | CPU median ms | median / baseline |")
    print("|---|---:|---:|---:|---:|")
    base = float(np.median(wall[0]))
    for k, (name, _) in enumerate(cases):
        med = float(np.median(wall[k]))
        print(f"| {name} | {med:.2f} | {float(np.percentile(wall[k], 99)):.2f} | "
              f"{float(np.median(cpu[k])):.2f} | {med / base:.3f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neo4j", required=True, help="server URL (it is WIPED first)")
    parser.add_argument("--groups", type=int, default=20000)
    parser.add_argument("--teachers", type=int, default=4000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
