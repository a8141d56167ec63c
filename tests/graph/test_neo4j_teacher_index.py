"""Neo4j: a teacher's groups are found through the ``Teacher`` index (migration 0002), not by
scanning every group; groups written before that migration are linked by it.

The behaviour of ``groups_of_teacher`` itself (replacing and removing groups) is pinned on both
stores by ``tests/contract/test_people.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from neo4j import AsyncDriver, AsyncGraphDatabase

from graph import cypher
from graph.models import Group, Learner
from graph.open import neo4j_target
from migrations.runner import discover
from tests.conftest import neo4j_url

pytestmark = pytest.mark.neo4j


@pytest.fixture
async def driver() -> AsyncIterator[AsyncDriver]:
    uri, auth = neo4j_target(neo4j_url())
    drv = AsyncGraphDatabase.driver(uri, auth=auth)
    try:
        yield drv
    finally:
        await drv.close()


def operators(plan: dict[str, Any]) -> list[str]:
    """Operator names of a plan tree, without the ``@database`` suffix."""
    return [plan["operatorType"].split("@")[0],
            *(op for child in plan.get("children", []) for op in operators(child))]


async def test_groups_of_teacher_seeks_an_index_and_scans_no_groups(
    neo4j_store: Any, driver: AsyncDriver
) -> None:
    async with driver.session() as session:
        result = await session.run("EXPLAIN " + cypher.GROUPS_OF_TEACHER, teacher_id="t1")
        summary = await result.consume()
    assert summary.plan is not None
    ops = operators(summary.plan)
    assert "NodeUniqueIndexSeek" in ops, ops
    assert not {"NodeByLabelScan", "AllNodesScan"} & set(ops), ops


async def test_migration_links_groups_written_before_it(
    neo4j_store: Any, driver: AsyncDriver
) -> None:
    await neo4j_store.upsert_learners([Learner("l1", "L1")])
    await neo4j_store.upsert_groups([Group("g1", "A", ("t1",), ("l1",))])
    # a group as the store wrote it before migration 0002: teacher ids only as a property
    await driver.execute_query(
        "CREATE (:Group {id: 'g0', name: 'Old', teacher_ids: ['t2', 't1']})")
    assert [g.id for g in await neo4j_store.groups_of_teacher("t2")] == []
    [migration] = [m for m in discover("neo4j") if m.version == 2]
    await neo4j_store.apply_migration(migration.version, migration.name, migration.checksum,
                                      migration.statements)
    assert [g.id for g in await neo4j_store.groups_of_teacher("t1")] == ["g0", "g1"]
    assert await neo4j_store.groups_of_teacher("t2") == [Group("g0", "Old", ("t2", "t1"), ())]
    # re-running it (a crash between statements and record) changes nothing
    await neo4j_store.apply_migration(migration.version, migration.name, migration.checksum,
                                      migration.statements)
    records, _, _ = await driver.execute_query(
        "MATCH (g:Group)-[r:TAUGHT_BY]->(t:Teacher) RETURN g.id AS g, t.id AS t ORDER BY g, t")
    assert [(r["g"], r["t"]) for r in records] == [("g0", "t1"), ("g0", "t2"), ("g1", "t1")]


async def test_replacing_a_groups_teachers_moves_its_links(neo4j_store: Any,
                                                           driver: AsyncDriver) -> None:
    await neo4j_store.upsert_groups([Group("g1", "A", ("t1", "t2"), ())])
    await neo4j_store.upsert_groups([Group("g1", "A", ("t2", "t3"), ())])
    records, _, _ = await driver.execute_query(
        "MATCH (:Group {id: 'g1'})-[:TAUGHT_BY]->(t:Teacher) RETURN t.id AS t ORDER BY t")
    assert [r["t"] for r in records] == ["t2", "t3"]
    assert await neo4j_store.groups_of_teacher("t1") == []
    await neo4j_store.remove_groups(["g1"])
    assert await neo4j_store.groups_of_teacher("t2") == []
