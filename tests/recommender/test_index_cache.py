"""The curriculum index cache off the request path: a request during a rebuild is served the
old index, an edit is visible once the new one is swapped in, and a request naming what only
the new curriculum has waits for it (both stores). The rebuild is held at a gate the test
opens, so nothing here depends on timing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from graph.models import Item, ItemKind, Prerequisite, Skill, SkillWeight
from graph.store import GraphStore
from recommender import service
from recommender.errors import UnknownIdError
from recommender.index import CurriculumIndex
from tests.recommender.test_service import mastery, seed_diamond


class GatedBuild:
    """``IndexCache(build=...)`` that counts builds and holds each one at ``gate`` (open
    unless a test closes it); ``fail`` makes the next build raise."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.started = 0
        self.fail = False

    async def __call__(self, store: GraphStore, version: str) -> CurriculumIndex:
        self.started += 1
        await self.gate.wait()
        if self.fail:
            self.fail = False
            raise RuntimeError("the store went away mid-rebuild")
        return await service.read_index(store, version)


async def add_skill_e(store: Any) -> None:
    """A new skill E after D, with one item."""
    await store.upsert_skills([Skill("E", "skill E")], actor="t")
    await store.upsert_prerequisites([Prerequisite("D", "E")], actor="t")
    await store.upsert_items(
        [Item("E0", ItemKind.EXERCISE, "E 0", (SkillWeight("E"),))], actor="t"
    )


async def settle_loop() -> None:
    """Let every ready task run (a task waiting on a closed gate stays waiting)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_request_during_a_rebuild_gets_the_old_index(store: Any) -> None:
    await seed_diamond(store)
    build = GatedBuild()
    cache = service.IndexCache(build)
    old = await cache.current(store)  # the first call builds (the app's start-up does it)
    assert build.started == 1 and not cache.rebuilding
    assert await cache.current(store) is old and build.started == 1  # nothing moved

    build.gate.clear()
    await add_skill_e(store)
    during = await cache.current(store)
    assert during is old and "E" not in during.skill_pos
    assert cache.rebuilding and cache.stale(old)
    # a second request during the same rebuild: still the old index, no second rebuild
    await settle_loop()
    assert await cache.current(store) is old and build.started == 2
    path = await service.learner_path(store, "ann", ["D"], cache=cache)
    assert set(path.skills) == {"A", "B", "C", "D"}  # ann knows nothing yet; no E

    build.gate.set()
    await cache.settled()
    new = await cache.current(store)
    assert new is not old and "E" in new.skill_pos and new.version != old.version
    assert not cache.rebuilding and not cache.stale(new)
    assert build.started == 2


async def test_an_edit_is_visible_after_the_swap(store: Any) -> None:
    await seed_diamond(store)
    await store.save_mastery(mastery("ann", A=0.95, B=0.95, C=0.95, D=0.95))
    build = GatedBuild()
    cache = service.IndexCache(build)
    await cache.current(store)
    build.gate.clear()
    await add_skill_e(store)
    # the goal D is mastered under the old index: nothing left on the way to it
    before = await service.learner_path(store, "ann", ["D"], cache=cache)
    assert before.skills == ()
    build.gate.set()
    await cache.settled()
    recs = await service.recommendations(store, "ann", [], first=1, cache=cache)
    assert [r.skill for r in recs] == ["E"]  # the whole frontier now has E, ready after D


async def test_a_request_naming_a_new_skill_waits_for_the_rebuild(store: Any) -> None:
    await seed_diamond(store)
    await store.save_mastery(mastery("ann", A=0.95, B=0.95, C=0.95, D=0.95))
    build = GatedBuild()
    cache = service.IndexCache(build)
    await cache.current(store)
    build.gate.clear()
    await add_skill_e(store)
    asking = asyncio.create_task(service.learner_path(store, "ann", ["E"], cache=cache))
    await settle_loop()
    assert not asking.done(), "E is unknown to the old index: the request waits for the new one"
    build.gate.set()
    path = await asking
    assert path.skills == ("E",)
    # an id that is unknown to the new curriculum too is still refused
    with pytest.raises(UnknownIdError, match="'ghost'"):
        await service.learner_path(store, "ann", ["ghost"], cache=cache)


async def test_invalidate_rebuilds_in_the_background(store: Any) -> None:
    """An edit made through this process (the API's curriculum mutations call invalidate)."""
    await seed_diamond(store)
    build = GatedBuild()
    cache = service.IndexCache(build)
    old = await cache.current(store)
    build.gate.clear()
    cache.invalidate()
    assert cache.stale(old)
    assert await cache.current(store) is old and cache.rebuilding
    build.gate.set()
    await cache.settled()
    assert await cache.current(store) is not old and build.started == 2


async def test_get_waits_for_the_new_index(store: Any) -> None:
    """``get`` (scripts, tests, reads of one's own edits) waits; it shares a running rebuild."""
    await seed_diamond(store)
    build = GatedBuild()
    cache = service.IndexCache(build)
    await cache.get(store)
    build.gate.clear()
    await add_skill_e(store)
    await cache.current(store)  # starts the background rebuild
    waiting = asyncio.create_task(cache.get(store))
    await settle_loop()
    assert not waiting.done()
    build.gate.set()
    assert "E" in (await waiting).skill_pos
    assert build.started == 2  # one rebuild, shared


async def test_a_failed_rebuild_keeps_the_old_index_and_is_retried(store: Any) -> None:
    await seed_diamond(store)
    build = GatedBuild()
    cache = service.IndexCache(build)
    old = await cache.current(store)
    build.fail = True
    await add_skill_e(store)
    assert await cache.current(store) is old
    await cache.settled()
    assert cache.index is old and cache.stale(old)
    assert await cache.current(store) is old  # the next request starts another rebuild
    await cache.settled()
    assert "E" in (await cache.current(store)).skill_pos and build.started == 3
