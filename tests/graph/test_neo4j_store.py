"""What only the Neo4j store promises: the driver setup (Rust packstream, timeouts, clear
connection errors), the schema its migration creates, the graph shape it writes, native
temporal values, and correctness under concurrent writers on a real server."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import AsyncDriver, AsyncGraphDatabase
from neo4j.time import DateTime

from graph import cypher
from graph import neo4j_values as v
from graph.models import Attempt, Learner, Mastery, Prerequisite
from graph.neo4j_store import Neo4jStore, rust_extension_loaded
from graph.open import neo4j_target
from graph.store import (
    AttemptConflictError,
    CycleError,
    GraphStoreError,
    NotFoundError,
    StoreUnavailableError,
    ValidationError,
)
from migrations.runner import discover, migrate
from tests.conftest import neo4j_url
from tests.contract.helpers import (
    ACTOR,
    T0,
    attempt,
    chain,
    item,
    learner_with_items,
    skill,
)


def test_rust_packstream_extension_is_loaded() -> None:
    """neo4j-rust-ext is a declared dependency; without it the driver silently falls back to
    pure-Python packstream (several times slower), so its absence must fail loudly."""
    assert rust_extension_loaded(), (
        "neo4j-rust-ext is not in use: `pip install neo4j-rust-ext` matching the neo4j version")
    import neo4j._rust  # the compiled module the extension installs inside the driver package

    assert str(neo4j._rust.__file__).endswith(".so")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_open_fails_clearly_when_no_server_listens() -> None:
    uri = f"bolt://127.0.0.1:{_free_port()}"
    with pytest.raises(StoreUnavailableError, match="learngraph neo4j start") as info:
        await Neo4jStore.open(uri)
    assert uri in str(info.value)


async def test_open_refuses_a_malformed_url() -> None:
    with pytest.raises(StoreUnavailableError, match="bad Neo4j URL"):
        await Neo4jStore.open("bolt://127.0.0.1:notaport")


def test_closure_builder_refuses_anything_but_a_small_int() -> None:
    assert "*0..3]" in cypher.closure("ancestors", 3)
    assert "*0..]" in cypher.closure("descendants", None)
    for bad in (-1, True, "1; MATCH (n) DETACH DELETE n", 2.5):
        with pytest.raises(ValueError):
            cypher.closure("ancestors", bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cypher.missing_ids("Skill) DETACH DELETE (x")


@settings(max_examples=200)
@given(moment=st.datetimes(timezones=st.timezones()), attempt_id=st.text(min_size=1))
def test_cursor_round_trips_any_aware_instant_and_id(moment: datetime, attempt_id: str) -> None:
    stamp, aid = v.decode_cursor(v.encode_cursor(moment, attempt_id))
    assert (stamp, aid) == (moment.astimezone(UTC), attempt_id) and stamp.tzinfo == UTC


@pytest.mark.parametrize("garbage", ["", "not base64!", "bnVsbA", "WzEsMl0",
                                     v.encode_cursor(T0, "a")[:-3]])
def test_foreign_cursor_is_a_validation_error(garbage: str) -> None:
    with pytest.raises(ValidationError, match="cursor"):
        v.decode_cursor(garbage)


def test_stored_temporals_convert_to_aware_utc() -> None:
    stored = DateTime(2026, 3, 1, 12, 30, 15, 123456789, tzinfo=timezone(timedelta(hours=-5)))
    got = v.to_datetime(stored)
    assert got == datetime(2026, 3, 1, 17, 30, 15, 123456, tzinfo=UTC) and got.tzinfo == UTC
    with pytest.raises(ValidationError, match="no timezone"):
        v.attempt_row(Attempt("a", "l", "i", 1.0, datetime(2026, 1, 1)))


# -- against a real server ----------------------------------------------------------------

@pytest.fixture
async def driver() -> AsyncIterator[AsyncDriver]:
    """A second, plain driver on the test server, to look at what the store wrote."""
    uri, auth = neo4j_target(neo4j_url())
    drv = AsyncGraphDatabase.driver(uri, auth=auth)
    try:
        yield drv
    finally:
        await drv.close()


async def _query(driver: AsyncDriver, query: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = await driver.execute_query(query, params)  # type: ignore[call-overload]
    return [r.data() for r in records]


@pytest.mark.neo4j
async def test_migration_creates_every_constraint_and_index(
    neo4j_store: Neo4jStore, driver: AsyncDriver
) -> None:
    constraints = {r["name"] for r in await _query(driver, "SHOW CONSTRAINTS YIELD name")}
    indexes = {r["name"] for r in await _query(driver, "SHOW INDEXES YIELD name")}
    assert {"skill_id", "item_id", "learner_id", "user_id", "group_id", "attempt_id",
            "tracer_state_key", "change_seq", "migration_version"} <= constraints
    assert {"attempt_learner_time", "skill_topic", "skill_area", "item_kind"} <= indexes
    recorded = await neo4j_store.applied_migrations()
    assert recorded == {m.version: m.checksum for m in discover("neo4j")}
    assert await migrate(neo4j_store) == []  # safe to run twice


@pytest.mark.neo4j
async def test_wipe_for_tests_keeps_only_migration_records(neo4j_store: Neo4jStore) -> None:
    await chain(neo4j_store, "ab")
    recorded = await neo4j_store.applied_migrations()
    await neo4j_store.wipe_all_data_for_tests()
    assert (await neo4j_store.prerequisite_graph()).skills == ()
    assert await neo4j_store.change_log() == []
    assert await neo4j_store.applied_migrations() == recorded


@pytest.mark.neo4j
async def test_the_serving_model_check_draws_no_server_warning(
    neo4j_store: Neo4jStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Every request asks which model serves; on a database where none was ever activated,
    ``RETURN m.key`` drew an "unknown property key" notification that the driver logged at
    WARNING on each request (seen on a fresh server: a flood of log lines and their CPU).
    Limit: Neo4j warns only while the property key has never existed in the database, so this
    catches a regression only when it runs before anything activated a model there (the
    first run on a fresh server, e.g. ``-k serving_model_check`` alone); on a database that
    already has the key it passes either way."""
    caplog.set_level(logging.DEBUG, logger="neo4j.notifications")
    assert await neo4j_store.serving_model() is None
    await neo4j_store.set_serving_model("bkt-1")
    assert await neo4j_store.serving_model() == "bkt-1"
    await neo4j_store.set_serving_model(None)
    assert await neo4j_store.serving_model() is None
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned == []


