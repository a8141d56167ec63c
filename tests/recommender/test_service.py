"""The async service on real stores (SQLite always; Neo4j when LEARNGRAPH_TEST_NEO4J is set)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from graph.models import (
    Attempt,
    Group,
    Item,
    ItemKind,
    Learner,
    Mastery,
    Prerequisite,
    Skill,
    SkillWeight,
)
from recommender import service
from recommender.diagnostic import DiagnosticConfig, DiagnosticState
from recommender.errors import UnknownIdError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def seed_diamond(store: Any) -> None:
    """A -> B, A -> C, B -> D, C -> D; two exercises per skill; learners ann and bob."""
    await store.upsert_skills([Skill(s, f"skill {s}") for s in "ABCD"], actor="t")
    await store.upsert_prerequisites(
        [
            Prerequisite("A", "B"),
            Prerequisite("A", "C"),
            Prerequisite("B", "D"),
            Prerequisite("C", "D"),
        ],
        actor="t",
    )
    await store.upsert_items(
        [
            Item(f"{s}{k}", ItemKind.EXERCISE, f"{s} {k}", (SkillWeight(s),), difficulty=0.5)
            for s in "ABCD"
            for k in range(2)
        ],
        actor="t",
    )
    await store.upsert_learners([Learner("ann", "Ann", ("D",)), Learner("bob", "Bob", ("D",))])
    await store.upsert_groups([Group("g1", "Class", (), ("ann", "bob"))])


def mastery(learner: str, **p: float) -> list[Mastery]:
    return [Mastery(learner, s, v, 0.1, T0, "test") for s, v in p.items()]


async def test_recommendations_read_the_learner_and_follow_the_graph(store: Any) -> None:
    await seed_diamond(store)
    await store.save_mastery(mastery("ann", A=0.95, B=0.9))
    cache = service.IndexCache()
    recs = await service.recommendations(
        store, "ann", first=2, cache=cache, rng=np.random.default_rng(0)
    )
    assert [r.skill for r in recs] == ["C"]  # the learner's goal D needs C next
    assert recs[0].reasons[0].code == "ready"
    path = await service.learner_path(store, "ann", cache=cache)
    assert path.skills == ("C", "D")
    gaps = await service.learner_gaps(store, "ann", ["D"], cache=cache)
    assert {g.skill: g.root_causes for g in gaps} == {"D": ("C",), "C": ("C",)}
    group = await service.group_gaps(store, "g1", ["D"], cache=cache)
    assert [(g.skill, g.learners) for g in group] == [("A", ("bob",)), ("C", ("ann",))]
    with pytest.raises(UnknownIdError, match="'ghost'"):
        await service.recommendations(store, "ghost", cache=cache)


async def test_fringes_order_inner_skills_by_when_they_were_mastered(store: Any) -> None:
    await seed_diamond(store)
    rows = [
        Mastery("ann", "A", 0.95, 0.1, T0, "t"),
        Mastery("ann", "B", 0.9, 0.1, T0 + timedelta(days=1), "t"),
        Mastery("ann", "C", 0.9, 0.1, T0 + timedelta(days=2), "t"),
    ]
    await store.save_mastery(rows)
    f = await service.learner_fringes(store, "ann", cache=service.IndexCache())
    assert f.outer == ("D",) and f.inner == ("C", "B")


async def test_index_is_rebuilt_only_when_the_curriculum_changes(store: Any) -> None:
    await seed_diamond(store)
    cache = service.IndexCache()
    first = await cache.get(store)
    assert await cache.get(store) is first
    await store.upsert_skills([Skill("E", "skill E")], actor="t")
    await store.upsert_prerequisites([Prerequisite("D", "E")], actor="t")
    second = await cache.get(store)
    assert second is not first and "E" in second.skill_pos
    assert second.version != first.version


async def test_review_queue_and_failures_come_from_attempts(store: Any) -> None:
    await seed_diamond(store)
    await store.save_mastery(mastery("ann", A=0.95))
    await store.record_attempts(
        [
            Attempt("a1", "ann", "A0", 1.0, T0),
            Attempt("a2", "ann", "B0", 0.0, T0 + timedelta(minutes=1)),
            Attempt("a3", "ann", "B1", 0.0, T0 + timedelta(minutes=2)),
            Attempt("a4", "ann", "B0", 0.0, T0 + timedelta(minutes=3)),
        ]
    )
    cache = service.IndexCache()
    due = await service.review_queue(store, "ann", cache=cache, now=T0 + timedelta(days=9))
    assert [d.skill for d in due] == ["A"] and due[0].days_since == pytest.approx(9.0)
    assert await service.review_queue(store, "ann", cache=cache, now=T0 + timedelta(hours=1)) == []
    recs = await service.recommendations(
        store,
        "ann",
        ["D"],
        first=3,
        cache=cache,
        now=T0 + timedelta(days=9),
        rng=np.random.default_rng(0),
    )
    kinds = {r.kind for r in recs}
    # three failures in a row on B with A mastered: probe A (0.95 < 0.99), and A is due anyway
    assert recs[0].skill == "A" and kinds & {"remediate", "review"}


async def test_diagnostic_flow_saves_the_placement(store: Any) -> None:
    await seed_diamond(store)
    cache = service.IndexCache()
    cfg = DiagnosticConfig(n_particles=2000, max_questions=3)
    state, q = await service.start_diagnostic(store, cache=cache, config=cfg)
    asked = 0
    while q is not None:
        # the learner knows A and B only
        state, q = await service.answer_diagnostic(
            store, DiagnosticState.from_dict(state.to_dict()), q.item, q.skill in "AB", cache=cache
        )
        asked += 1
    assert 1 <= asked <= 3
    result = await service.finish_diagnostic(store, "bob", state, now=T0)
    rows = {m.skill_id: m for m in (await store.mastery_of(["bob"]))[0]}
    assert set(rows) == {"A", "B", "C", "D"}
    assert rows["A"].probability == pytest.approx(result.mastery["A"], abs=1e-6)
    assert rows["A"].model_version == "diagnostic"
    assert result.mastery["D"] < 0.5


def test_failure_streaks_count_back_to_the_last_success_per_skill() -> None:
    from recommender.index import CurriculumIndex, ItemSpec

    idx = CurriculumIndex(
        ["a", "b"], [], [ItemSpec("a1", ("a",)), ItemSpec("b1", ("b",)), ItemSpec("ab", ("a", "b"))]
    )
    newest_first = [
        Attempt("5", "x", "a1", 0.0, T0),
        Attempt("4", "x", "ab", 0.0, T0),
        Attempt("3", "x", "b1", 1.0, T0),
        Attempt("2", "x", "a1", 0.0, T0),
        Attempt("1", "x", "a1", 1.0, T0),
    ]
    assert service._failure_streaks(idx, newest_first) == {"a": 3, "b": 1}


def test_mastery_predictor_uses_the_weakest_skill_of_an_item() -> None:
    from recommender.index import CurriculumIndex, ItemSpec

    idx = CurriculumIndex(["a", "b"], [], [ItemSpec("a1", ("a",)), ItemSpec("ab", ("a", "b"))])
    predict = service.mastery_predictor(idx, np.array([1.0, 0.0]), guess=0.2, slip=0.1)
    assert predict(["a1", "ab"]).tolist() == pytest.approx([0.9, 0.2])
    with pytest.raises(UnknownIdError, match="'zz'"):
        predict(["zz"])
