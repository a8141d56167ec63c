"""Contract: class goals (a teacher's assignments for a whole group)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from graph.models import Group, GroupGoal
from graph.store import NotFoundError, ValidationError
from tests.contract.helpers import ACTOR, T0, skill


async def classes(store: Any) -> None:
    await store.upsert_skills([skill(s) for s in ("s1", "s2", "s3")], actor=ACTOR)
    await store.upsert_groups([Group("g1", "Class A"), Group("g2", "Class B")])


async def test_goals_round_trip_in_order_and_are_replaced_whole(store: Any) -> None:
    await classes(store)
    due = T0 + timedelta(days=7, microseconds=123)
    wanted = (GroupGoal("s3", due, "by Friday", set_by="tess"), GroupGoal("s1"))
    assert await store.set_group_goals("g1", wanted) == wanted
    assert await store.group_goals(["g2", "g1", "nope"]) == [(), wanted, ()]
    assert await store.set_group_goals("g1", [GroupGoal("s2")]) == (GroupGoal("s2"),)
    assert await store.set_group_goals("g1", []) == ()
    assert await store.group_goals(["g1"]) == [()]


async def test_due_times_come_back_in_utc(store: Any) -> None:
    await classes(store)
    plus2 = datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    (got,) = await store.set_group_goals("g1", [GroupGoal("s1", plus2)])
    assert got.due_at == plus2 and got.due_at is not None and got.due_at.utcoffset() == timedelta(0)


async def test_roster_changes_keep_goals_and_deletions_drop_them(store: Any) -> None:
    await classes(store)
    await store.set_group_goals("g1", [GroupGoal("s1"), GroupGoal("s2")])
    await store.set_group_goals("g2", [GroupGoal("s2")])
    await store.upsert_groups([Group("g1", "Class A renamed")])
    await store.rename_group("g1", "Class A")
    assert await store.group_goals(["g1"]) == [(GroupGoal("s1"), GroupGoal("s2"))]
    await store.remove_skills(["s2"], actor=ACTOR)
    assert await store.group_goals(["g1", "g2"]) == [(GroupGoal("s1"),), ()]
    await store.remove_groups(["g1"])
    await store.upsert_groups([Group("g1", "Class A again")])
    assert await store.group_goals(["g1"]) == [()]


@pytest.mark.parametrize(
    ("group", "goals", "error", "named"),
    [
        ("nope", [GroupGoal("s1")], NotFoundError, "nope"),
        ("g1", [GroupGoal("s1"), GroupGoal("zz")], NotFoundError, "zz"),
        ("g1", [GroupGoal("s1"), GroupGoal("s1")], ValidationError, "s1"),
        ("g1", [GroupGoal("s1", datetime(2026, 3, 1))], ValidationError, "timezone"),
        ("g1", [GroupGoal("s1", note="x" * 501)], ValidationError, "501"),
        ("g1", [GroupGoal(" ")], ValidationError, "group_goal.skill_id"),
        ("g1", [GroupGoal("s1", set_by=" ")], ValidationError, "group_goal.set_by"),
    ],
)
async def test_bad_goals_are_refused_naming_the_value_and_write_nothing(
    store: Any, group: str, goals: list[GroupGoal], error: type[Exception], named: str
) -> None:
    await classes(store)
    await store.set_group_goals("g1", [GroupGoal("s3")])
    with pytest.raises(error, match=named):
        await store.set_group_goals(group, goals)
    assert await store.group_goals(["g1"]) == [(GroupGoal("s3"),)]