@pytest.mark.neo4j
async def test_attempts_are_linked_into_the_graph(
    neo4j_store: Neo4jStore, driver: AsyncDriver
) -> None:
    await learner_with_items(neo4j_store, learners=("l1", "l2"), items=("i1", "i2"))
    await neo4j_store.record_attempts([attempt("a1", "l1", "i2"), attempt("a2", "l2", "i1")])
    rows = await _query(driver, "MATCH (l:Learner)-[:ATTEMPTED]->(a:Attempt)-[:ON_ITEM]->"
                                "(i:Item) RETURN l.id AS l, a.id AS a, i.id AS i ORDER BY a")
    assert rows == [{"l": "l1", "a": "a1", "i": "i2"}, {"l": "l2", "a": "a2", "i": "i1"}]
    # the history outlives the item, as on the embedded store
    await neo4j_store.remove_items(["i2"], actor=ACTOR)
    assert (await neo4j_store.attempts_of("l1")).attempts == (attempt("a1", "l1", "i2"),)


@pytest.mark.neo4j
@pytest.mark.parametrize(("since", "cursor"), [(False, False), (True, False), (False, True),
                                               (True, True)])
async def test_history_page_query_seeks_the_learner_time_index(
    neo4j_store: Neo4jStore, driver: AsyncDriver, since: bool, cursor: bool
) -> None:
    # every form, the first page (no since, no cursor) included: a scan of all attempts per
    # learner read made the rebuild after a model switch quadratic in the store's size
    query = cypher.attempts_of(since=since, cursor=cursor)
    _, summary, _ = await driver.execute_query(  # type: ignore[call-overload]
        "EXPLAIN " + query,
        {"learner_id": "l1", "since": T0, "after_ts": T0, "after_id": "a", "limit": 5})
    plan = str(summary.plan)
    assert "attempt_learner_time" in plan or "Attempt(learner_id, timestamp)" in plan, plan


