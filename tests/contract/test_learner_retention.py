"""Contract: a learner's target retention (the review setting of issue 5) on both stores.

Stores write a learner whole: upserting one without the setting resets it to the default
(None). API mutations that rebuild a learner carry it over (tested in tests/api).
"""

from __future__ import annotations

import itertools
import math
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import DEFAULT_TARGET_RETENTION, TARGET_RETENTION_RANGE, Group, Learner
from graph.sqlite_store import SqliteStore
from graph.store import ValidationError
from migrations.runner import MIGRATIONS_ROOT, migrate
from tests.contract.helpers import ACTOR, skill

_namespaces = itertools.count()


async def test_setting_round_trips_through_every_learner_read(store: Any) -> None:
    await store.upsert_skills([skill("s1")], actor=ACTOR)
    ann = Learner("ann", "Ann", goals=("s1",), target_retention=0.8)
    bob = Learner("bob", "Bob")
    await store.upsert_learners([ann, bob])
    await store.upsert_groups([Group("g", "G", (), ("bob", "ann"))])
    assert await store.get_learners(["bob", "ann"]) == [bob, ann]
    assert await store.list_learners() == [ann, bob]
    assert await store.learners_of_groups(["g"]) == [[ann, bob]]
    [got_ann, got_bob] = await store.get_learners(["ann", "bob"])
    assert got_ann is not None and got_ann.effective_target_retention == 0.8
    assert got_bob is not None and got_bob.target_retention is None
    assert got_bob.effective_target_retention == DEFAULT_TARGET_RETENTION == 0.9


async def test_upsert_writes_the_whole_learner_so_omitting_the_setting_resets_it(
    store: Any,
) -> None:
    await store.upsert_learners([Learner("ann", "Ann", target_retention=0.95)])
    await store.upsert_learners([Learner("ann", "Ann", target_retention=0.75)])
    assert await store.get_learners(["ann"]) == [Learner("ann", "Ann", target_retention=0.75)]
    await store.upsert_learners([Learner("ann", "Ann B.")])
    assert await store.get_learners(["ann"]) == [Learner("ann", "Ann B.")]


async def test_bounds_are_inclusive(store: Any) -> None:
    lo, hi = TARGET_RETENTION_RANGE
    await store.upsert_learners([Learner("lo", "Lo", target_retention=lo),
                                 Learner("hi", "Hi", target_retention=hi)])
    got = await store.get_learners(["lo", "hi"])
    assert [x.target_retention if x else None for x in got] == [lo, hi]


@pytest.mark.parametrize("bad", [0.5, 0.69, 0.98, 1.0, 0.0, -0.9, math.nan, math.inf, True])
async def test_out_of_range_setting_is_refused_by_name_and_nothing_is_written(
    store: Any, bad: Any
) -> None:
    await store.upsert_learners([Learner("keep", "Keep", target_retention=0.8)])
    with pytest.raises(ValidationError) as err:
        await store.upsert_learners([Learner("new", "New"),
                                     Learner("keep", "Keep", target_retention=bad)])
    assert err.value.field == "learner.target_retention"
    assert repr(bad) in err.value.message and "'keep'" in err.value.message
    assert "0.7" in err.value.message and "0.97" in err.value.message
    assert await store.get_learners(["new", "keep"]) == [
        None, Learner("keep", "Keep", target_retention=0.8)]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.floats(*TARGET_RETENTION_RANGE))
async def test_any_allowed_value_round_trips_exactly(store: Any, value: float) -> None:
    lid = f"rt{next(_namespaces)}"
    await store.upsert_learners([Learner(lid, "L", target_retention=value)])
    assert await store.get_learners([lid]) == [Learner(lid, "L", target_retention=value)]


async def test_sqlite_migration_adds_the_column_to_a_store_with_learners(
    tmp_path: Path,
) -> None:
    """A database made before migration 0003 keeps its learners, who get the default."""
    old_root = tmp_path / "migrations"
    (old_root / "sqlite").mkdir(parents=True)
    for path in sorted((MIGRATIONS_ROOT / "sqlite").glob("000[12]_*.sql")):
        shutil.copy(path, old_root / "sqlite" / path.name)
    db = str(tmp_path / "old.db")
    store = await SqliteStore.open(db)
    try:
        assert await migrate(store, root=old_root) == [
            "0001_initial.sql", "0002_attempts_without_rowid.sql"]
    finally:
        await store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO learners (id, display_name) VALUES ('old', 'Old')")
    conn.close()
    store = await SqliteStore.open(db)
    try:
        applied = await migrate(store)
        # 0003 is the first to run on the old database, then every later one, in order
        later = sorted(p.name for p in (MIGRATIONS_ROOT / "sqlite").glob("*.sql"))[2:]
        assert applied == later and applied[0] == "0003_learner_target_retention.sql"
        assert await store.get_learners(["old"]) == [Learner("old", "Old")]
        await store.upsert_learners([Learner("old", "Old", target_retention=0.85)])
        assert await store.get_learners(["old"]) == [Learner("old", "Old", target_retention=0.85)]
    finally:
        await store.close()
