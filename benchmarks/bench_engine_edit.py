"""What a curriculum edit made by another process costs a serving process until both of its
curriculum caches (the recommender's index and the serving tracer's view) are at the edit's
change-log seq: curriculum reads (graph reads and item pages) and CPU per edit, for

* ``engine``: ``recommender.engine.Engine`` (one read per seq shared by both; the answer
  path notices the edit, the engine brings the index along), and
* ``apart``: an ``IndexCache()`` and a ``MasteryUpdater`` of their own (how ``api.app`` built
  them before the engine), each brought to the seq by its own call.

The store is ``bench_hot_path.py``'s (1,000 skills, 10,000 items; build it with that script's
``--db``), copied to a temporary file so the edits do not touch it. Each edit, made through a
second handle of the copy, changes one item's difficulty (``--edit item``) or one existing
prerequisite's strength (``--edit edge``); the two set-ups take turns.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_engine_edit.py --db /tmp/hot/hot.db [--edits 10] \\
        [--edit item|edge]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.sqlite_store import SqliteStore  # noqa: E402
from recommender.engine import Engine, MasteryUpdater  # noqa: E402
from recommender.service import IndexCache  # noqa: E402


class Counting:
    """The store with its whole-curriculum reads counted."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.graph_reads = 0
        self.item_pages = 0

    async def prerequisite_graph(self) -> Any:
        self.graph_reads += 1
        return await self._store.prerequisite_graph()

    async def list_items(self, **kw: Any) -> Any:
        self.item_pages += 1
        return await self._store.list_items(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def run(db: str, edits: int, edit: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, list[float]]] = {
        k: {"cpu_ms": [], "wall_ms": [], "graph_reads": [], "item_pages": []}
        for k in ("engine", "apart")
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "copy.db")
        shutil.copy(db, path)
        here, other = await SqliteStore.open(path), await SqliteStore.open(path)
        try:
            store = Counting(here)
            engine = Engine(store)
            await engine.warm()
            cache, updater = IndexCache(), MasteryUpdater(store)
            await updater.load()
            await cache.warm(store)
            items = await other.list_items(limit=edits)
            edges = (await other.prerequisite_graph()).edges[:edits]
            for n in range(edits):
                for kind in ("engine", "apart"):
                    if edit == "item":
                        item = items[n % len(items)]
                        await other.upsert_items(
                            [dataclasses.replace(item, difficulty=(n % 7) / 7)], actor="bench"
                        )
                    else:
                        edge = edges[n % len(edges)]
                        await other.upsert_prerequisites(
                            [dataclasses.replace(edge, strength=0.5 + (n % 5) / 10)],
                            actor="bench",
                        )
                    g0, p0 = store.graph_reads, store.item_pages
                    c0, w0 = time.process_time(), time.perf_counter()
                    if kind == "engine":
                        await engine.mastery.service()
                        await engine.settled()
                    else:
                        await updater.service()
                        await cache.get(store)
                    row = out[kind]
                    row["cpu_ms"].append((time.process_time() - c0) * 1e3)
                    row["wall_ms"].append((time.perf_counter() - w0) * 1e3)
                    row["graph_reads"].append(store.graph_reads - g0)
                    row["item_pages"].append(store.item_pages - p0)
                    seq = await other.last_change_seq()
                    if kind == "engine":
                        assert engine.index.index is not None
                        assert engine.index.index.version == str(seq)
                        assert engine.mastery.view_seq == seq
        finally:
            await other.close()
            await here.close()
    return {k: {m: statistics.median(v) for m, v in row.items()} for k, row in out.items()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="bench_hot_path.py's store (read only)")
    ap.add_argument("--edits", type=int, default=10)
    ap.add_argument("--edit", choices=("item", "edge"), default="item")
    args = ap.parse_args(argv)
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} not found: build it with benchmarks/bench_hot_path.py --db")
    res = asyncio.run(run(args.db, args.edits, args.edit))
    print("| set-up | CPU ms / edit | wall ms / edit | graph reads | item pages |")
    print("|---|---|---|---|---|")
    for kind, r in res.items():
        print(
            f"| {kind} | {r['cpu_ms']:.0f} | {r['wall_ms']:.0f} | {r['graph_reads']:.0f} "
            f"| {r['item_pages']:.0f} |"
        )
    print(f"(medians of {args.edits} {args.edit} edits)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
