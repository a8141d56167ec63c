"""SQLite only: learning-gain counts are read on a second, read-only connection (so the
worker thread keeps serving other calls); it must see every committed write and close with
the store. In-memory databases have no second connection and use the worker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from graph.models import Learner
from graph.sqlite_store import SqliteStore
from graph.store import StoreUnavailableError
from migrations.runner import migrate
from tests.contract.helpers import ACTOR, attempt, item, skill


async def seeded(path: str) -> SqliteStore:
    store = await SqliteStore.open(path)
    await migrate(store)
    await store.upsert_skills([skill("s1")], actor=ACTOR)
    await store.upsert_items([item("x", "s1"), item("y", "s1")], actor=ACTOR)
    await store.upsert_learners([Learner("l1", "L")])
    return store


@pytest.mark.parametrize("where", ["file", "memory"])
async def test_side_reads_see_each_commit_and_close_with_the_store(
    tmp_path: Path, where: str
) -> None:
    store = await seeded(str(tmp_path / "g.db") if where == "file" else ":memory:")
    assert await store.item_gain_counts() == {}
    await store.record_attempts([attempt("a1", item_id="x", minute=0),
                                 attempt("a2", item_id="y", minute=1)])
    assert await store.item_gain_counts() == {"x": (1, 0)}
    await store.record_attempts([attempt("a3", item_id="x", score=0.0, minute=2)])
    # concurrent reads on both connections agree with the last commit
    counts, page = await asyncio.gather(store.item_gain_counts(), store.attempts_of("l1"))
    assert counts == {"x": (1, 0), "y": (0, 1)} and len(page.attempts) == 3
    await store.close()
    with pytest.raises(StoreUnavailableError, match="closed"):
        await store.item_gain_counts()
    await store.close()  # idempotent


async def test_the_side_connection_cannot_write(tmp_path: Path) -> None:
    store = await seeded(str(tmp_path / "g.db"))
    try:
        await store.item_gain_counts()
        assert store._aside is not None
        conn, _ = store._aside
        with pytest.raises(Exception, match="readonly"):
            conn.execute("DELETE FROM attempts")
    finally:
        await store.close()
