"""Contract: ``update_learner``, the partial update of one learner, on both stores.

It changes only the fields given, in one transaction, so concurrent edits of different fields
of one learner (a goal change and a retention change) all stay. Reading the learner and
upserting it whole, as the API mutations used to, loses one of them: the concurrency test
below fails against that approach (checked when it was written, with a wrapper store
whose ``update_learner`` reads and upserts whole; ``benchmarks/bench_learner_update.py``
counts the edits that approach loses).
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Learner
from graph.store import UNSET, NotFoundError, ValidationError
from tests.contract.helpers import ACTOR, skill

SKILLS = ("s1", "s2", "s3", "s4")
ANN = Learner("ann", "Ann", goals=("s1", "s2"), target_retention=0.8)
BOB = Learner("bob", "Bob", goals=("s3",), target_retention=0.85)


async def people(store: Any) -> None:
    await store.upsert_skills([skill(s) for s in SKILLS], actor=ACTOR)
    await store.upsert_learners([ANN, BOB])


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"goals": ["s4", "s1"]}, replace(ANN, goals=("s4", "s1"))),
        ({"goals": []}, replace(ANN, goals=())),
        ({"target_retention": 0.75}, replace(ANN, target_retention=0.75)),
        ({"target_retention": None}, replace(ANN, target_retention=None)),
        ({"display_name": "Ann B."}, replace(ANN, display_name="Ann B.")),
        ({"display_name": "A", "goals": ["s3"], "target_retention": 0.95},
         Learner("ann", "A", ("s3",), 0.95)),
        ({}, ANN),
    ],
    ids=["goals-reordered", "goals-cleared", "retention", "retention-default", "name", "all",
         "nothing"],
)
async def test_changes_only_the_fields_given(
    store: Any, fields: dict[str, Any], expected: Learner
) -> None:
    await people(store)
    returned = await store.update_learner("ann", **fields)
    assert returned == expected
    assert await store.get_learners(["ann", "bob"]) == [expected, BOB], "bob is untouched"
    assert await store.list_learners() == [expected, BOB]


async def test_an_integer_retention_is_stored_as_a_float(store: Any) -> None:
    await people(store)
    # 1 is outside the range; the range check takes ints like floats
    with pytest.raises(ValidationError):
        await store.update_learner("ann", target_retention=1)
    got = await store.update_learner("bob", target_retention=0.9)
    assert got.target_retention == 0.9 and isinstance(got.target_retention, float)


async def test_unknown_learner_is_not_found_and_creates_nothing(store: Any) -> None:
    await people(store)
    with pytest.raises(NotFoundError) as caught:
        await store.update_learner("ghost", target_retention=0.8)
    assert caught.value.entity == "learner" and caught.value.ids == ("ghost",)
    assert "'ghost'" in str(caught.value)
    with pytest.raises(NotFoundError) as caught:  # the learner is named before its goals
        await store.update_learner("ghost", goals=["nope"])
    assert caught.value.entity == "learner"
    assert await store.get_learners(["ghost"]) == [None]
    assert await store.list_learners() == [ANN, BOB]


async def test_unknown_goal_skill_is_not_found_and_writes_nothing(store: Any) -> None:
    await people(store)
    with pytest.raises(NotFoundError) as caught:
        await store.update_learner("ann", display_name="X", goals=["s3", "nope", "zzz"],
                                   target_retention=0.7)
    assert caught.value.entity == "skill" and caught.value.ids == ("nope", "zzz")
    assert await store.get_learners(["ann"]) == [ANN], "no field of the call was written"


@pytest.mark.parametrize(
    ("learner_id", "fields", "field"),
    [
        ("ann", {"target_retention": 1.5}, "learner.target_retention"),
        ("ann", {"target_retention": 0.5}, "learner.target_retention"),
        ("ann", {"target_retention": math.nan}, "learner.target_retention"),
        ("ann", {"target_retention": math.inf}, "learner.target_retention"),
        ("ann", {"target_retention": True}, "learner.target_retention"),
        ("ann", {"target_retention": "0.8"}, "learner.target_retention"),
        ("ann", {"goals": "s1"}, "learner.goals"),
        ("ann", {"goals": ["s1", "s1"]}, "learner.goals"),
        ("ann", {"goals": ["s1", " "]}, "learner.goals"),
        ("ann", {"goals": None}, "learner.goals"),
        ("ann", {"display_name": 5}, "learner.display_name"),
        ("ann", {"display_name": None}, "learner.display_name"),
        ("", {"target_retention": 0.8}, "learner.id"),
        ("  ", {"goals": []}, "learner.id"),
        # a good field beside a bad one is not written either
        ("ann", {"goals": ["s3"], "target_retention": 2.0}, "learner.target_retention"),
        ("ann", {"display_name": "Z", "goals": ["s3", "s3"]}, "learner.goals"),
    ],
)
async def test_bad_value_is_a_validation_error_and_writes_nothing(
    store: Any, learner_id: Any, fields: dict[str, Any], field: str
) -> None:
    await people(store)
    with pytest.raises(ValidationError) as caught:
        await store.update_learner(learner_id, **fields)
    assert caught.value.field == field
    assert await store.list_learners() == [ANN, BOB]


async def test_unset_is_the_default_of_every_field(store: Any) -> None:
    await people(store)
    same = await store.update_learner("ann", display_name=UNSET, goals=UNSET,
                                      target_retention=UNSET)
    assert same == ANN == (await store.get_learners(["ann"]))[0]


async def test_concurrent_edits_of_different_fields_all_stay(store: Any) -> None:
    """Three lanes run at once on one learner, each changing its own field in sequence (goals,
    retention, name): whatever the interleaving, the learner ends with the last value of every
    lane. Reading the learner and upserting it whole fails this: a lane's write carries the
    other fields as it read them, older than a concurrent lane's write."""
    await people(store)
    rounds = 25
    goal_values = [tuple(SKILLS[(i + k) % 4] for k in range(1 + i % 3)) for i in range(rounds)]
    retentions = [round(0.7 + 0.01 * (i % 27), 2) for i in range(rounds)]
    names = [f"Ann {i}" for i in range(rounds)]

    async def goals_lane() -> list[Learner]:
        return [await store.update_learner("ann", goals=g) for g in goal_values]

    async def retention_lane() -> list[Learner]:
        return [await store.update_learner("ann", target_retention=r) for r in retentions]

    async def name_lane() -> list[Learner]:
        return [await store.update_learner("ann", display_name=n) for n in names]

    by_goals, by_retention, by_name = await asyncio.gather(
        goals_lane(), retention_lane(), name_lane())
    assert [lr.goals for lr in by_goals] == goal_values, "each call returns what it wrote"
    assert [lr.target_retention for lr in by_retention] == retentions
    assert [lr.display_name for lr in by_name] == names
    (final,) = await store.get_learners(["ann"])
    assert final == Learner("ann", names[-1], goal_values[-1], retentions[-1])
    assert await store.get_learners(["bob"]) == [BOB]


