"""Views feed the recommender through the store (SQLite and Neo4j): a lesson just viewed is
not offered again first, and its skill gets an exercise next, saying why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from graph.models import Attempt, Item, ItemKind, Learner, Prerequisite, Skill, SkillWeight, View
from recommender import service
from recommender.next_item import RecommenderConfig

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def seed(store: Any) -> None:
    """A -> B; A has a lesson (the easiest item) and two exercises; ann aims at B."""
    await store.upsert_skills([Skill("A", "skill A"), Skill("B", "skill B")], actor="t")
    await store.upsert_prerequisites([Prerequisite("A", "B")], actor="t")
    await store.upsert_items(
        [
            Item("A-lesson", ItemKind.LESSON, "Lesson A", (SkillWeight("A"),), difficulty=0.1),
            Item("A1", ItemKind.EXERCISE, "A 1", (SkillWeight("A"),), difficulty=0.5),
            Item("A2", ItemKind.EXERCISE, "A 2", (SkillWeight("A"),), difficulty=0.5),
            Item("B1", ItemKind.EXERCISE, "B 1", (SkillWeight("B"),), difficulty=0.5),
        ],
        actor="t",
    )
    await store.upsert_learners([Learner("ann", "Ann", ("B",))])


async def first(store: Any, cache: service.IndexCache) -> tuple[str, str, list[str]]:
    [rec] = await service.recommendations(
        store, "ann", first=1, cache=cache, rng=np.random.default_rng(0)
    )
    return rec.item, rec.skill, [r.code for r in rec.reasons]


async def test_a_viewed_lesson_is_followed_by_an_exercise_of_its_skill(store: Any) -> None:
    await seed(store)
    cache = service.IndexCache()
    # nothing seen: A is the one ready skill, and its lesson (the easiest item) comes first
    item, skill, codes = await first(store, cache)
    assert (item, skill) == ("A-lesson", "A") and "studied" not in codes

    await store.record_views([View("v1", "ann", "A-lesson", T0)])
    item, skill, codes = await first(store, cache)
    assert skill == "A" and item in {"A1", "A2"} and "studied" in codes

    # an answer on A after the lesson: A is practised now; neither the lesson (seen within
    # the window) nor the exercise just answered is offered
    await store.record_attempts([Attempt("a1", "ann", "A1", 0.0, T0 + timedelta(minutes=1))])
    item, skill, codes = await first(store, cache)
    assert (item, skill) == ("A2", "A") and "studied" not in codes


async def test_views_older_than_the_window_or_the_last_answer_do_not_count(store: Any) -> None:
    await seed(store)
    cache = service.IndexCache()
    # the lesson viewed, then five answers on A: out of the window of 5, offered again
    await store.record_views([View("v1", "ann", "A-lesson", T0)])
    await store.record_attempts(
        [
            Attempt(f"a{k}", "ann", "A1" if k % 2 else "A2", 1.0, T0 + timedelta(minutes=k))
            for k in range(1, 6)
        ]
    )
    item, _, codes = await first(store, cache)
    assert item == "A-lesson" and "studied" not in codes
    # a window of 0 turns the rule off (nothing about views is read)
    [rec] = await service.recommendations(
        store,
        "ann",
        first=1,
        cache=cache,
        config=RecommenderConfig(recent_window=0),
        rng=np.random.default_rng(0),
    )
    assert rec.item == "A-lesson"
