"""Contract: both stores refuse the same bad input with the same ValidationError field, and a
refused call writes nothing (the store's whole content reads back unchanged).

The table pairs each write (and the read arguments) with bad values: bools where numbers are
due, NaN and infinities, values out of range, blank or non-string ids, non-string text, naive
timestamps. Every bad element comes after a good one in the same batch, so a store that wrote
element by element would show the good one. The property tests draw the values instead.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import (
    Attempt,
    Group,
    Item,
    Learner,
    Mastery,
    Prerequisite,
    Role,
    Skill,
    SkillWeight,
    User,
)
from graph.store import ValidationError
from tests.contract.helpers import ACTOR, T0, attempt, item, skill

Call = Callable[[Any], Awaitable[object]]
NAIVE = datetime(2026, 1, 5, 9, 0)
NAN, INF = float("nan"), float("inf")
#: ids the snapshot reads back: the fixture's, the good element's ("fresh"), the bad one's
IDS = ["s1", "s2", "i1", "l1", "u1", "g1", "fresh", "bad"]


async def base(store: Any) -> None:
    """Skills s1, s2 (s1 -> s2), item i1 on s1, learner l1 in group g1 taught by u1, one
    attempt, one mastery row and one tracer state of l1."""
    await store.upsert_skills([skill("s1"), skill("s2")], actor=ACTOR)
    await store.upsert_prerequisites([Prerequisite("s1", "s2", 0.5)], actor=ACTOR)
    await store.upsert_items([item("i1", "s1")], actor=ACTOR)
    await store.upsert_learners([Learner("l1", "L1", goals=("s2",))])
    await store.upsert_users([User("u1", "U1", Role.TEACHER)])
    await store.upsert_groups([Group("g1", "G1", teacher_ids=("u1",), learner_ids=("l1",))])
    await store.record_attempts([attempt("a0")])
    await store.save_mastery([mastery("l1", "s1")])
    await store.save_tracer_states([("l1", "v1", b"state")])


async def snapshot(store: Any) -> tuple[object, ...]:
    """Everything a write could have touched."""
    return (await store.prerequisite_graph(), await store.get_items(IDS),
            await store.get_learners(IDS), await store.get_users(IDS),
            await store.get_groups(IDS), await store.attempt_count(),
            await store.attempts_of("l1", limit=100), await store.mastery_of(IDS),
            await store.load_tracer_states(IDS, "v1"), await store.change_log(limit=1000))


def mastery(learner: str, skill_id: str, p: Any = 0.5, u: Any = 0.1, at: Any = T0,
            version: Any = "v1") -> Mastery:
    return Mastery(learner, skill_id, p, u, at, version)


def bad_item(**kw: Any) -> Item:
    return replace(item("bad", "s1"), **kw)


def skills(bad: Any, actor: str = ACTOR) -> Call:
    return lambda s: s.upsert_skills([skill("fresh"), bad], actor=actor)


def items(bad: Any) -> Call:
    return lambda s: s.upsert_items([item("fresh", "s1"), bad], actor=ACTOR)


def edges(bad: Any) -> Call:
    return lambda s: s.upsert_prerequisites([Prerequisite("s2", "fresh"), bad], actor=ACTOR)


def learners(*bad: Any) -> Call:
    return lambda s: s.upsert_learners([Learner("fresh", "F"), *bad])


def users(bad: Any) -> Call:
    return lambda s: s.upsert_users([User("fresh", "F", Role.LEARNER), bad])


def groups(*bad: Any) -> Call:
    return lambda s: s.upsert_groups([Group("fresh", "F", learner_ids=("l1",)), *bad])


def attempts(**kw: Any) -> Call:
    return lambda s: s.record_attempts([attempt("fresh"), attempt("bad", **kw)])


def attempt_with(**kw: Any) -> Call:
    return lambda s: s.record_attempts([attempt("fresh"), replace(attempt("bad"), **kw)])


def masteries(bad: Mastery) -> Call:
    return lambda s: s.save_mastery([mastery("l1", "s2"), bad])


def states(bad: tuple[Any, Any, Any]) -> Call:
    return lambda s: s.save_tracer_states([("l1", "v2", b"x"), bad])


def case(field: str, call: Call, name: str) -> Any:
    return pytest.param(field, call, id=name)


WRITES = [
    # skills
    case("skill.id", skills(skill("")), "skill-empty-id"),
    case("skill.id", skills(skill(" \t")), "skill-blank-id"),
    case("skill.id", skills(skill(7)), "skill-int-id"),  # type: ignore[arg-type]
    case("skill.name", skills(Skill("bad", None)), "skill-name-none"),  # type: ignore[arg-type]
    case("skill.tags", skills(skill("bad", tags="algebra")), "skill-tags-one-string"),
    case("skill.tags", skills(skill("bad", tags=("a", 1))), "skill-tag-int"),
    case("actor", skills(skill("bad"), actor=""), "skill-blank-actor"),
    # items
    case("item.id", items(bad_item(id="  ")), "item-blank-id"),
    case("item.kind", items(bad_item(kind="podcast")), "item-kind"),
    case("item.title", items(bad_item(title=3)), "item-title-int"),
    *[case("item.difficulty", items(bad_item(difficulty=v)), f"item-difficulty-{v!r}")
      for v in (True, NAN, INF, -0.1, 1.5, "0.5")],
    *[case("item.expected_seconds", items(bad_item(expected_seconds=v)),
           f"item-expected-seconds-{v!r}") for v in (True, False, -1, 1.5, "60", None)],
    *[case("item.skills.weight", items(bad_item(skills=(SkillWeight("s1", v),))),
           f"item-weight-{v!r}") for v in (0, 0.0, 1.2, NAN, INF, True)],
    case("item.skills", items(bad_item(skills=(SkillWeight("s1"), SkillWeight("s1", 0.5)))),
         "item-skill-twice"),
    case("item.skills.skill_id", items(bad_item(skills=(SkillWeight(" "),))),
         "item-blank-skill-id"),
    # prerequisite edges
    case("prerequisite", edges(Prerequisite("s1", "s1")), "edge-self-loop"),
    case("prerequisite", edges(Prerequisite("", "s1")), "edge-blank-source"),
    *[case("strength", edges(Prerequisite("s1", "fresh", v)), f"edge-strength-{v!r}")
      for v in (True, NAN, INF, -INF, -0.1, 1.01, "1")],
    # learners
    case("learner.id", learners(Learner(" ", "B")), "learner-blank-id"),
    case("learner.goals", learners(Learner("bad", "B", goals=("s1", "s1"))),
         "learner-goal-twice"),
    case("learner.goals", learners(Learner("bad", "B", goals="s1")),  # type: ignore[arg-type]
         "learner-goals-one-string"),
    case("learner.goals", learners(Learner("bad", "B", goals=("",))), "learner-blank-goal"),
    *[case("learner.target_retention", learners(Learner("bad", "B", target_retention=v)),
           f"learner-retention-{v!r}") for v in (True, NAN, INF, 0.5, 1.0, "0.9")],
    case("learner.target_retention",
         learners(Learner("bad", "B", target_retention=2.0), Learner("bad", "B")),
         "learner-bad-copy-then-good-copy"),
    case("learner.display_name", learners(Learner("bad", 5)),  # type: ignore[arg-type]
         "learner-name-int"),
    # users
    case("user.id", users(User("", "B", Role.ADMIN)), "user-empty-id"),
    case("user.role", users(User("bad", "B", "king")), "user-role"),  # type: ignore[arg-type]
    # groups
    case("group.id", groups(Group("\n", "B")), "group-blank-id"),
    case("group.learner_ids", groups(Group("bad", "B", learner_ids=("l1", "l1"))),
         "group-learner-twice"),
    case("group.teacher_ids", groups(Group("bad", "B", teacher_ids=("u1", " "))),
         "group-blank-teacher"),
    case("group.learner_ids",
         groups(Group("bad", "B", learner_ids=("l1", "l1")), Group("bad", "B")),
         "group-bad-copy-then-good-copy"),
    # attempts
    *[case("attempt_id", attempt_with(attempt_id=v), f"attempt-id-{v!r}")
      for v in ("", "  ", 7, None)],
    case("learner_id", attempts(learner=" "), "attempt-blank-learner"),
    case("item_id", attempts(item_id=""), "attempt-blank-item"),
    *[case("score", attempts(score=v), f"attempt-score-{v!r}")
      for v in (True, False, NAN, INF, -0.5, 1.5, "1")],
    *[case("hints_used", attempts(hints_used=v), f"attempt-hints-{v!r}")
      for v in (True, -1, 1.0, None)],
    *[case("response_time_ms", attempts(response_time_ms=v), f"attempt-ms-{v!r}")
      for v in (True, -1, 2.5, "100")],
    case("timestamp", attempt_with(timestamp=NAIVE), "attempt-naive-timestamp"),
    case("timestamp", attempt_with(timestamp="2026-01-05"), "attempt-string-timestamp"),
    # mastery
    *[case("probability", masteries(mastery("l1", "s1", p=v)), f"mastery-p-{v!r}")
      for v in (True, NAN, INF, -0.1, 1.2, "0.5")],
    *[case("uncertainty", masteries(mastery("l1", "s1", u=v)), f"mastery-u-{v!r}")
      for v in (True, NAN, INF, -1.0, None)],
    case("updated_at", masteries(mastery("l1", "s1", at=NAIVE)), "mastery-naive-time"),
    case("model_version", masteries(mastery("l1", "s1", version=" ")), "mastery-blank-version"),
    case("skill_id", masteries(mastery("l1", "")), "mastery-blank-skill"),
    # tracer states
    *[case("state", states(("l1", "v2", v)), f"state-{type(v).__name__}")
      for v in ("abc", 5, None, [1, 2])],
    case("model_version", states(("l1", "", b"x")), "state-blank-version"),
    case("learner_id", states((" ", "v2", b"x")), "state-blank-learner"),
]


@pytest.mark.parametrize(("field", "call"), WRITES)
async def test_bad_write_is_refused_whole_with_the_field(store: Any, field: str, call: Call
                                                         ) -> None:
    await base(store)
    before = await snapshot(store)
    with pytest.raises(ValidationError) as err:
        await call(store)
    assert err.value.field == field, str(err.value)
    assert await snapshot(store) == before


READS = [
    *[case("limit", lambda s, v=v: s.list_skills(limit=v), f"list-skills-limit-{v!r}")
      for v in (0, -1, True, 1.0, "5")],
    case("limit", lambda s: s.list_items(limit=False), "list-items-limit-false"),
    case("limit", lambda s: s.list_learners(limit=True), "list-learners-limit-true"),
    case("limit", lambda s: s.attempts_of("l1", limit=0), "attempts-limit-0"),
    case("limit", lambda s: s.change_log(limit=True), "change-log-limit-true"),
    *[case("after_seq", lambda s, v=v: s.change_log(after_seq=v), f"after-seq-{v!r}")
      for v in (-1, True, "0", 1.5)],
    *[case("depth", lambda s, v=v: s.ancestors(["s2"], depth=v), f"depth-{v!r}")
      for v in (-1, True, 1.5)],
    case("kind", lambda s: s.list_items(kind="podcast"), "list-items-kind"),
    case("since", lambda s: s.attempts_of("l1", since=NAIVE), "attempts-since-naive"),
]


@pytest.mark.parametrize(("field", "call"), READS)
async def test_bad_read_argument_is_refused_with_the_field(store: Any, field: str, call: Call
                                                           ) -> None:
    await base(store)
    with pytest.raises(ValidationError) as err:
        await call(store)
    assert err.value.field == field, str(err.value)


# -- property tests: the accepted set of each field, drawn ----------------------------------

_examples = itertools.count()
ANY_NUMBER = st.one_of(st.floats(), st.booleans(), st.integers(-3, 3))
ANY_COUNT = st.one_of(st.integers(-5, 10**9), st.booleans(), st.floats(-5, 1e6))
BLANK = st.text(alphabet=" \t\n\r\u00a0\u2003", max_size=4)
PROPERTY = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def unit_interval(value: object) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int | float)
            and math.isfinite(value) and 0 <= value <= 1)


async def write_probability(store: Any, field: str, value: Any) -> object:
    """Write ``value`` into ``field``; what was read back for it."""
    n = next(_examples)
    if field == "probability":
        await store.save_mastery([mastery("l1", "s1", p=value)])
        return (await store.mastery_of(["l1"]))[0][0].probability
    if field == "score":
        await store.record_attempts([attempt(f"p{n}", score=value, minute=n)])
        return (await store.attempts_of("l1", limit=1)).attempts[0].score
    if field == "strength":
        await store.upsert_prerequisites([Prerequisite("s1", "s2", value)], actor=ACTOR)
        return (await store.prerequisites_of(["s2"]))[0][0].strength
    await store.upsert_items([item("i1", "s1", difficulty=value)], actor=ACTOR)
    return (await store.get_items(["i1"]))[0].difficulty


@pytest.mark.parametrize("field", ["probability", "score", "strength", "item.difficulty"])
@PROPERTY
@given(value=ANY_NUMBER)
async def test_a_unit_interval_field_takes_exactly_the_finite_reals_in_0_1(
        store: Any, field: str, value: Any) -> None:
    if await store.get_learners(["l1"]) == [None]:
        await base(store)
    before = await snapshot(store)
    try:
        stored = await write_probability(store, field, value)
    except ValidationError as err:
        assert not unit_interval(value), f"{value!r} refused: {err}"
        assert err.field == field
        assert await snapshot(store) == before
    else:
        assert unit_interval(value), f"{value!r} accepted for {field}"
        assert stored == float(value)


async def write_count(store: Any, field: str, value: Any) -> object:
    n = next(_examples)
    if field == "item.expected_seconds":
        await store.upsert_items([item("i1", "s1", expected_seconds=value)], actor=ACTOR)
        return (await store.get_items(["i1"]))[0].expected_seconds
    written = attempt(f"c{n}", minute=n, **{field: value})
    await store.record_attempts([written])
    got: Attempt = (await store.attempts_of("l1", limit=1)).attempts[0]
    return getattr(got, field)


@pytest.mark.parametrize("field", ["item.expected_seconds", "hints_used", "response_time_ms"])
@PROPERTY
@given(value=ANY_COUNT)
async def test_a_count_field_takes_exactly_the_whole_numbers_from_0(
        store: Any, field: str, value: Any) -> None:
    if await store.get_learners(["l1"]) == [None]:
        await base(store)
    before = await snapshot(store)
    whole = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    try:
        stored = await write_count(store, field, value)
    except ValidationError as err:
        assert not whole, f"{value!r} refused: {err}"
        assert err.field == field
        assert await snapshot(store) == before
    else:
        assert whole, f"{value!r} accepted for {field}"
        assert stored == value and type(stored) is int


def blank_id_write(field: str, blank: str) -> Call:
    return {
        "skill.id": skills(skill(blank)),
        "item.id": items(bad_item(id=blank)),
        "learner.id": learners(Learner(blank, "B")),
        "user.id": users(User(blank, "B", Role.LEARNER)),
        "group.id": groups(Group(blank, "B")),
        "attempt_id": attempt_with(attempt_id=blank),
    }[field]


@pytest.mark.parametrize(
    "field", ["skill.id", "item.id", "learner.id", "user.id", "group.id", "attempt_id"])
@PROPERTY
@given(blank=BLANK)
async def test_a_blank_id_is_refused_everywhere(store: Any, field: str, blank: str) -> None:
    if await store.get_learners(["l1"]) == [None]:
        await base(store)
    before = await snapshot(store)
    with pytest.raises(ValidationError) as err:
        await blank_id_write(field, blank)(store)
    assert err.value.field == field
    assert repr(blank) in str(err.value)
    assert await snapshot(store) == before


async def test_the_same_values_with_real_ids_are_accepted(store: Any) -> None:
    """Values next to the refused ones pass, so the refusals above come from the bad element
    alone: an id with an inner space, ints for floats, 0 and 1 at the bounds, a retention at
    each end of its range."""
    await base(store)
    await store.upsert_skills([skill("a b", tags=("t",))], actor=ACTOR)
    await store.upsert_items([item("x", "s1", difficulty=0, expected_seconds=0),
                              item("y", "s1", difficulty=1, expected_seconds=10**6)], actor=ACTOR)
    await store.upsert_prerequisites([Prerequisite("s2", "a b", 0)], actor=ACTOR)
    await store.upsert_learners([Learner("lo", "Lo", target_retention=0.7),
                                 Learner("hi", "Hi", target_retention=0.97)])
    await store.record_attempts([attempt("z", score=0, hints_used=0, response_time_ms=0)])
    await store.save_mastery([mastery("l1", "s2", p=1, u=0)])
    got = await store.get_items(["x", "y"])
    assert [(i.difficulty, i.expected_seconds) for i in got if i] == [(0.0, 0), (1.0, 10**6)]
    assert (await store.prerequisites_of(["a b"]))[0] == [Prerequisite("s2", "a b", 0.0)]
    assert [lr.target_retention for lr in await store.get_learners(["lo", "hi"]) if lr] == [
        0.7, 0.97]
    assert (await store.mastery_of(["l1"]))[0][1] == mastery("l1", "s2", p=1.0, u=0.0)
