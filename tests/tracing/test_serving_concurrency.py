"""Serving with several processes on one store, and answers that arrive out of time order.

Both properties are checked the same way: after every answer is recorded and traced, the
learner's served state equals the in-order replay of their whole history (``rebuild_states``
under the same model: a replay from the prior in time order).

* Two processes (real subprocesses, and two service objects on two store objects in one
  process) tracing one learner at once lose no answer: the state write is a compare-and-set
  on its version in the store (before it, two ``serve`` processes lost 25/120 answers on
  SQLite and 56/120 on Neo4j).
* An answer older than the newest one traced re-traces the learner in time order (before,
  it was folded in arrival order: 0.275 served against 0.995 replayed).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graph.models import Attempt, PrerequisiteGraph
from tests.tracing.serve_lane import answer
from tests.tracing.test_serving import EDGES, ITEMS, SKILLS, att, setup
from tracing.registry import Registry
from tracing.serving import MasteryService, decode_traced
from tracing.store_train import rebuild_states
from tracing.watermark import attempt_key

ROOT = Path(__file__).resolve().parents[2]


def fresh_service(tmp_path: Path, **kw: Any) -> MasteryService:
    svc = MasteryService.for_curriculum(PrerequisiteGraph(tuple(SKILLS), tuple(EDGES)), ITEMS,
                                        registry=Registry(tmp_path / "no-models"))
    if kw:
        return MasteryService(svc.tracer, svc.model_version, ITEMS, **kw)
    return svc


async def served_and_replayed(store: Any, svc: MasteryService, learner: str = "ann"
                              ) -> tuple[dict[str, float], dict[str, float], Any]:
    """The served mastery of ``learner`` (state and rows), and that of an in-order replay of
    their whole history under another version name."""
    (blob,) = await store.load_tracer_states([learner], svc.model_version)
    assert blob is not None
    state, mark = decode_traced(blob)
    served = svc.mastery_of(state)
    rows = {m.skill_id: m.probability for m in (await store.mastery_of([learner]))[0]}
    assert rows == pytest.approx({k: served[k] for k in rows}, abs=1e-12)
    replay = MasteryService(svc.tracer, "replay", ITEMS)
    await rebuild_states(store, replay)
    (again,) = await store.load_tracer_states([learner], "replay")
    return served, replay.mastery_of(again), mark


# --------------------------------------------------------------------------------------------
# out-of-order answers


async def test_a_late_answer_is_traced_in_time_order(store: Any, tmp_path: Path) -> None:
    """The audit's case: wrong answers late in the day, then right answers from earlier
    arriving after them (an offline device syncing)."""
    await setup(store)
    svc = fresh_service(tmp_path)
    early = [att(f"e{k}", "ann", "q1", 1.0, k) for k in range(4)]
    late = [att(f"w{k}", "ann", "q1", 0.0, 10 + k) for k in range(3)]
    for batch in ([late[0]], [late[1], late[2]], early[2:], [early[0]], [early[1]]):
        result = await store.record_attempts(batch)
        out = await svc.apply(store, batch, frozenset(result.stored))
        assert set(out) == {"ann"}
    served, replayed, mark = await served_and_replayed(store, svc)
    assert served == pytest.approx(replayed, abs=1e-12)
    assert all(mark.contains(attempt_key(a)) for a in early + late)
    # in arrival order it would be far off: right answers last look like mastery
    folded = svc.tracer.init_state()
    for a in [*late, *early[2:], early[0], early[1]]:
        x = svc.interaction(a)
        assert x is not None
        folded = svc.tracer.update(folded, x)
    assert abs(svc.mastery_of(folded)["add"] - served["add"]) > 0.3
    # a retry of the whole history is a no-op: every answer is in the state
    assert await svc.apply(store, early + late, frozenset()) == {}


async def test_late_answer_returns_every_skill_the_retrace_touched(store: Any,
                                                                   tmp_path: Path) -> None:
    await setup(store)
    svc = fresh_service(tmp_path)
    later = att("b", "ann", "q2", 1.0, 5)
    first = att("a", "ann", "q1", 1.0, 1)
    for a in (later, first):
        result = await store.record_attempts([a])
        out = await svc.apply(store, [a], frozenset(result.stored))
    assert [m.skill_id for m in out["ann"]] == ["add", "mul"]
    served, replayed, _ = await served_and_replayed(store, svc)
    assert served == pytest.approx(replayed, abs=1e-12)


async def test_beyond_the_cap_late_answers_fold_in_arrival_order(
    store: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await setup(store)
    svc = fresh_service(tmp_path, retrace_cap=2)
    history = [att(f"h{k}", "ann", "q1", 0.0, 10 + k) for k in range(2)]
    late = att("late", "ann", "q1", 1.0, 0)
    result = await store.record_attempts(history)
    await svc.apply(store, history, frozenset(result.stored))
    result = await store.record_attempts([late])
    with caplog.at_level(logging.WARNING, "tracing.serving"):
        await svc.apply(store, [late], frozenset(result.stored))
    assert "over 2 answers" in caplog.text and "learngraph trace rebuild" in caplog.text
    (blob,) = await store.load_tracer_states(["ann"], svc.model_version)
    assert blob is not None
    expected = svc.tracer.init_state()
    for a in [*history, late]:
        x = svc.interaction(a)
        assert x is not None
        expected = svc.tracer.update(expected, x)
    assert np.allclose(decode_traced(blob)[0], expected)


# --------------------------------------------------------------------------------------------
# several processes


async def open_twin(store: Any) -> Any:
    from tests.contract.test_tracer_cas import open_twin as twin

    return await twin(store)


async def test_two_services_on_two_store_objects_lose_no_answer(store: Any,
                                                               tmp_path: Path) -> None:
    """Two service objects (own locks, own store connections) trace one learner at once,
    answers interleaved in time between them, so late answers and conflicts both happen."""
    await setup(store, ("ann",))
    other = await open_twin(store)
    try:
        lanes = [(fresh_service(tmp_path), store), (fresh_service(tmp_path), other)]
        n = 24

        async def lane(i: int) -> None:
            svc, s = lanes[i]
            for k in range(i, n, 2):
                a = answer(k)
                result = await s.record_attempts([a])
                await svc.apply(s, [a], frozenset(result.stored))

        await asyncio.gather(lane(0), lane(1))
    finally:
        await other.close()
    served, replayed, mark = await served_and_replayed(store, lanes[0][0])
    assert served == pytest.approx(replayed, abs=1e-12)
    assert all(mark.contains(attempt_key(answer(k))) for k in range(n))


def lane_url(store: Any) -> str:
    if store.kind == "sqlite":
        return f"sqlite:///{store.path}"
    from tests.conftest import neo4j_url

    return neo4j_url()


async def test_two_server_processes_lose_no_answer(store: Any, tmp_path: Path) -> None:
    """Two real processes (``tests.tracing.serve_lane``), each with its own store connection,
    record and trace interleaved answers of one learner at the same time."""
    await setup(store, ("ann",))
    go = tmp_path / "go"
    n, lanes = 30, 2
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "tests.tracing.serve_lane", lane_url(store), str(i), str(lanes),
         str(n), str(go)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for i in range(lanes)]
    go.touch()
    outs = [await asyncio.to_thread(p.communicate, timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    served, replayed, mark = await served_and_replayed(store, fresh_service(tmp_path))
    assert served == pytest.approx(replayed, abs=1e-12)
    assert all(mark.contains(attempt_key(answer(k))) for k in range(n))
    assert await store.attempt_count("ann") == n


def test_late_path_reads_only_when_an_answer_is_late(tmp_path: Path) -> None:
    """In-order answers never read the history (``attempts_of``); a late one does, once."""
    from tests.tracing.test_serving import Counting

    async def run() -> dict[str, int]:
        from graph.sqlite_store import SqliteStore
        from migrations.runner import migrate

        store = await SqliteStore.open(":memory:")
        try:
            await migrate(store)
            await setup(store)
            svc = fresh_service(tmp_path)
            counted = Counting(store)
            batches: list[list[Attempt]] = [[att("a", "ann", "q1", 1, 2)],
                                            [att("b", "ann", "q1", 1, 3)]]
            for b in batches:
                await store.record_attempts(b)
                await svc.apply(counted, b)
            assert counted.calls["attempts_of"] == 0
            late = [att("c", "ann", "q1", 0, 1)]
            await store.record_attempts(late)
            await svc.apply(counted, late)
            return dict(counted.calls)
        finally:
            await store.close()

    calls = asyncio.run(run())
    assert calls == {"load_tracer_records": 3, "save_traced": 3, "attempts_of": 1}
