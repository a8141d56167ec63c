"""Contract: curriculum reads and writes (skills, items, prerequisite edges), on every store."""

from __future__ import annotations

from typing import Any

import pytest

from graph.models import Item, ItemKind, Prerequisite, SkillWeight
from graph.store import CycleError, NotFoundError, ValidationError
from tests.contract.helpers import ACTOR, chain, edge_set, item, skill, skill_ids

# -- skills ---------------------------------------------------------------------------------


async def test_get_skills_keeps_order_and_gives_none_for_missing(store: Any) -> None:
    await store.upsert_skills(
        [skill("b", topic="t", area="ar", tags=("x", "y"), description="d"), skill("a")],
        actor=ACTOR)
    got = await store.get_skills(["a", "zz", "b", "a"])
    assert got == [skill("a"), None,
                   skill("b", topic="t", area="ar", tags=("x", "y"), description="d"),
                   skill("a")]
    assert await store.get_skills([]) == []


async def test_upsert_skill_replaces_every_field(store: Any) -> None:
    await store.upsert_skills([skill("a", topic="old", tags=("p",))], actor=ACTOR)
    replaced = skill("a", name="New", topic="new", area="ar", tags=(), description="dd")
    await store.upsert_skills([replaced], actor=ACTOR)
    assert await store.get_skills(["a"]) == [replaced]
    assert len((await store.prerequisite_graph()).skills) == 1


async def test_list_skills_filters(store: Any) -> None:
    await store.upsert_skills([
        skill("s1", name="Adding Fractions", topic="fractions", area="number"),
        skill("s2", name="Fraction basics", topic="fractions", area="number"),
        skill("s3", name="Area of rectangles", topic="geometry", area="shape"),
        skill("s4", name="Ángulos", topic="geometry", area="shape"),
    ], actor=ACTOR)
    await store.upsert_prerequisites([Prerequisite("s2", "s1")], actor=ACTOR)

    def ids(skills: list[Any]) -> list[str]:
        return [s.id for s in skills]

    assert ids(await store.list_skills()) == ["s1", "s2", "s3", "s4"]
    assert ids(await store.list_skills(topic="fractions")) == ["s1", "s2"]
    assert ids(await store.list_skills(area="shape")) == ["s3", "s4"]
    assert ids(await store.list_skills(search="FRACTION")) == ["s1", "s2"]
    assert ids(await store.list_skills(search="ángulo")) == ["s4"]
    assert ids(await store.list_skills(has_prerequisite=True)) == ["s1"]
    assert ids(await store.list_skills(has_prerequisite=False)) == ["s2", "s3", "s4"]
    assert ids(await store.list_skills(topic="geometry", search="area")) == ["s3"]
    assert ids(await store.list_skills(topic="nope")) == []


async def test_list_skills_pages_by_id(store: Any) -> None:
    await store.upsert_skills([skill(f"k{i:02d}") for i in reversed(range(25))], actor=ACTOR)
    seen: list[str] = []
    after = None
    while True:
        page = await store.list_skills(after=after, limit=10)
        if not page:
            break
        assert len(page) <= 10
        seen += [s.id for s in page]
        after = page[-1].id
    assert seen == [f"k{i:02d}" for i in range(25)]
    assert [s.id for s in await store.list_skills(after="k0", limit=2)] == ["k00", "k01"]


async def test_list_limit_must_be_positive(store: Any) -> None:
    with pytest.raises(ValidationError) as err:
        await store.list_skills(limit=0)
    assert err.value.field == "limit"


# -- items ----------------------------------------------------------------------------------


async def test_items_round_trip_with_q_matrix_in_given_order(store: Any) -> None:
    await store.upsert_skills([skill("s1"), skill("s2"), skill("s3")], actor=ACTOR)
    full = Item(id="i1", kind=ItemKind.VIDEO, title="Intro", body="b", url="https://x/v",
                difficulty=0.25, expected_seconds=300,
                skills=(SkillWeight("s3", 0.5), SkillWeight("s1", 1.0)))
    await store.upsert_items([full, item("i0", "s2")], actor=ACTOR)
    assert await store.get_items(["i1", "missing", "i0"]) == [full, None, item("i0", "s2")]


async def test_upsert_item_replaces_its_q_matrix_row(store: Any) -> None:
    await store.upsert_skills([skill("s1"), skill("s2")], actor=ACTOR)
    await store.upsert_items([item("i1", "s1", "s2")], actor=ACTOR)
    await store.upsert_items([item("i1", "s2", title="v2", difficulty=0.9)], actor=ACTOR)
    assert await store.get_items(["i1"]) == [item("i1", "s2", title="v2", difficulty=0.9)]
    assert await store.items_for_skills(["s1", "s2"]) == [
        [], [item("i1", "s2", title="v2", difficulty=0.9)]]