@pytest.mark.neo4j
@pytest.mark.parametrize("label", ["Attempt", "View"])
@pytest.mark.parametrize(("after", "before", "backward"),
                         [(False, False, True), (True, True, False), (False, True, True)])
async def test_history_windows_seek_the_learner_time_index(
    neo4j_store: Neo4jStore, driver: AsyncDriver, label: str, after: bool, before: bool,
    backward: bool,
) -> None:
    # the window and both probes: every MATCH of the label must seek, none scan the label
    query = cypher.history_window(label, after=after, before=before, backward=backward,
                                  probes=True)
    _, summary, _ = await driver.execute_query(  # type: ignore[call-overload]
        "EXPLAIN " + query, {"learner_id": "l1", "after_ts": T0, "after_id": "a",
                             "before_ts": T0, "before_id": "b", "limit": 5})
    plan = str(summary.plan)
    assert "NodeByLabelScan" not in plan, plan
    assert "(learner_id, timestamp)" in plan or "_learner_time" in plan, plan


@pytest.mark.neo4j
async def test_temporal_values_are_native_and_come_back_as_aware_utc(
    neo4j_store: Neo4jStore, driver: AsyncDriver
) -> None:
    await learner_with_items(neo4j_store)
    plus_two = timezone(timedelta(hours=2))
    local = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    await neo4j_store.record_attempts([Attempt("a1", "l1", "i1", 1.0, local)])
    stored = await _query(driver, "MATCH (a:Attempt) RETURN a.timestamp AS t")
    assert stored[0]["t"].__class__.__name__ == "DateTime"  # a real temporal, not a string
    got = (await neo4j_store.attempts_of("l1")).attempts[0].timestamp
    assert got == local and got.utcoffset() == timedelta(0)
    assert got == datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=UTC)
    # the same instant written in another zone is a retry, not a conflict
    again = await neo4j_store.record_attempts([Attempt("a1", "l1", "i1", 1.0, got)])
    assert again.duplicates == ("a1",)
    await neo4j_store.save_mastery([Mastery("l1", "s1", 0.5, 0.1, local, "bkt-1")])
    (row,) = (await neo4j_store.mastery_of(["l1"]))[0]
    assert row.updated_at == local and row.updated_at.tzinfo == UTC


@pytest.mark.neo4j
async def test_every_transaction_carries_the_timeout() -> None:
    uri, auth = neo4j_target(neo4j_url())
    store = await Neo4jStore.open(uri, auth=auth, timeout=0.5)
    try:
        with pytest.raises(GraphStoreError, match="(?i)timed? ?out|terminated"):
            await store._read("UNWIND range(1, 10000000000) AS x RETURN sum(x) AS s")
    finally:
        await store.close()


@pytest.mark.neo4j
async def test_concurrent_edits_cannot_close_a_cycle_together(neo4j_store: Neo4jStore) -> None:
    """With a -> b and c -> d stored, the edits b -> c and d -> a are each acyclic alone but
    close a -> b -> c -> d -> a together. They touch disjoint nodes, so only the curriculum
    lock makes the later one see the earlier (without it both commit, every time)."""
    for round_ in range(5):
        a, b, c, d = (f"{x}{round_}" for x in "abcd")
        await neo4j_store.upsert_skills([skill(x) for x in (a, b, c, d)], actor=ACTOR)
        await neo4j_store.upsert_prerequisites([Prerequisite(a, b), Prerequisite(c, d)],
                                               actor=ACTOR)
        results = await asyncio.gather(
            neo4j_store.upsert_prerequisites([Prerequisite(b, c)], actor=ACTOR),
            neo4j_store.upsert_prerequisites([Prerequisite(d, a)], actor=ACTOR),
            return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1 and isinstance(errors[0], CycleError), results
        cycle = errors[0].cycle
        assert set(cycle) == {a, b, c, d} and len(cycle) == 5 and cycle[0] == cycle[-1]
    graph = await neo4j_store.prerequisite_graph()
    assert len(graph.edges) == 5 * 3


@pytest.mark.neo4j
async def test_concurrent_retries_of_the_same_attempts_store_each_once(
    neo4j_store: Neo4jStore,
) -> None:
    await learner_with_items(neo4j_store, learners=("l1", "l2"))
    batch = [attempt(f"a{i}", "l1" if i % 2 else "l2", minute=i) for i in range(200)]
    results = await asyncio.gather(*(neo4j_store.record_attempts(batch) for _ in range(4)))
    stored = [aid for r in results for aid in r.stored]
    assert sorted(stored) == sorted(a.attempt_id for a in batch)  # each stored exactly once
    assert all(len(r.stored) + len(r.duplicates) == 200 for r in results)
    assert await neo4j_store.attempt_count() == 200


@pytest.mark.neo4j
async def test_concurrent_curriculum_writers_get_distinct_change_seqs(
    neo4j_store: Neo4jStore,
) -> None:
    await asyncio.gather(*(neo4j_store.upsert_skills([skill(f"s{i}")], actor=f"u{i}")
                           for i in range(12)))
    log = await neo4j_store.change_log()
    assert [c.seq for c in log] == list(range(1, 13))
    assert {c.entity_id for c in log} == {f"s{i}" for i in range(12)}


@pytest.mark.neo4j
async def test_a_closed_store_says_so(neo4j_store: Neo4jStore) -> None:
    await neo4j_store.upsert_learners([Learner("l1", "L")])
    await neo4j_store.close()
    with pytest.raises(StoreUnavailableError, match="closed"):
        await neo4j_store.get_learners(["l1"])


# -- properties (the Cypher keyset predicate and the pruning closure are this store's own) ---

_examples = itertools.count()


@pytest.mark.neo4j
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minutes=st.lists(st.integers(0, 4), min_size=1, max_size=25),
       limit=st.integers(1, 6), since=st.none() | st.integers(0, 4))
