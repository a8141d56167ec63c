"""Contract: items' learning-gain counts derived from the stored attempts
(``GraphStore.item_gain_counts``; the definition is in :mod:`recommender.gains`)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Attempt, Item, ItemKind, Learner, SkillWeight
from recommender.gains import main_skills, reference_gain_counts
from tests.contract.helpers import ACTOR, T0, attempt, item, skill


async def setup(store: Any, items: list[Item], learners: tuple[str, ...] = ("l1", "l2")) -> None:
    await store.upsert_skills([skill(s) for s in ("s1", "s2", "s3")], actor=ACTOR)
    await store.upsert_items(items, actor=ACTOR)
    await store.upsert_learners([Learner(lid, lid) for lid in learners])


async def test_next_attempt_on_the_same_skill_scores_the_practised_item(store: Any) -> None:
    await setup(store, [item("x", "s1"), item("y", "s1")])
    await store.record_attempts([
        attempt("a1", item_id="x", score=1.0, minute=0),
        attempt("a2", item_id="y", score=1.0, minute=1),  # x: success
        attempt("a3", item_id="x", score=0.0, minute=2),  # y: failure
        attempt("a4", item_id="y", score=0.5, minute=3),  # x: success (0.5 is correct)
        attempt("a5", item_id="x", score=0.49, minute=4),  # y: failure; last: nothing for x
    ])
    assert await store.item_gain_counts() == {"x": (2, 0), "y": (0, 2)}


async def test_equal_timestamps_are_ordered_by_attempt_id(store: Any) -> None:
    await setup(store, [item("x", "s1"), item("y", "s1")])
    # all at the same instant: the order is a1 (x), a2 (y), a3 (x), not the recording order
    await store.record_attempts([
        attempt("a3", item_id="x", score=0.0, minute=5),
        attempt("a2", item_id="y", score=1.0, minute=5),
        attempt("a1", item_id="x", score=1.0, minute=5),
    ])
    # x(a1) -> y(a2) right: x success; y(a2) -> x(a3) wrong: y failure (the reverse order
    # would give y a success)
    assert await store.item_gain_counts() == {"x": (1, 0), "y": (0, 1)}
    # an earlier timestamp wins over a smaller id: y(z9) -> x(a1) right: y success
    await store.record_attempts([attempt("z9", item_id="y", score=1.0, minute=1)])
    assert await store.item_gain_counts() == {"x": (1, 0), "y": (1, 1)}


async def test_multi_skill_items_count_on_their_main_skill_only(store: Any) -> None:
    # m's main skill is s2 (first in its row); it also assesses s1
    await setup(store, [item("x", "s1"), item("m", "s2", "s1"), item("n", "s2")])
    await store.record_attempts([
        attempt("a1", item_id="x", score=1.0, minute=0),
        attempt("a2", item_id="m", score=0.0, minute=1),  # not in x's (s1) sequence
        attempt("a3", item_id="x", score=0.0, minute=2),  # x(a1) -> x(a3): x failure
        attempt("a4", item_id="n", score=1.0, minute=3),  # m(a2) -> n(a4): m success
    ])
    assert await store.item_gain_counts() == {"x": (0, 1), "m": (1, 0)}


async def test_learners_sequences_never_mix(store: Any) -> None:
    await setup(store, [item("x", "s1"), item("y", "s1")])
    await store.record_attempts([
        attempt("a1", learner="l1", item_id="x", score=1.0, minute=0),
        attempt("b1", learner="l2", item_id="y", score=0.0, minute=1),
        attempt("a2", learner="l1", item_id="y", score=1.0, minute=2),  # x success (l1)
        attempt("b2", learner="l2", item_id="x", score=1.0, minute=3),  # y success (l2)
    ])
    # l2's wrong answer at minute 1 lies between l1's attempts but is not l1's next answer;
    # both learners' last attempts give nothing
    assert await store.item_gain_counts() == {"x": (1, 0), "y": (1, 0)}


async def test_single_attempts_and_skill_less_items_give_nothing(store: Any) -> None:
    await setup(store, [item("x", "s1"), item("y", "s2"), item("lesson", kind=ItemKind.LESSON)])
    await store.record_attempts([
        attempt("a1", item_id="x", score=1.0, minute=0),
        attempt("a2", item_id="lesson", score=1.0, minute=1),
        attempt("a3", item_id="lesson", score=1.0, minute=2),
        attempt("a4", item_id="y", score=1.0, minute=3),
    ])
    assert await store.item_gain_counts() == {}
    assert await store.item_gain_counts(["x", "y", "lesson"]) == {}


async def test_asking_for_some_items(store: Any) -> None:
    await setup(store, [item("x", "s1"), item("y", "s1"), item("z", "s2"), item("w", "s2")])
    await store.record_attempts([
        attempt("a1", item_id="x", score=1.0, minute=0),
        attempt("a2", item_id="y", score=0.0, minute=1),
        attempt("a3", item_id="z", score=1.0, minute=2),
        attempt("a4", item_id="w", score=1.0, minute=3),
        attempt("a5", item_id="x", score=1.0, minute=4),
    ])
    everything = {"x": (0, 1), "y": (1, 0), "z": (1, 0)}
    assert await store.item_gain_counts() == everything
    assert await store.item_gain_counts(["y"]) == {"y": (1, 0)}
    assert await store.item_gain_counts(["z", "nope", "z", "x"]) == {"z": (1, 0), "x": (0, 1)}
    assert await store.item_gain_counts(["w", "nope"]) == {}
    assert await store.item_gain_counts([]) == {}


async def test_counts_follow_the_curriculum_as_it_is_now(store: Any) -> None:
    await setup(store, [item("x", "s1"), item("y", "s1")])
    await store.record_attempts([
        attempt("a1", item_id="x", score=1.0, minute=0),
        attempt("a2", item_id="y", score=1.0, minute=1),
        attempt("a3", item_id="x", score=0.0, minute=2),
    ])
    assert await store.item_gain_counts() == {"x": (1, 0), "y": (0, 1)}
    # y moves to skill s2: x's sequence is now a1 -> a3
    await store.upsert_items([item("y", "s2")], actor=ACTOR)
    assert await store.item_gain_counts() == {"x": (0, 1)}
    await store.upsert_items([item("y", "s1")], actor=ACTOR)
    await store.remove_items(["y"], actor=ACTOR)  # its attempts stay, but drop out
    assert await store.item_gain_counts() == {"x": (0, 1)}
    assert await store.attempt_count() == 3


# -- property: the store agrees with the reference implementation ----------------------------
_namespaces = itertools.count()
SKILLS = ("s1", "s2", "s3")
ITEM_ROWS = st.lists(st.sampled_from(SKILLS), unique=True, max_size=3)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ITEM_ROWS, min_size=1, max_size=5),
       log=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4), st.integers(0, 3),
                              st.sampled_from([0.0, 0.3, 0.5, 1.0])), max_size=30),
       asked=st.lists(st.integers(0, 5), max_size=4))
async def test_store_matches_the_reference(
    store: Any, rows: list[list[str]],
    log: list[tuple[int, int, int, float]], asked: list[int]
) -> None:
    ns = f"g{next(_namespaces)}-"
    await store.upsert_skills([skill(ns + s) for s in SKILLS], actor=ACTOR)
    items = [Item(f"{ns}i{k}", ItemKind.EXERCISE, "t",
                  tuple(SkillWeight(ns + s, 1.0) for s in row)) for k, row in enumerate(rows)]
    await store.upsert_items(items, actor=ACTOR)
    await store.upsert_learners([Learner(f"{ns}l{k}", "L") for k in range(3)])
    # few minutes, so timestamps tie often; ids are not in time order
    attempts = [Attempt(f"{ns}a{(7 * n) % 31:02d}-{n}", f"{ns}l{lr}",
                        items[it % len(items)].id, score, T0 + timedelta(minutes=minute))
                for n, (lr, it, minute, score) in enumerate(log)]
    await store.record_attempts(attempts)

    expected = reference_gain_counts(attempts, main_skills(items))
    everything = await store.item_gain_counts()
    mine = {i: c for i, c in everything.items() if i.startswith(ns)}
    assert mine == expected
    wanted = [f"{ns}i{k}" for k in asked]  # some may not exist
    assert await store.item_gain_counts(wanted) == {
        i: c for i, c in expected.items() if i in wanted
    }
