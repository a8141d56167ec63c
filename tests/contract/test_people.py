"""Contract: learners, users, groups, mastery and tracer state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from graph.models import Group, Learner, Mastery, Role, User
from graph.store import NotFoundError, ValidationError
from tests.contract.helpers import ACTOR, T0, skill


async def people(store: Any) -> None:
    """Skills s1..s3; learners l1..l4; teachers t1, t2; groups g1 = {l1, l2} (t1),
    g2 = {l2, l3} (t1, t2)."""
    await store.upsert_skills([skill("s1"), skill("s2"), skill("s3")], actor=ACTOR)
    await store.upsert_learners([Learner(f"l{i}", f"Learner {i}") for i in range(1, 5)])
    await store.upsert_users(
        [User("t1", "Ms One", Role.TEACHER), User("t2", "Mr Two", Role.TEACHER)]
    )
    await store.upsert_groups(
        [
            Group("g2", "Class B", ("t2", "t1"), ("l3", "l2")),
            Group("g1", "Class A", ("t1",), ("l2", "l1")),
        ]
    )


def mastery(
    learner: str, skill_id: str, p: float, minutes: int = 0, version: str = "bkt-1"
) -> Mastery:
    return Mastery(learner, skill_id, p, 0.1, T0 + timedelta(minutes=minutes), version)


async def test_learners_round_trip_with_goals_in_order(store: Any) -> None:
    await store.upsert_skills([skill("s1"), skill("s2")], actor=ACTOR)
    la = Learner("la", "Ada", goals=("s2", "s1"))
    await store.upsert_learners([la, Learner("lb", "Bo")])
    assert await store.get_learners(["lb", "zz", "la"]) == [Learner("lb", "Bo"), None, la]
    await store.upsert_learners([Learner("la", "Ada L.", goals=("s1",))])
    assert await store.get_learners(["la"]) == [Learner("la", "Ada L.", goals=("s1",))]


async def test_learner_goal_naming_unknown_skill_is_refused(store: Any) -> None:
    await store.upsert_skills([skill("s1")], actor=ACTOR)
    with pytest.raises(NotFoundError) as err:
        await store.upsert_learners([Learner("ok", "Ok"), Learner("x", "X", goals=("nope",))])
    assert err.value.entity == "skill" and err.value.ids == ("nope",)
    assert await store.get_learners(["ok", "x"]) == [None, None]


async def test_users_round_trip_and_replace(store: Any) -> None:
    await store.upsert_users([User("u1", "Una", Role.DESIGNER), User("u2", "Al", Role.ADMIN)])
    await store.upsert_users([User("u1", "Una B.", Role.TEACHER)])
    assert await store.get_users(["u2", "u9", "u1"]) == [
        User("u2", "Al", Role.ADMIN),
        None,
        User("u1", "Una B.", Role.TEACHER),
    ]


async def test_groups_round_trip_and_membership_queries(store: Any) -> None:
    await people(store)
    assert await store.get_groups(["g1", "gx", "g2"]) == [
        Group("g1", "Class A", ("t1",), ("l2", "l1")),
        None,
        Group("g2", "Class B", ("t2", "t1"), ("l3", "l2")),
    ]
    assert [g.id for g in await store.groups_of_teacher("t1")] == ["g1", "g2"]
    assert [g.id for g in await store.groups_of_teacher("t2")] == ["g2"]
    assert await store.groups_of_teacher("nobody") == []
    by_learner = await store.groups_of_learners(["l2", "l4", "l1", "ghost"])
    assert [[g.id for g in row] for row in by_learner] == [["g1", "g2"], [], ["g1"], []]
    members = await store.learners_of_groups(["g2", "missing", "g1"])
    assert [[lr.id for lr in row] for row in members] == [["l2", "l3"], [], ["l1", "l2"]]


async def test_group_upsert_replaces_members_and_remove_deletes(store: Any) -> None:
    await people(store)
    await store.upsert_groups([Group("g1", "Class A2", ("t2",), ("l4",))])
    assert await store.get_groups(["g1"]) == [Group("g1", "Class A2", ("t2",), ("l4",))]
    assert [g.id for g in await store.groups_of_teacher("t1")] == ["g2"]
    await store.remove_groups(["g1", "never"])
    assert await store.get_groups(["g1", "g2"]) == [None, (await store.get_groups(["g2"]))[0]]
    assert await store.groups_of_learners(["l4"]) == [[]]
    assert await store.learners_of_groups(["g1"]) == [[]]


async def test_group_with_unknown_learner_is_refused(store: Any) -> None:
    await people(store)
    with pytest.raises(NotFoundError) as err:
        await store.upsert_groups([Group("g3", "C", ("t1",), ("l1", "ghost"))])
    assert err.value.entity == "learner" and err.value.ids == ("ghost",)
    assert await store.get_groups(["g3"]) == [None]


async def test_rename_group_changes_only_the_name(store: Any) -> None:
    await people(store)
    renamed = await store.rename_group("g2", "Class B2")
    assert renamed == Group("g2", "Class B2", ("t2", "t1"), ("l3", "l2"))
    assert await store.get_groups(["g2", "g1"]) == [
        renamed,
        Group("g1", "Class A", ("t1",), ("l2", "l1")),
    ]
    with pytest.raises(NotFoundError) as err:
        await store.rename_group("ghost", "X")
    assert err.value.entity == "group" and err.value.ids == ("ghost",)
    with pytest.raises(ValidationError):
        await store.rename_group("g2", 7)
    assert await store.get_groups(["ghost", "g2"]) == [None, renamed]


async def test_mastery_keeps_the_latest_row_per_skill(store: Any) -> None:
    await people(store)
    await store.save_mastery(
        [mastery("l1", "s2", 0.4), mastery("l1", "s1", 0.2), mastery("l2", "s1", 0.9)]
    )
    await store.save_mastery([mastery("l1", "s2", 0.7, minutes=5, version="bkt-2")])
    got = await store.mastery_of(["l1", "l3", "l2", "ghost"])
    assert got == [
        [mastery("l1", "s1", 0.2), mastery("l1", "s2", 0.7, 5, "bkt-2")],
        [],
        [mastery("l2", "s1", 0.9)],
        [],
    ]


async def test_mastery_probabilities_match_mastery_of(store: Any) -> None:
    """The recommender's light read answers the latest probability of each skill, only the
    skills asked for when given, and nothing for an unknown learner, skill or removed skill."""
    await people(store)
    await store.save_mastery(
        [mastery("l1", "s2", 0.4), mastery("l1", "s1", 0.25), mastery("l2", "s1", 0.9)]
    )
    await store.save_mastery([mastery("l1", "s2", 0.75, minutes=5, version="bkt-2")])
    [rows] = await store.mastery_of(["l1"])
    got = await store.mastery_probabilities("l1")
    assert got == {r.skill_id: r.probability for r in rows} == {"s1": 0.25, "s2": 0.75}
    assert await store.mastery_probabilities("l1", ["s2", "s3", "ghost"]) == {"s2": 0.75}
    assert await store.mastery_probabilities("l1", []) == {}
    assert await store.mastery_probabilities("l3") == {}
    assert await store.mastery_probabilities("ghost") == {}
    await store.remove_skills(["s1"], actor=ACTOR)
    assert await store.mastery_probabilities("l1") == {"s2": 0.75}


async def test_mastery_of_group_covers_every_member(store: Any) -> None:
    await people(store)
    await store.save_mastery(
        [mastery("l2", "s3", 0.5), mastery("l3", "s1", 0.6), mastery("l1", "s1", 0.1)]
    )
    got = await store.mastery_of_group("g2")
    assert dict(got) == {"l2": [mastery("l2", "s3", 0.5)], "l3": [mastery("l3", "s1", 0.6)]}
    await store.upsert_learners([Learner("l4", "Four")])
    await store.upsert_groups([Group("g4", "Empty-ish", (), ("l4",))])
    assert dict(await store.mastery_of_group("g4")) == {"l4": []}
    assert dict(await store.mastery_of_group("no-such-group")) == {}


async def test_mastery_of_removed_skill_goes_with_it(store: Any) -> None:
    await people(store)
    await store.save_mastery([mastery("l1", "s1", 0.3), mastery("l1", "s2", 0.8)])
    await store.remove_skills(["s1"], actor=ACTOR)
    assert await store.mastery_of(["l1"]) == [[mastery("l1", "s2", 0.8)]]


async def test_mastery_out_of_range_is_refused_whole(store: Any) -> None:
    await people(store)
    for bad, field in (
        (mastery("l1", "s2", 1.2), "probability"),
        (mastery("l1", "s2", float("nan")), "probability"),
        (Mastery("l1", "s2", 0.5, -1.0, T0, "v"), "uncertainty"),
    ):
        with pytest.raises(ValidationError) as err:
            await store.save_mastery([mastery("l1", "s1", 0.5), bad])
        assert err.value.field == field
    assert await store.mastery_of(["l1"]) == [[]]


async def test_tracer_states_per_learner_and_model_version(store: Any) -> None:
    await people(store)
    await store.save_tracer_states(
        [("l1", "dkt-1", b"\x00\x01state"), ("l2", "dkt-1", b""), ("l1", "bkt-1", b"bkt")]
    )
    assert await store.load_tracer_states(["l2", "l3", "l1"], "dkt-1") == [
        b"",
        None,
        b"\x00\x01state",
    ]
    await store.save_tracer_states([("l1", "dkt-1", b"\xff" * 4096)])
    assert await store.load_tracer_states(["l1"], "dkt-1") == [b"\xff" * 4096]
    assert await store.load_tracer_states(["l1", "l2"], "bkt-1") == [b"bkt", None]
    assert await store.load_tracer_states(["l1"], "unknown-model") == [None]
