"""Seeding a real store (SQLite, and Neo4j when configured): counts, idempotency, refusal of
an unmigrated store, the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.models import Role
from graph.store import MigrationError
from seed.cli import default_truth_path
from seed.curriculum import Curriculum, demo_curriculum
from seed.populate import populate
from seed.population import PolicyParams, Population, simulate_population
from seed.truth import read_truth

SMALL = PolicyParams(sessions_mean=3.0, items_min=4, items_max=8, class_size=5)


@pytest.fixture(scope="module")
def cur() -> Curriculum:
    return demo_curriculum()


@pytest.fixture(scope="module")
def pop(cur: Curriculum) -> Population:
    return simulate_population(cur, n_learners=12, seed=5, policy=SMALL)


async def test_counts_after_seeding(store: Any, cur: Curriculum, pop: Population) -> None:
    report = await populate(store, cur, pop, batch_size=50)
    assert report.attempts_stored == len(pop.attempts) > 50  # several batches
    assert report.attempts_already == 0
    graph = await store.prerequisite_graph()
    assert len(graph.skills) == len(cur.skills)
    assert {(e.source, e.target, e.strength) for e in graph.edges} == {
        (e.source, e.target, e.strength) for e in cur.edges
    }
    assert await store.get_items([i.id for i in cur.items]) == list(cur.items)
    assert await store.attempt_count() == len(pop.attempts)
    first = pop.learners[0].id
    assert await store.attempt_count(first) == sum(1 for a in pop.attempts if a.learner_id == first)
    groups = await store.get_groups([g.id for g in pop.groups])
    assert groups == pop.groups
    assert [len(g.learner_ids) for g in pop.groups] == [5, 5, 2]
    teacher = pop.groups[0].teacher_ids[0]
    assert [g.id for g in await store.groups_of_teacher(teacher)] == [g.id for g in pop.groups]
    users = await store.get_users(["designer-01", "admin-01", teacher, first])
    assert [u.role if u else None for u in users] == [
        Role.DESIGNER,
        Role.ADMIN,
        Role.TEACHER,
        Role.LEARNER,
    ]
    page = await store.attempts_of(first, limit=1000)
    newest_first = sorted(
        (a for a in pop.attempts if a.learner_id == first),
        key=lambda a: (a.timestamp, a.attempt_id),
        reverse=True,
    )
    assert list(page.attempts) == newest_first


async def test_rerun_writes_nothing(store: Any, cur: Curriculum, pop: Population) -> None:
    await populate(store, cur, pop)
    log = await store.change_log(limit=100_000)
    again = simulate_population(cur, n_learners=12, seed=5, policy=SMALL)
    report = await populate(store, cur, again)
    assert not report.wrote_anything
    assert report.attempts_already == len(pop.attempts)
    assert await store.change_log(limit=100_000) == log
    assert await store.attempt_count() == len(pop.attempts)


async def test_more_learners_same_seed_adds_only_the_new_ones(
    store: Any, cur: Curriculum, pop: Population
) -> None:
    await populate(store, cur, pop)
    bigger = simulate_population(cur, n_learners=15, seed=5, policy=SMALL)
    report = await populate(store, cur, bigger)
    assert report.attempts_already == len(pop.attempts)
    assert report.attempts_stored == len(bigger.attempts) - len(pop.attempts)
    assert report.skills_written == report.items_written == report.edges_written == 0


async def test_unmigrated_store_is_refused(
    tmp_path: Path, cur: Curriculum, pop: Population
) -> None:
    from graph.sqlite_store import SqliteStore

    store = await SqliteStore.open(str(tmp_path / "bare.db"))
    try:
        with pytest.raises(MigrationError, match="learngraph migrate"):
            await populate(store, cur, pop)
    finally:
        await store.close()


def test_cli_seeds_and_writes_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.cli import main

    monkeypatch.delenv("LEARNGRAPH_DB", raising=False)
    url = f"sqlite:///{tmp_path}/demo.db"
    assert main(["seed", "--db", url, "--learners", "3", "--quiet"]) == 2
    assert "learngraph migrate" in capsys.readouterr().err
    assert main(["migrate", "--db", url]) == 0
    assert main(["seed", "--db", url, "--learners", "3", "--seed", "1"]) == 0
    out = capsys.readouterr()
    assert "3 learners in 1 classes" in out.out
    assert "simulated 3/3 learners" in out.err and "recorded" in out.err
    truth = read_truth(tmp_path / "demo.db.truth.jsonl")
    assert set(truth.learners) == {"learner-0001", "learner-0002", "learner-0003"}
    assert truth.seed == 1
    assert main(["seed", "--db", url, "--learners", "3", "--seed", "1", "--quiet"]) == 0
    assert "nothing new to write" in capsys.readouterr().out


def test_default_truth_path() -> None:
    assert default_truth_path("sqlite:////data/x/learn.db") == Path("/data/x/learn.db.truth.jsonl")
    assert default_truth_path("sqlite:///./learngraph.db") == Path("./learngraph.db.truth.jsonl")
    assert default_truth_path("bolt://localhost:7687") == Path("seed-truth.jsonl")


async def test_conflicting_reseed_is_refused_with_advice(
    sqlite_store: Any, cur: Curriculum, pop: Population
) -> None:
    from seed.populate import SeedConflictError
    from seed.simulator import SimParams

    await populate(sqlite_store, cur, pop)
    other = simulate_population(
        cur, n_learners=12, seed=5, policy=SMALL, params=SimParams(slip=0.3)
    )
    with pytest.raises(SeedConflictError, match="seed a fresh database, or pick another --seed"):
        await populate(sqlite_store, cur, other)
    assert await sqlite_store.attempt_count() == len(pop.attempts)


async def _traced(store: Any, cur: Curriculum, pop: Population, batch_size: int) -> Any:
    from graph.models import PrerequisiteGraph
    from tracing.serving import MasteryService

    service = MasteryService.for_curriculum(
        PrerequisiteGraph(tuple(cur.skills), tuple(cur.edges)), cur.items
    )
    report = await populate(store, cur, pop, batch_size=batch_size, mastery=service)
    rows = await store.mastery_of([x.id for x in pop.learners])
    return report, {(m.learner_id, m.skill_id): round(m.probability, 9) for r in rows for m in r}


async def test_seeding_traces_mastery_once_whatever_the_batching(
    sqlite_store: Any, tmp_path: Path, cur: Curriculum, pop: Population
) -> None:
    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate

    report, small_batches = await _traced(sqlite_store, cur, pop, batch_size=50)
    learners_with_answers = {a.learner_id for a in pop.attempts}
    assert report.mastery_learners == len(learners_with_answers)
    assert {lid for lid, _ in small_batches} == learners_with_answers
    assert all(0.0 < p < 1.0 for p in small_batches.values())

    other = await SqliteStore.open(str(tmp_path / "one-batch.db"))
    try:
        await migrate(other)
        _, one_batch = await _traced(other, cur, pop, batch_size=10**6)
    finally:
        await other.close()
    assert one_batch == small_batches  # states carried across batches, no replay, no loss

    again, after = await _traced(sqlite_store, cur, pop, batch_size=50)
    assert again.mastery_learners == 0 and after == small_batches  # a re-run traces nothing