async def test_item_naming_unknown_skill_is_refused_whole(store: Any) -> None:
    await store.upsert_skills([skill("s1")], actor=ACTOR)
    with pytest.raises(NotFoundError) as err:
        await store.upsert_items([item("ok", "s1"), item("bad", "s1", "ghost")], actor=ACTOR)
    assert err.value.entity == "skill" and err.value.ids == ("ghost",)
    assert await store.get_items(["ok", "bad"]) == [None, None]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (item("i", "s1", difficulty=1.5), "item.difficulty"),
        (item("i", "s1", expected_seconds=-1), "item.expected_seconds"),
        (Item("i", ItemKind.EXERCISE, "t", skills=(SkillWeight("s1", 0.0),)),
         "item.skills.weight"),
        (Item("i", ItemKind.EXERCISE, "t", skills=(SkillWeight("s1", 1.2),)),
         "item.skills.weight"),
    ],
)
async def test_item_values_out_of_range_are_refused(store: Any, bad: Item, field: str) -> None:
    await store.upsert_skills([skill("s1")], actor=ACTOR)
    with pytest.raises(ValidationError) as err:
        await store.upsert_items([item("fine", "s1"), bad], actor=ACTOR)
    assert err.value.field == field
    assert await store.get_items(["fine"]) == [None]


async def test_list_items_filters_and_pages(store: Any) -> None:
    await store.upsert_skills([skill("s1"), skill("s2")], actor=ACTOR)
    await store.upsert_items([
        item("i3", "s1"), item("i1", "s1", "s2"), item("i2", "s2", kind=ItemKind.LESSON),
        item("i4", "s2"),
    ], actor=ACTOR)

    def ids(items: list[Any]) -> list[str]:
        return [i.id for i in items]

    assert ids(await store.list_items()) == ["i1", "i2", "i3", "i4"]
    assert ids(await store.list_items(skill_id="s1")) == ["i1", "i3"]
    assert ids(await store.list_items(kind=ItemKind.LESSON)) == ["i2"]
    assert ids(await store.list_items(skill_id="s2", kind=ItemKind.EXERCISE)) == ["i1", "i4"]
    assert ids(await store.list_items(after="i2", limit=1)) == ["i3"]
    assert ids(await store.list_items(after="i4")) == []


async def test_items_for_skills_in_order_of_skills_then_item_id(store: Any) -> None:
    await store.upsert_skills([skill("s1"), skill("s2"), skill("s3")], actor=ACTOR)
    await store.upsert_items([item("i2", "s1"), item("i1", "s1", "s2")], actor=ACTOR)
    got = await store.items_for_skills(["s2", "nope", "s1", "s3"])
    assert [[i.id for i in row] for row in got] == [["i1"], [], ["i1", "i2"], []]


# -- prerequisite edges ---------------------------------------------------------------------


async def test_prerequisites_and_dependents_per_skill(store: Any) -> None:
    await store.upsert_skills([skill(s) for s in "abcd"], actor=ACTOR)
    await store.upsert_prerequisites(
        [Prerequisite("a", "c", 0.5), Prerequisite("b", "c"), Prerequisite("c", "d", 0.8)],
        actor=ACTOR)
    pre = await store.prerequisites_of(["c", "a", "zz", "d"])
    assert [set(row) for row in pre] == [
        {Prerequisite("a", "c", 0.5), Prerequisite("b", "c", 1.0)}, set(), set(),
        {Prerequisite("c", "d", 0.8)}]
    dep = await store.dependents_of(["a", "d", "c"])
    assert [set(row) for row in dep] == [
        {Prerequisite("a", "c", 0.5)}, set(), {Prerequisite("c", "d", 0.8)}]


async def test_upsert_edge_updates_strength(store: Any) -> None:
    await chain(store, "ab")
    await store.upsert_prerequisites([Prerequisite("a", "b", 0.3)], actor=ACTOR)
    graph = await store.prerequisite_graph()
    assert list(graph.edges) == [Prerequisite("a", "b", 0.3)]
    assert skill_ids(graph) == ["a", "b"]


async def test_cycle_is_refused_with_the_cycle_spelled_out(store: Any) -> None:
    await chain(store, "abc")
    before = await store.prerequisite_graph()
    log_before = await store.change_log(limit=1000)
    with pytest.raises(CycleError) as err:
        await store.upsert_prerequisites([Prerequisite("c", "a")], actor=ACTOR)
    cycle = err.value.cycle
    assert cycle[0] == cycle[-1] and sorted(cycle[:-1]) == ["a", "b", "c"]
    steps = set(zip(cycle, cycle[1:], strict=False))
    assert steps == {("a", "b"), ("b", "c"), ("c", "a")}
    assert " -> ".join(cycle) in str(err.value)
    assert await store.prerequisite_graph() == before
    assert await store.change_log(limit=1000) == log_before


