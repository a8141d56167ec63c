"""Contract: skills and items page backward (``before``, ``backward``) and are counted with the
same filters as they are listed."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import ItemKind, Prerequisite
from tests.contract.helpers import ACTOR, item, skill

IDS = [f"s{i:02d}" for i in range(12)]


async def setup(store: Any) -> None:
    await store.upsert_skills(
        [skill(s, topic="even" if int(s[1:]) % 2 == 0 else "odd") for s in IDS], actor=ACTOR)
    await store.upsert_prerequisites([Prerequisite("s00", "s03")], actor=ACTOR)
    await store.upsert_items(
        [item(f"i{k}", IDS[k], kind=ItemKind.LESSON if k % 3 else ItemKind.EXERCISE)
         for k in range(9)], actor=ACTOR)


async def test_backward_pages_are_the_last_before_the_bound(store: Any) -> None:
    await setup(store)
    ids = [s.id for s in await store.list_skills(limit=3, backward=True)]
    assert ids == ["s09", "s10", "s11"]
    ids = [s.id for s in await store.list_skills(limit=3, before="s05", backward=True)]
    assert ids == ["s02", "s03", "s04"]
    ids = [s.id for s in await store.list_skills(topic="odd", after="s01", before="s09")]
    assert ids == ["s03", "s05", "s07"]
    assert [i.id for i in await store.list_items(kind=ItemKind.LESSON, limit=2,
                                                   backward=True)] == ["i7", "i8"]
    assert [i.id for i in await store.list_items(before="i3", limit=10)] == ["i0", "i1", "i2"]


async def test_counts_follow_the_filters(store: Any) -> None:
    await setup(store)
    assert await store.count_skills() == 12
    assert await store.count_skills(topic="odd") == 6
    assert await store.count_skills(has_prerequisite=True) == 1
    assert await store.count_skills(search="S1") == 2
    assert await store.count_items() == 9
    assert await store.count_items(kind=ItemKind.EXERCISE) == 3
    assert await store.count_items(skill_id="s04") == 1


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 13), st.integers(0, 13), st.integers(1, 5))
async def test_any_backward_window_matches_the_list(store: Any, lo: int, hi: int, n: int) -> None:
    if await store.count_skills() == 0:
        await setup(store)
    after = f"s{lo:02d}" if lo < 12 else None
    before = f"s{hi:02d}" if hi < 12 else None
    between = [s for s in IDS if (after is None or s > after) and (before is None or s < before)]
    got = await store.list_skills(after=after, before=before, limit=n, backward=True)
    assert [s.id for s in got] == between[-n:]
