"""A learner's history paged backward (``attempts_window``) against reading it all and slicing.

``learner { attempts(last: 20, before: ...) }`` is a keyset window: one index seek for the
rows, one ``EXISTS`` probe at the cursor. The baseline is what backward paging would cost
without it: the whole history read newest first (``attempts_of(limit=N)``) and the page cut
out in Python. Also timed: the forward first page (``attempts_of(limit=20)``, the read every
page of the API made before) and a backward window from the middle of the history. All run in
this process on one store, each read's calls in a block (interleaved, the baseline's full read
pushed the far end of the history out of SQLite's page cache before every window: a few ms
each, not the window's own cost), with a garbage collection before each timed call, off the
clock; each window is checked equal to the slice of the full read before timing.

The data: one learner with ``--attempts`` attempts (a fresh SQLite file, or a WIPED Neo4j
server with ``--neo4j``). Figures: wall median and p99, CPU median (ms, ``process_time``: the
client side) and the ratio of wall medians to the baseline.

Usage::

    nice .venv/bin/python benchmarks/bench_history_windows.py [--attempts 20000] [--calls 200]
        [--neo4j bolt://localhost:7701]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.models import Attempt, Item, ItemKind, Learner, Skill, SkillWeight  # noqa: E402
from graph.models import WindowRequest as W  # noqa: E402
from migrations.runner import migrate  # noqa: E402

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LEARNER = "bench-learner"
PAGE = 20


async def open_store(neo4j: str | None, folder: str) -> Any:
    if neo4j is None:
        from graph.sqlite_store import SqliteStore

        store: Any = await SqliteStore.open(f"{folder}/bench.db")
    else:
        from graph.neo4j_store import Neo4jStore
        from graph.open import neo4j_target

        uri, auth = neo4j_target(neo4j)
        store = await Neo4jStore.open(uri, auth=auth)
        await store.wipe_all_data_for_tests()
    await migrate(store)
    return store


async def fill(store: Any, n: int) -> None:
    await store.upsert_skills([Skill("s", "S")], actor="bench")
    await store.upsert_items([Item("i", ItemKind.EXERCISE, "I", (SkillWeight("s"),))],
                             actor="bench")
    await store.upsert_learners([Learner(LEARNER, "L")])
    batch = 1000
    for start in range(0, n, batch):
        await store.record_attempts([
            Attempt(f"a{k:07d}", LEARNER, "i", float(k % 2), T0 + timedelta(seconds=k))
            for k in range(start, min(n, start + batch))])


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_store(args.neo4j, folder)
        try:
            await fill(store, args.attempts)
            full = list((await store.attempts_of(LEARNER, limit=args.attempts)).attempts)
            middle = (await store.attempts_window(LEARNER, W(limit=args.attempts // 2))
                      ).cursors[-1]
            half = args.attempts // 2

            async def sliced() -> list[Attempt]:
                rows = (await store.attempts_of(LEARNER, limit=args.attempts)).attempts
                return list(rows[-PAGE:])

            async def oldest() -> list[Attempt]:
                return list((await store.attempts_window(LEARNER, W(PAGE, backward=True))).rows)

            async def before_middle() -> list[Attempt]:
                got = await store.attempts_window(LEARNER, W(PAGE, before=middle, backward=True))
                return list(got.rows)

            async def first_page() -> list[Attempt]:
                return list((await store.attempts_of(LEARNER, limit=PAGE)).attempts)

            cases: list[tuple[str, Callable[[], Awaitable[list[Attempt]]], list[Attempt]]] = [
                ("read all + slice the oldest 20 (baseline)", sliced, full[-PAGE:]),
                ("attempts_window last 20 (oldest)", oldest, full[-PAGE:]),
                ("attempts_window last 20 before the middle", before_middle,
                 full[half - 1 - PAGE: half - 1]),
                ("attempts_of first 20 (forward)", first_page, full[:PAGE]),
            ]
            for name, call, want in cases:
                if await call() != want:
                    raise SystemExit(f"{name}: not the expected rows")
            wall: dict[str, list[float]] = {name: [] for name, _, _ in cases}
            cpu: dict[str, list[float]] = {name: [] for name, _, _ in cases}
            for name, call, _ in cases:
                for _ in range(args.calls):
                    gc.collect()  # the baseline's many rows are not collected on the clock
                    c0, w0 = time.process_time(), time.perf_counter()
                    await call()
                    wall[name].append(1000 * (time.perf_counter() - w0))
                    cpu[name].append(1000 * (time.process_time() - c0))
        finally:
            await store.close()
    kind = "Neo4j" if args.neo4j else "SQLite"
    base = float(np.median(wall[cases[0][0]]))
    print(f"{kind}, one learner with {args.attempts} attempts, {args.calls} calls each")
    print("| read | wall median ms | wall p99 ms | CPU median ms | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, _, _ in cases:
        med = float(np.median(wall[name]))
        print(f"| {name} | {med:.3f} | {float(np.percentile(wall[name], 99)):.3f} | "
              f"{float(np.median(cpu[name])):.3f} | {med / base:.4f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=20000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--neo4j", default=None, help="a bolt URL (the server is WIPED)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