async def test_pages_concatenate_to_the_whole_history_in_order(
    neo4j_store: Neo4jStore, minutes: list[int], limit: int, since: int | None
) -> None:
    """Many attempts share a timestamp, so the tie-break on attempt id carries the cursor."""
    ns = f"x{next(_examples)}-"
    learner, item_id = f"{ns}l", f"{ns}i"
    await neo4j_store.upsert_skills([skill(f"{ns}s")], actor=ACTOR)
    await neo4j_store.upsert_items([item(item_id, f"{ns}s")], actor=ACTOR)
    await neo4j_store.upsert_learners([Learner(learner, "L")])
    batch = [attempt(f"{ns}a{k:02d}", learner, item_id, minute=m) for k, m in enumerate(minutes)]
    await neo4j_store.record_attempts(batch)
    cutoff = None if since is None else T0 + timedelta(minutes=since)
    expected = sorted((a for a in batch if cutoff is None or a.timestamp >= cutoff),
                      key=lambda a: (a.timestamp, a.attempt_id), reverse=True)
    got: list[Attempt] = []
    cursor: str | None = None
    for _ in range(len(batch) + 1):
        page = await neo4j_store.attempts_of(learner, limit=limit, cursor=cursor, since=cutoff)
        assert len(page.attempts) <= limit
        got += page.attempts
        cursor = page.next_cursor
        if cursor is None:
            break
    assert got == expected


@pytest.mark.neo4j
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edges=st.sets(st.tuples(st.integers(0, 7), st.integers(0, 7)).filter(
           lambda p: p[0] < p[1]), max_size=16),
       start=st.sets(st.integers(0, 7), min_size=1, max_size=2),
       depth=st.none() | st.integers(0, 3))
async def test_closures_match_breadth_first_search(
    neo4j_store: Neo4jStore, edges: set[tuple[int, int]], start: set[int], depth: int | None
) -> None:
    """ancestors / descendants = every skill within ``depth`` edges (by the shortest route)
    against / along the edges, with all stored edges among them."""
    ns = f"g{next(_examples)}-"
    names = [f"{ns}{i}" for i in range(8)]
    await neo4j_store.upsert_skills([skill(n) for n in names], actor=ACTOR)
    await neo4j_store.upsert_prerequisites(
        [Prerequisite(names[s], names[t]) for s, t in sorted(edges)], actor=ACTOR)
    model: nx.DiGraph[str] = nx.DiGraph()
    model.add_nodes_from(names)
    model.add_edges_from((names[s], names[t]) for s, t in edges)
    sources = [names[i] for i in sorted(start)]
    for method, graph in (("descendants", model), ("ancestors", model.reverse())):
        reach: set[str] = set()
        for s in sources:
            reach |= set(nx.single_source_shortest_path_length(graph, s, cutoff=depth))
        got = await getattr(neo4j_store, method)(sources, depth)
        assert [s.id for s in got.skills] == sorted(reach), method
        assert {(e.source, e.target) for e in got.edges} == {
            (u, v) for u, v in model.edges if u in reach and v in reach}, method