async def test_concurrent_goal_replacements_never_mix(store: Any) -> None:
    """Goal lists written at once to one learner: each replaces the whole list, so the learner
    ends with exactly one of them (which one depends on the interleaving), never a union of
    two or a list with a skill twice."""
    await people(store)
    lists = [[SKILLS[i % 4], SKILLS[(i + 1) % 4]] for i in range(4)] + [[s] for s in SKILLS]
    returned = await asyncio.gather(
        *(store.update_learner("ann", goals=g) for g in lists * 3))
    assert [list(lr.goals) for lr in returned] == lists * 3
    (final,) = await store.get_learners(["ann"])
    assert final is not None and list(final.goals) in lists
    assert final.target_retention == ANN.target_retention


async def test_many_concurrent_updates_of_many_learners(store: Any) -> None:
    """Goal and retention updates of several learners fired all at once (one gather); each
    learner ends with the values of its own updates, and a learner's fields never mix with
    another's."""
    await store.upsert_skills([skill(s) for s in SKILLS], actor=ACTOR)
    ids = [f"l{i}" for i in range(6)]
    await store.upsert_learners([Learner(i, i.upper()) for i in ids])
    calls = []
    for n, lid in enumerate(ids):
        calls.append(store.update_learner(lid, goals=[SKILLS[n % 4]]))
        calls.append(store.update_learner(lid, target_retention=0.7 + 0.02 * n))
    await asyncio.gather(*calls)
    assert await store.get_learners(ids) == [
        Learner(lid, lid.upper(), (SKILLS[n % 4],), 0.7 + 0.02 * n) for n, lid in enumerate(ids)]


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.none() | st.text(max_size=8),
    goals=st.none() | st.lists(st.sampled_from(SKILLS), unique=True, max_size=4),
    retention=st.none() | st.just("default") | st.floats(0.7, 0.97),
)
async def test_partial_update_equals_replacing_the_given_fields(
    store: Any, name: str | None, goals: list[str] | None, retention: float | str | None
) -> None:
    await people(store)  # upserts put ann back as she was before each example
    fields: dict[str, Any] = {}
    expected = ANN
    if name is not None:
        fields["display_name"] = name
        expected = replace(expected, display_name=name)
    if goals is not None:
        fields["goals"] = goals
        expected = replace(expected, goals=tuple(goals))
    if retention is not None:
        value = None if retention == "default" else float(retention)
        fields["target_retention"] = value
        expected = replace(expected, target_retention=value)
    assert await store.update_learner("ann", **fields) == expected
    assert await store.get_learners(["ann", "bob"]) == [expected, BOB]
