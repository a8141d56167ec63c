"""What only the SQLite store promises: its file settings, durability, serialized calls, and
the choices it makes where the protocol leaves room."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.models import Learner, Mastery, Prerequisite
from graph.sqlite_store import SqliteStore, from_us, to_us
from graph.store import MigrationError, NotFoundError, StoreUnavailableError, ValidationError
from migrations.runner import discover, migrate
from tests.contract.helpers import ACTOR, attempt, chain, item, learner_with_items, skill


async def test_file_is_wal_with_foreign_keys(sqlite_store: SqliteStore) -> None:
    def pragmas(conn: sqlite3.Connection) -> tuple[str, int, int]:
        return (conn.execute("PRAGMA journal_mode").fetchone()[0],
                conn.execute("PRAGMA foreign_keys").fetchone()[0],
                conn.execute("PRAGMA synchronous").fetchone()[0])

    assert await sqlite_store._call(pragmas) == ("wal", 1, 1)  # synchronous 1 = NORMAL


async def test_data_survives_close_and_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "durable.db")
    store = await SqliteStore.open(path)
    await migrate(store)
    await chain(store, "ab")
    await store.close()
    await store.close()  # closing twice is harmless
    with pytest.raises(StoreUnavailableError, match="closed"):
        await store.get_skills(["a"])
    reopened = await SqliteStore.open(path)
    try:
        assert await migrate(reopened) == []
        assert [e.source for e in (await reopened.prerequisite_graph()).edges] == ["a"]
    finally:
        await reopened.close()


async def test_concurrent_writers_are_serialized_without_losing_anything(
    sqlite_store: SqliteStore,
) -> None:
    await learner_with_items(sqlite_store, learners=tuple(f"l{i}" for i in range(20)))
    batches = [[attempt(f"a{i}-{j}", learner=f"l{i}", minute=j) for j in range(50)]
               for i in range(20)]
    results = await asyncio.gather(*(sqlite_store.record_attempts(b) for b in batches),
                                   *(sqlite_store.attempt_count() for _ in range(10)))
    assert all(len(r.stored) == 50 for r in results[:20])
    assert await sqlite_store.attempt_count() == 1000


async def test_a_second_connection_sees_committed_writes(sqlite_store: SqliteStore) -> None:
    await chain(sqlite_store, "xy")
    other = sqlite3.connect(sqlite_store.path)
    try:
        assert other.execute("SELECT count(*) FROM prerequisites").fetchone()[0] == 1
    finally:
        other.close()


async def test_removing_an_item_keeps_the_attempts_on_it(sqlite_store: SqliteStore) -> None:
    await learner_with_items(sqlite_store, items=("i1", "i2"))
    await sqlite_store.record_attempts([attempt("a1", item_id="i1")])
    await sqlite_store.remove_items(["i1"], actor=ACTOR)
    assert [a.item_id for a in (await sqlite_store.attempts_of("l1")).attempts] == ["i1"]
    # new attempts on the removed item are refused
    with pytest.raises(NotFoundError, match="'i1'"):
        await sqlite_store.record_attempts([attempt("a2", item_id="i1")])


async def test_mastery_and_tracer_state_need_known_learners_and_skills(
    sqlite_store: SqliteStore,
) -> None:
    await learner_with_items(sqlite_store)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(NotFoundError, match="'ghost'"):
        await sqlite_store.save_mastery([Mastery("ghost", "s1", 0.5, 0.1, now, "v")])
    with pytest.raises(NotFoundError, match="'nope'"):
        await sqlite_store.save_mastery([Mastery("l1", "nope", 0.5, 0.1, now, "v")])
    with pytest.raises(ValidationError, match="updated_at"):
        await sqlite_store.save_mastery([Mastery("l1", "s1", 0.5, 0.1, now.replace(tzinfo=None),
                                                 "v")])
    with pytest.raises(NotFoundError, match="'ghost'"):
        await sqlite_store.save_tracer_states([("ghost", "v", b"x")])


async def test_goal_skills_removed_with_the_skill(sqlite_store: SqliteStore) -> None:
    await chain(sqlite_store, "ab")
    await sqlite_store.upsert_learners([Learner("l1", "L", goals=("a", "b"))])
    await sqlite_store.remove_skills(["a"], actor=ACTOR)
    assert await sqlite_store.get_learners(["l1"]) == [Learner("l1", "L", goals=("b",))]


async def test_closure_over_a_many_path_dag_is_exact(
    sqlite_store: SqliteStore,
) -> None:
    # a 300-skill layered DAG with many paths: the closure must dedupe, not enumerate paths
    ids = [f"n{i:03d}" for i in range(300)]
    await sqlite_store.upsert_skills([skill(i) for i in ids], actor=ACTOR)
    edges = [Prerequisite(ids[i], ids[j]) for i in range(300) for j in (i + 1, i + 2)
             if j < 300]
    await sqlite_store.upsert_prerequisites(edges, actor=ACTOR)
    anc = await sqlite_store.ancestors([ids[-1]])
    assert len(anc.skills) == 300 and len(anc.edges) == len(edges)
    near = await sqlite_store.ancestors([ids[-1]], depth=3)
    assert [s.id for s in near.skills] == ids[-7:]


async def test_items_round_trip_kinds_as_enum(sqlite_store: SqliteStore) -> None:
    await sqlite_store.upsert_skills([skill("s1")], actor=ACTOR)
    await sqlite_store.upsert_items([item("i1", "s1", kind="lesson")], actor=ACTOR)
    (got,) = await sqlite_store.get_items(["i1"])
    assert got is not None and got.kind.value == "lesson"
    with pytest.raises(ValidationError, match="'podcast'.*'i2'") as err:
        await sqlite_store.upsert_items([item("i2", "s1", kind="podcast")], actor=ACTOR)
    assert err.value.field == "item.kind"


@pytest.mark.parametrize(
    "moment",
    [datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
     datetime(2026, 3, 1, 12, 0, 0, 1, tzinfo=UTC),
     datetime(2026, 3, 1, 12, 0, tzinfo=UTC) + timedelta(microseconds=123_456)],
)
def test_timestamps_round_trip_to_the_microsecond(moment: datetime) -> None:
    assert from_us(to_us(moment, "t")) == moment


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.just(UTC)))
def test_any_timestamp_comes_back_exactly_and_in_utc(moment: datetime) -> None:
    back = from_us(to_us(moment, "t"))
    assert back == moment and back.tzinfo is UTC and back.microsecond == moment.microsecond


async def test_clock_is_injected_into_the_change_log(tmp_path: Path) -> None:
    fixed = datetime(2030, 6, 1, 8, 30, tzinfo=UTC)
    store = await SqliteStore.open(str(tmp_path / "clock.db"), clock=lambda: fixed)
    try:
        await migrate(store)
        await store.upsert_skills([skill("a")], actor=ACTOR)
        (entry,) = await store.change_log()
        assert entry.at == fixed
    finally:
        await store.close()


def test_store_satisfies_the_protocol() -> None:
    from graph.store import GraphStore

    missing: list[Any] = [name for name in dir(GraphStore)
                          if not name.startswith("_") and not hasattr(SqliteStore, name)]
    assert missing == []


async def test_an_id_listed_twice_in_one_upsert_keeps_only_the_last(
    sqlite_store: SqliteStore,
) -> None:
    await sqlite_store.upsert_skills([skill("s1"), skill("s2")], actor=ACTOR)
    await sqlite_store.upsert_items([item("i1", "s1"), item("i1", "s2", title="second")],
                                    actor=ACTOR)
    assert await sqlite_store.get_items(["i1"]) == [item("i1", "s2", title="second")]
    await sqlite_store.upsert_learners([Learner("l1", "A", goals=("s1",)),
                                        Learner("l1", "B", goals=("s2",))])
    assert await sqlite_store.get_learners(["l1"]) == [Learner("l1", "B", goals=("s2",))]


async def test_listing_items_of_an_unknown_kind_is_a_validation_error(
    sqlite_store: SqliteStore,
) -> None:
    with pytest.raises(ValidationError, match="'podcast' is not one of exercise") as err:
        await sqlite_store.list_items(kind="podcast")  # type: ignore[arg-type]
    assert err.value.field == "kind"


async def test_tracer_state_must_be_bytes(sqlite_store: SqliteStore) -> None:
    await learner_with_items(sqlite_store)
    with pytest.raises(ValidationError, match="serialize it to bytes") as err:
        await sqlite_store.save_tracer_states([("l1", "v", "not bytes")])  # type: ignore[list-item]
    assert err.value.field == "state"
    await sqlite_store.save_tracer_states([("l1", "v", bytearray(b"ok"))])
    assert await sqlite_store.load_tracer_states(["l1"], "v") == [b"ok"]


async def test_applying_a_recorded_migration_again_is_a_no_op_unless_it_changed(
    tmp_path: Path,
) -> None:
    store = await SqliteStore.open(str(tmp_path / "m.db"))
    try:
        await store.apply_migration(1, "0001_t.sql", "abc", ["CREATE TABLE t (x TEXT)"])
        # a second runner that planned before the first committed: nothing happens
        await store.apply_migration(1, "0001_t.sql", "abc", ["CREATE TABLE t (x TEXT)"])
        assert await store.applied_migrations() == {1: "abc"}
        with pytest.raises(MigrationError, match="0001_t.sql"):
            await store.apply_migration(1, "0001_t.sql", "def", ["CREATE TABLE u (x TEXT)"])
    finally:
        await store.close()


async def test_two_processes_migrating_at_once_both_succeed(tmp_path: Path) -> None:
    path = str(tmp_path / "race.db")
    first, second = await SqliteStore.open(path), await SqliteStore.open(path)
    try:
        # both plan before either applies, so both try every migration
        await asyncio.gather(migrate(first), migrate(second))
        assert await migrate(first) == [] and await migrate(second) == []
        await chain(first, "ab")
        assert len((await second.prerequisite_graph()).edges) == 1
    finally:
        await first.close()
        await second.close()


async def test_in_memory_database_works_for_throwaway_use() -> None:
    store = await SqliteStore.open(":memory:")
    try:
        assert await migrate(store) == [m.name for m in discover("sqlite")]
        await chain(store, "ab")
        assert [s.id for s in (await store.ancestors(["b"])).skills] == ["a", "b"]
    finally:
        await store.close()


def test_find_cycle_reports_the_shortest_cycle_through_the_new_edge() -> None:
    from graph.sqlite_rows import find_cycle

    old = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"), ("x", "y")]
    assert find_cycle([*old, ("d", "a")], [("d", "a")]) == ["d", "a", "d"]
    both = [("b", "x"), ("y", "x")]
    assert find_cycle([*old, *both], both) == ["y", "x", "y"]
    assert find_cycle([*old, ("d", "x")], [("d", "x")]) == []