@pytest.mark.neo4j
async def test_batch_calls_run_a_fixed_number_of_statements(
    neo4j_store: Neo4jStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Round trips do not grow with the batch: the statements each call sends to the real
    server are counted (and still executed) for a batch of 1 and a batch of 300."""
    import graph.neo4j_core as module

    sent: list[str] = []
    real_rows = module.fetch

    async def counting(tx: Any, query: str, **params: Any) -> Any:
        sent.append(query)
        return await real_rows(tx, query, **params)

    monkeypatch.setattr(module, "fetch", counting)
    learners = tuple(f"l{i}" for i in range(300))
    await learner_with_items(neo4j_store, learners=learners)

    async def statements(call: Any) -> int:
        sent.clear()
        await call
        return len(sent)

    for n in (1, 300):
        batch = [attempt(f"a{n}-{k}", learners[k]) for k in range(n)]
        assert await statements(neo4j_store.record_attempts(batch)) == 1
        assert await statements(neo4j_store.record_attempts(batch)) == 1  # all duplicates
        rows = [Mastery(lid, "s1", 0.5, 0.1, T0, "m") for lid in learners[:n]]
        assert await statements(neo4j_store.save_mastery(rows)) == 1
        states = [(lid, "m", b"x") for lid in learners[:n]]
        assert await statements(neo4j_store.save_tracer_states(states)) == 1
        assert await statements(neo4j_store.get_learners(list(learners[:n]))) == 1
        assert await statements(neo4j_store.mastery_of(list(learners[:n]))) == 1
        assert await statements(neo4j_store.ancestors(["s1"])) == 1


_content = st.tuples(st.integers(0, 4), st.sampled_from([0.0, 1.0]), st.integers(0, 1))


@pytest.mark.neo4j
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(_content, min_size=1, max_size=6), min_size=1, max_size=4),
       unknown_learner_in=st.none() | st.integers(0, 3))
async def test_recording_matches_a_model_of_idempotent_ids(
    neo4j_store: Neo4jStore, batches: list[list[tuple[int, float, int]]],
    unknown_learner_in: int | None,
) -> None:
    """Against a dict model: within and across calls, a repeated id with the same content is a
    duplicate, with other content a conflict that refuses the whole call; a call naming an
    unknown learner is refused whole; refused calls change nothing."""
    ns = f"m{next(_examples)}-"
    learner, item_id = f"{ns}l", f"{ns}i"
    await neo4j_store.upsert_skills([skill(f"{ns}s")], actor=ACTOR)
    await neo4j_store.upsert_items([item(item_id, f"{ns}s")], actor=ACTOR)
    await neo4j_store.upsert_learners([Learner(learner, "L")])
    model: dict[str, Attempt] = {}
    for n, batch in enumerate(batches):
        who = f"{ns}ghost" if n == unknown_learner_in else learner
        rows = [attempt(f"{ns}a{k}", who, item_id, score=score, minute=minute)
                for k, score, minute in batch]
        seen = dict(model)
        stored: list[str] = []
        duplicates: list[str] = []
        conflict = False
        for row in rows:
            if row.attempt_id not in seen:
                seen[row.attempt_id] = row
                stored.append(row.attempt_id)
            elif seen[row.attempt_id] == row:
                duplicates.append(row.attempt_id)
            else:
                conflict = True
        if who != learner:
            with pytest.raises(NotFoundError):
                await neo4j_store.record_attempts(rows)
        elif conflict:
            with pytest.raises(AttemptConflictError):
                await neo4j_store.record_attempts(rows)
        else:
            result = await neo4j_store.record_attempts(rows)
            assert (list(result.stored), list(result.duplicates)) == (stored, duplicates)
            model = seen
        history = (await neo4j_store.attempts_of(learner, limit=100)).attempts
        assert sorted(history, key=lambda a: a.attempt_id) == sorted(
            model.values(), key=lambda a: a.attempt_id)
