"""Contract: the compare-and-set of tracer states (``save_traced``) on both stores.

Each saved state has a version the store bumps on every write; ``save_traced`` writes a state,
and its learner's mastery rows, only if the version is still the one read. The concurrency
test runs read-modify-write lanes on two independent store objects on one database (as two
server processes would): with the compare-and-set every increment stays; with a plain
read-then-``save_tracer_states`` the lanes overwrite each other (``benchmarks`` has the
two-process measurement).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from graph.models import Learner, Mastery, TracerRecord, TracerWrite
from graph.store import NotFoundError, ValidationError
from tests.contract.helpers import ACTOR, skill

T = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
V = "bkt-v1"


def row(lid: str, sid: str = "s1", p: float = 0.5) -> Mastery:
    return Mastery(lid, sid, p, 0.5, T, V)


async def people(store: Any) -> None:
    await store.upsert_skills([skill("s1"), skill("s2")], actor=ACTOR)
    await store.upsert_learners([Learner("ann", "Ann"), Learner("bob", "Bob")])


async def open_twin(store: Any) -> Any:
    """A second, independent store object on the same database (another connection pool, as
    another server process has)."""
    if store.kind == "sqlite":
        from graph.sqlite_store import SqliteStore

        return await SqliteStore.open(store.path)
    from graph.neo4j_store import Neo4jStore
    from graph.open import neo4j_target
    from tests.conftest import neo4j_url

    uri, auth = neo4j_target(neo4j_url())
    return await Neo4jStore.open(uri, auth=auth)


@pytest.fixture
async def twin(store: Any) -> AsyncIterator[Any]:
    other = await open_twin(store)
    try:
        yield other
    finally:
        await other.close()


async def test_versions_start_at_one_and_move_with_every_write(store: Any) -> None:
    await people(store)
    assert await store.load_tracer_records(["ann", "bob"], V) == [None, None]
    assert await store.save_traced([TracerWrite("ann", V, b"s1", 0)], [row("ann")]) == ()
    assert await store.load_tracer_records(["bob", "ann"], V) == [None, TracerRecord(b"s1", 1)]
    # a second write from the same read (version 0) conflicts: nothing of it is written
    assert await store.save_traced([TracerWrite("ann", V, b"lost", 0)], [row("ann", p=0.9)]) == (
        "ann",
    )
    assert await store.save_traced([TracerWrite("ann", V, b"s2", 1)], [row("ann", p=0.7)]) == ()
    assert await store.load_tracer_records(["ann"], V) == [TracerRecord(b"s2", 2)]
    assert await store.load_tracer_states(["ann"], V) == [b"s2"]
    ((m,),) = await store.mastery_of(["ann"])
    assert m.probability == pytest.approx(0.7)
    # versions are per model version
    assert await store.load_tracer_records(["ann"], "other-v1") == [None]
    # an unconditional write bumps the version too, so a write from before it conflicts
    await store.save_tracer_states([("ann", V, b"rebuilt")])
    assert await store.load_tracer_records(["ann"], V) == [TracerRecord(b"rebuilt", 3)]
    assert await store.save_traced([TracerWrite("ann", V, b"stale", 2)], []) == ("ann",)
    await store.save_tracer_states([("bob", V, b"new")])
    assert await store.load_tracer_records(["bob"], V) == [TracerRecord(b"new", 1)]


async def test_a_conflict_writes_nothing_of_that_learner_and_all_of_the_others(store: Any) -> None:
    await people(store)
    await store.save_traced([TracerWrite("ann", V, b"a1", 0)], [row("ann", p=0.1)])
    moved = await store.save_traced(
        [TracerWrite("ann", V, b"a-late", 0), TracerWrite("bob", V, b"b1", 0)],
        [row("ann", p=0.9), row("ann", "s2", 0.9), row("bob", p=0.4)],
    )
    assert moved == ("ann",)
    assert await store.load_tracer_records(["ann", "bob"], V) == [
        TracerRecord(b"a1", 1),
        TracerRecord(b"b1", 1),
    ]
    ann, bob = await store.mastery_of(["ann", "bob"])
    assert [(m.skill_id, m.probability) for m in ann] == [("s1", pytest.approx(0.1))]
    assert [(m.skill_id, m.probability) for m in bob] == [("s1", pytest.approx(0.4))]


async def test_bad_input_writes_nothing(store: Any) -> None:
    await people(store)
    ok = TracerWrite("ann", V, b"x", 0)
    with pytest.raises(NotFoundError, match="'nobody'"):
        await store.save_traced([ok, TracerWrite("nobody", V, b"x", 0)], [row("ann")])
    with pytest.raises(NotFoundError, match="'nope'"):
        await store.save_traced([ok], [row("ann", "nope")])
    with pytest.raises(ValidationError, match="'bob'.*without") as exc:
        await store.save_traced([ok], [row("bob")])
    assert exc.value.field == "learner_id"
    with pytest.raises(ValidationError, match="two tracer state writes"):
        await store.save_traced([ok, TracerWrite("ann", V, b"y", 0)], [])
    with pytest.raises(ValidationError, match="-1") as exc:
        await store.save_traced([TracerWrite("ann", V, b"x", -1)], [])
    assert exc.value.field == "expected"
    with pytest.raises(ValidationError) as exc:
        await store.save_traced([TracerWrite("ann", V, "text", 0)], [])  # type: ignore[arg-type]
    assert exc.value.field == "state"
    assert await store.load_tracer_records(["ann"], V) == [None]
    assert await store.mastery_of(["ann"]) == [[]]
    assert await store.save_traced([], []) == ()


async def test_concurrent_read_modify_writes_on_two_store_objects_lose_nothing(
    store: Any, twin: Any
) -> None:
    """Lanes on two store objects each add 1 to a counter kept as ann's state, by read,
    increment, compare-and-set, retrying on conflict: the counter ends at the number of
    increments. (A plain read then ``save_tracer_states`` ends lower.)"""
    await people(store)
    lanes, per_lane = 6, 8
    conflicts = 0

    async def lane(s: Any) -> None:
        nonlocal conflicts
        for _ in range(per_lane):
            while True:
                (rec,) = await s.load_tracer_records(["ann"], V)
                count = 0 if rec is None else int(rec.state)
                await asyncio.sleep(0)  # let the other lanes read the same version
                write = TracerWrite(
                    "ann", V, str(count + 1).encode(), 0 if rec is None else rec.version
                )
                if await s.save_traced([write], [row("ann", p=(count + 1) / 100)]) == ():
                    break
                conflicts += 1

    await asyncio.gather(*(lane(store if k % 2 else twin) for k in range(lanes)))
    (rec,) = await store.load_tracer_records(["ann"], V)
    assert rec is not None and int(rec.state) == lanes * per_lane
    assert rec.version == lanes * per_lane
    ((m,),) = await twin.mastery_of(["ann"])
    assert m.probability == pytest.approx(lanes * per_lane / 100)
    assert conflicts > 0, "the lanes never raced: the test did not exercise the check"
