"""The incremental index update (``recommender.index_update``): after any sequence of
curriculum edits the index the cache holds equals a full rebuild from the store, array for
array; edits that allow it are applied without a full rebuild (both stores)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Item, ItemKind, Prerequisite, Skill, SkillWeight
from graph.store import GraphStoreError
from recommender import service
from recommender.index import CurriculumIndex
from recommender.index_update import only_skill_updates, updated_index

ARRAYS = (
    "edge_src",
    "edge_dst",
    "edge_strength",
    "par_ptr",
    "par_idx",
    "par_strength",
    "chi_ptr",
    "chi_idx",
    "topo",
    "level",
    "item_skill_ptr",
    "item_skill_idx",
    "skill_item_ptr",
    "skill_item_idx",
    "item_main_skill",
    "item_seconds",
    "item_difficulty",
    "skill_seconds",
)


def assert_same(got: CurriculumIndex, want: CurriculumIndex) -> None:
    assert got.version == want.version
    assert got.skill_ids == want.skill_ids
    assert got.item_ids == want.item_ids
    assert got.item_specs == want.item_specs
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)


async def seed(store: Any) -> None:
    await store.upsert_skills([Skill(s, f"skill {s}") for s in "ABCDE"], actor="t")
    await store.upsert_prerequisites(
        [Prerequisite("A", "B"), Prerequisite("A", "C"), Prerequisite("B", "D", 0.5)], actor="t"
    )
    await store.upsert_items(
        [
            Item(f"{s}{k}", ItemKind.EXERCISE, f"{s} {k}", (SkillWeight(s),), difficulty=0.2 * k)
            for s in "ABCD"
            for k in range(2)
        ],
        actor="t",
    )


#: one edit: a kind and numbers that pick its targets among what exists when it runs
Edit = tuple[str, int, int, int]
EDITS = st.tuples(
    st.sampled_from(
        ["rename", "add_skill", "remove_skill", "add_edge", "remove_edge", "item", "remove_item"]
    ),
    st.integers(0, 50),
    st.integers(0, 50),
    st.integers(0, 3),
)


async def apply_edit(store: Any, index: CurriculumIndex, edit: Edit, n: int) -> None:
    """Make ``edit`` (number ``n`` of the sequence) through the store's own writes."""
    kind, a, b, c = edit
    skills = index.skill_ids
    pick = skills[a % len(skills)] if skills else None
    try:
        if kind == "rename" and pick:
            await store.upsert_skills([Skill(pick, f"renamed {n}")], actor="t")
        elif kind == "add_skill":
            await store.upsert_skills([Skill(f"N{a}", f"new {a}")], actor="t")
        elif kind == "remove_skill" and pick:
            await store.remove_skills([pick], actor="t")
        elif kind == "add_edge" and pick and len(skills) > 1:
            target = skills[b % len(skills)]
            await store.upsert_prerequisites([Prerequisite(pick, target, (c + 1) / 4)], actor="t")
        elif kind == "remove_edge" and index.edge_src.size:
            k = a % index.edge_src.size
            edge = (skills[int(index.edge_src[k])], skills[int(index.edge_dst[k])])
            await store.remove_prerequisites([edge], actor="t")
        elif kind == "item" and pick:
            chosen = tuple(dict.fromkeys([pick, skills[b % len(skills)]][: 1 + c % 2]))
            await store.upsert_items(
                [
                    Item(
                        f"I{b % 6}",
                        ItemKind.EXERCISE,
                        f"item {n}",
                        tuple(SkillWeight(s) for s in chosen),
                        difficulty=c / 3,
                        expected_seconds=30 + 10 * c,
                    )
                ],
                actor="t",
            )
        elif kind == "remove_item" and index.n_items:
            await store.remove_items([index.item_ids[a % index.n_items]], actor="t")
    except GraphStoreError:
        pass  # a cycle, a self-loop: the store refused, nothing was written