async def test_cycle_closed_by_two_new_edges_together_writes_nothing(store: Any) -> None:
    await store.upsert_skills([skill(s) for s in "xyz"], actor=ACTOR)
    with pytest.raises(CycleError) as err:
        await store.upsert_prerequisites(
            [Prerequisite("x", "y"), Prerequisite("y", "z"), Prerequisite("z", "x")],
            actor=ACTOR)
    assert len(err.value.cycle) == 4
    assert (await store.prerequisite_graph()).edges == ()


async def test_self_loop_and_bad_strength_are_validation_errors(store: Any) -> None:
    await chain(store, "ab")
    with pytest.raises(ValidationError) as err:
        await store.upsert_prerequisites([Prerequisite("a", "a")], actor=ACTOR)
    assert "'a'" in str(err.value)
    for bad in (-0.1, 1.01, float("nan")):
        with pytest.raises(ValidationError) as err:
            await store.upsert_prerequisites([Prerequisite("a", "b", bad)], actor=ACTOR)
        assert err.value.field == "strength"
    assert list((await store.prerequisite_graph()).edges) == [Prerequisite("a", "b", 1.0)]


async def test_edge_naming_unknown_skills_is_refused(store: Any) -> None:
    await chain(store, "ab")
    with pytest.raises(NotFoundError) as err:
        await store.upsert_prerequisites(
            [Prerequisite("b", "ghost"), Prerequisite("phantom", "a")], actor=ACTOR)
    assert err.value.entity == "skill" and set(err.value.ids) == {"ghost", "phantom"}
    assert edge_set(await store.prerequisite_graph()) == {("a", "b")}


async def test_remove_skills_cascades_to_edges_and_q_matrix(store: Any) -> None:
    await chain(store, "abc")
    await store.upsert_items([item("i1", "b", "c"), item("i2", "b")], actor=ACTOR)
    await store.remove_skills(["b", "never-existed"], actor=ACTOR)
    graph = await store.prerequisite_graph()
    assert skill_ids(graph) == ["a", "c"] and graph.edges == ()
    assert await store.get_items(["i1", "i2"]) == [item("i1", "c"), item("i2")]
    assert await store.items_for_skills(["b"]) == [[]]
    assert await store.list_skills(has_prerequisite=True) == []


async def test_remove_items_and_edges_ignore_missing(store: Any) -> None:
    await chain(store, "abc")
    await store.upsert_items([item("i1", "a"), item("i2", "a")], actor=ACTOR)
    await store.remove_items(["i1", "nope"], actor=ACTOR)
    assert await store.get_items(["i1", "i2"]) == [None, item("i2", "a")]
    await store.remove_prerequisites([("a", "b"), ("c", "a"), ("x", "y")], actor=ACTOR)
    assert edge_set(await store.prerequisite_graph()) == {("b", "c")}
    # with a -> b gone, c -> a no longer closes a cycle
    await store.upsert_prerequisites([Prerequisite("c", "a")], actor=ACTOR)
    assert edge_set(await store.prerequisite_graph()) == {("b", "c"), ("c", "a")}


# -- ancestors / descendants ----------------------------------------------------------------


async def diamond(store: Any) -> None:
    """a -> b -> d, a -> c -> d, d -> e, and an unrelated x -> y."""
    await store.upsert_skills([skill(s) for s in "abcdexy"], actor=ACTOR)
    await store.upsert_prerequisites([Prerequisite(s, t) for s, t in (
        ("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e"), ("x", "y"))], actor=ACTOR)


async def test_ancestors_unbounded_and_by_depth(store: Any) -> None:
    await diamond(store)
    full = await store.ancestors(["e"])
    assert skill_ids(full) == ["a", "b", "c", "d", "e"]
    assert edge_set(full) == {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("d", "e")}
    one = await store.ancestors(["e"], depth=1)
    assert skill_ids(one) == ["d", "e"] and edge_set(one) == {("d", "e")}
    two = await store.ancestors(["e"], depth=2)
    assert skill_ids(two) == ["b", "c", "d", "e"]
    assert edge_set(two) == {("b", "d"), ("c", "d"), ("d", "e")}
    zero = await store.ancestors(["e", "y"], depth=0)
    assert skill_ids(zero) == ["e", "y"] and zero.edges == ()
    several = await store.ancestors(["b", "y", "ghost"])
    assert skill_ids(several) == ["a", "b", "x", "y"]
    assert edge_set(several) == {("a", "b"), ("x", "y")}


async def test_descendants_unbounded_and_by_depth(store: Any) -> None:
    await diamond(store)
    full = await store.descendants(["b"])
    assert skill_ids(full) == ["b", "d", "e"]
    assert edge_set(full) == {("b", "d"), ("d", "e")}
    one = await store.descendants(["a"], depth=1)
    assert skill_ids(one) == ["a", "b", "c"]
    assert edge_set(one) == {("a", "b"), ("a", "c")}
    assert skill_ids(await store.descendants(["ghost"])) == []
    with pytest.raises(ValidationError):
        await store.descendants(["a"], depth=-1)
