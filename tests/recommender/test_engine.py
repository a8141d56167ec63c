"""The serving engine (``recommender.engine``): one curriculum read per change-log seq serves
both the recommender's index and the serving tracer's view, and an edit made through another
handle of the store ("another process") moves both to the same seq; plus the import rules
that keep the engine the only part of ``recommender`` that knows ``tracing``."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from graph.models import Item, ItemKind, Prerequisite, Skill, SkillWeight
from recommender.engine import Engine
from tests.recommender.test_index_update import assert_same, seed

ROOT = Path(__file__).resolve().parents[2]


class CountingStore:
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


def routed(engine: Engine) -> set[str]:
    """The item ids the tracer's view of the curriculum can place."""
    service = engine.mastery._service
    assert service is not None
    return set(service._route)


@pytest.fixture
async def sqlite_pair(sqlite_store: Any, tmp_path: Path) -> Any:
    from graph.sqlite_store import SqliteStore

    other = await SqliteStore.open(str(tmp_path / "test.db"))  # the sqlite_store's file
    try:
        yield sqlite_store, other
    finally:
        await other.close()


@pytest.fixture
async def neo4j_pair(neo4j_store: Any) -> Any:
    from graph.neo4j_store import Neo4jStore
    from graph.open import neo4j_target
    from tests.conftest import neo4j_url

    uri, auth = neo4j_target(neo4j_url())
    other = await Neo4jStore.open(uri, auth=auth)
    try:
        yield neo4j_store, other
    finally:
        await other.close()


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def two_handles(request: pytest.FixtureRequest) -> Any:
    """A fresh store of each kind and a second handle of it: what another process sees."""
    return request.getfixturevalue(f"{request.param}_pair")


async def test_warm_reads_the_curriculum_once_for_index_and_tracer(two_handles: Any) -> None:
    here, _ = two_handles
    await seed(here)
    store = CountingStore(here)
    engine = Engine(store)
    _, index = await engine.warm()
    assert (store.graph_reads, store.item_pages, engine.reads.reads) == (1, 1, 1)
    seq = await here.last_change_seq()
    assert index.version == str(seq) and engine.mastery.view_seq == seq
    assert set(index.item_ids) == routed(engine)


@pytest.mark.parametrize("first", ["tracer", "index"])
async def test_an_edit_by_another_process_moves_index_and_tracer_together(
    two_handles: Any, first: str
) -> None:
    here, other = two_handles
    await seed(here)
    store = CountingStore(here)
    engine = Engine(store)
    await engine.warm()
    before = (store.graph_reads, store.item_pages)

    # another process: a new skill, an edge to it and an item on it
    await other.upsert_skills([Skill("F", "new skill")], actor="other process")
    await other.upsert_prerequisites([Prerequisite("E", "F")], actor="other process")
    await other.upsert_items(
        [Item("F0", ItemKind.EXERCISE, "F 0", (SkillWeight("F"),))], actor="other process"
    )
    seq = await other.last_change_seq()

    # only one of the two notices (an answer checks the tracer, a request the index) ...
    if first == "tracer":
        await engine.mastery.service()
    else:
        await engine.index.get(store)
    await engine.settled()

    # ... and both are then at the edit's seq, built from one read of the curriculum
    index = engine.index.index
    assert index is not None
    assert index.version == str(seq)
    assert engine.mastery.view_seq == seq
    assert "F" in index.skill_pos and "F0" in index.item_ids
    assert "F0" in routed(engine)
    assert set(index.item_ids) == routed(engine)
    assert (store.graph_reads - before[0], store.item_pages - before[1]) == (1, 1)
    # and the index equals a full rebuild from the store at that seq
    from recommender.service import read_index

    assert_same(index, await read_index(here, str(seq)))


async def test_a_rename_elsewhere_moves_both_without_a_read(two_handles: Any) -> None:
    here, other = two_handles
    await seed(here)
    store = CountingStore(here)
    engine = Engine(store)
    await engine.warm()
    view = engine.mastery._service
    await other.upsert_skills([Skill("A", "Addition")], actor="other process")
    seq = await other.last_change_seq()
    await engine.index.get(store)
    await engine.settled()
    assert engine.index.index is not None and engine.index.index.version == str(seq)
    assert engine.mastery.view_seq == seq
    assert engine.mastery._service is view  # nothing the view holds moved
    assert engine.reads.reads == 1


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


#: the catalogue's command line shows training progress with tracing's progress bar
TRACING_ALLOWED = {"recommender/catalogue/cli.py"}


def test_import_rules() -> None:
    """The engine imports no web framework and nothing of the API; the rest of
    ``recommender`` imports no ``tracing`` (nor the API); ``graph`` and ``tracing`` import
    neither ``recommender`` nor the API."""
    bad: list[str] = []
    for path in sorted((ROOT / "recommender").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        got = _imports(path)
        banned = {"api", "strawberry", "starlette"}
        if not rel.startswith("recommender/engine/") and rel not in TRACING_ALLOWED:
            banned.add("tracing")
        bad.extend(f"{rel} imports {m}" for m in sorted(got & banned))
    for package in ("graph", "tracing"):
        for path in sorted((ROOT / package).rglob("*.py")):
            got = _imports(path) & {"api", "recommender", "strawberry", "starlette"}
            bad.extend(f"{path.relative_to(ROOT).as_posix()} imports {m}" for m in sorted(got))
    assert bad == []
    assert (ROOT / "recommender/engine/engine.py").exists()