async def run_edits(store: Any, edits: list[Edit], check_every: int) -> list[str]:
    """Apply ``edits``, checking the cache against a full rebuild every ``check_every``
    edits (so several entries are applied at once too); returns how each update was made."""
    await seed(store)
    cache = service.IndexCache()
    index = await cache.get(store)
    builds = []
    for n, edit in enumerate(edits, 1):
        await apply_edit(store, index, edit, n)
        if n % check_every == 0 or n == len(edits):
            index = await cache.get(store)
            builds.append(cache.last_build)
            assert_same(index, await service.read_index(store, index.version))
    return builds


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(EDITS, min_size=1, max_size=12), st.integers(1, 3))
def test_incremental_index_equals_a_full_rebuild_after_random_edits(
    edits: list[Edit], check_every: int
) -> None:
    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate

    async def go() -> None:
        store = await SqliteStore.open(":memory:")
        try:
            await migrate(store)
            await run_edits(store, edits, check_every)
        finally:
            await store.close()

    asyncio.run(go())


async def test_random_edits_on_each_store(store: Any) -> None:
    rng = np.random.default_rng(7)
    kinds = ["rename", "add_skill", "remove_skill", "add_edge", "remove_edge", "item"]
    kinds += ["remove_item", "rename", "item"]
    edits: list[Edit] = [
        (str(rng.choice(kinds)), int(rng.integers(50)), int(rng.integers(50)), int(rng.integers(4)))
        for _ in range(30)
    ]
    builds = await run_edits(store, edits, check_every=2)
    assert "incremental" in builds


async def test_a_rename_reuses_the_index_and_an_item_edit_reads_only_that_item(
    store: Any,
) -> None:
    await seed(store)
    cache = service.IndexCache()
    old = await cache.get(store)
    await store.upsert_skills([Skill("A", "Addition")], actor="t")
    renamed = await cache.get(store)
    assert cache.last_build == "incremental" and renamed.version != old.version
    assert renamed.par_idx is old.par_idx  # the same arrays, not a copy

    reads: list[list[str]] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        async def get_items(self, ids: list[str]) -> Any:
            reads.append(list(ids))
            return await store.get_items(ids)

        async def list_items(self, **kw: Any) -> Any:
            raise AssertionError("an item edit must not read every item")

    await store.upsert_items(
        [Item("A0", ItemKind.EXERCISE, "A 0", (SkillWeight("A"), SkillWeight("B")))], actor="t"
    )
    changes = await store.change_log(after_seq=int(renamed.version), limit=10)
    new = await updated_index(Counting(), renamed, changes, "x")  # type: ignore[arg-type]
    assert new is not None and reads == [["A0"]]
    assert [new.skill_ids[s] for s in new.skills_of_item(new.item_pos["A0"])] == ["A", "B"]


async def test_a_removed_skill_asks_for_a_full_rebuild(store: Any) -> None:
    await seed(store)
    cache = service.IndexCache()
    index = await cache.get(store)
    await store.remove_skills(["D"], actor="t")
    changes = await store.change_log(after_seq=int(index.version), limit=10)
    assert await updated_index(store, index, changes, "x") is None
    rebuilt = await cache.get(store)
    assert cache.last_build == "full" and "D" not in rebuilt.skill_pos
    assert "D0" in rebuilt.item_pos and rebuilt.skills_of_item(rebuilt.item_pos["D0"]).size == 0


async def test_only_skill_updates_tells_renames_from_structure(store: Any) -> None:
    await seed(store)
    after = (await store.change_log(after_seq=0, limit=100))[-1].seq
    await store.upsert_skills([Skill("A", "Addition")], actor="t")
    renames = await store.change_log(after_seq=after, limit=10)
    assert only_skill_updates(renames, {"A", "B"})
    assert not only_skill_updates(renames, {"B"})  # a new skill for that view
    await store.upsert_prerequisites([Prerequisite("C", "E")], actor="t")
    both = await store.change_log(after_seq=after, limit=10)
    assert not only_skill_updates(both, {"A", "B", "C", "E"})
