"""One "server process" of the two-process tracing test (``test_serving_concurrency``).

``python -m tests.tracing.serve_lane URL LANE LANES N GO`` opens the store at ``URL``, waits
for the file ``GO`` (so that both processes start together), then records and traces the
answers ``k`` of learner ``ann`` with ``k % LANES == LANE`` for ``k < N``, one batch each, as
``recordAttempts`` does; prints how many tracer-state conflicts it retried.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph.models import Attempt, PrerequisiteGraph
from graph.open import open_store
from tracing.registry import Registry
from tracing.serving import MasteryService

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def answer(k: int) -> Attempt:
    return Attempt(f"a{k:03d}", "ann", "q1" if k % 3 else "q3", float(k % 2 == 0 or k % 5 == 0),
                   T0 + timedelta(minutes=k))


class Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.conflicts = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "another process" in record.getMessage():
            self.conflicts += 1


async def main(url: str, lane: int, lanes: int, n: int, go: Path) -> int:
    counter = Counter()
    logging.getLogger("tracing.serving").addHandler(counter)
    logging.getLogger("tracing.serving").setLevel(logging.INFO)
    store = await open_store(url)
    try:
        graph = await store.prerequisite_graph()
        items = await store.list_items(limit=100)
        svc = MasteryService.for_curriculum(PrerequisiteGraph(graph.skills, graph.edges), items,
                                            registry=Registry(go.parent / "no-models"))
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for k in range(lane, n, lanes):
            a = answer(k)
            result = await store.record_attempts([a])
            await svc.apply(store, [a], frozenset(result.stored))
    finally:
        await store.close()
    print(counter.conflicts)
    return 0


if __name__ == "__main__":
    url, lane, lanes, n, go = sys.argv[1:6]
    sys.exit(asyncio.run(main(url, int(lane), int(lanes), int(n), Path(go))))
