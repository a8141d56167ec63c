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
from recommender import review as rv
from recommender import service
from recommender.diagnostic import DiagnosticConfig, DiagnosticState
from recommender.errors import InvalidParameterError, UnknownIdError
from recommender.next_item import RecommenderConfig

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


def test_mastery_predictor_uses_the_weakest_skill_of_an_item() -> None:
    from recommender.index import CurriculumIndex, ItemSpec

    idx = CurriculumIndex(["a", "b"], [], [ItemSpec("a1", ("a",)), ItemSpec("ab", ("a", "b"))])
    predict = service.mastery_predictor(idx, np.array([1.0, 0.0]), guess=0.2, slip=0.1)
    assert predict(["a1", "ab"]).tolist() == pytest.approx([0.9, 0.2])
    with pytest.raises(UnknownIdError, match="'zz'"):
        predict(["zz"])


async def seed_review_history(store: Any, retention: float | None) -> datetime:
    """ann answered A, B and C right once each (stability 2 days); at the returned ``now``
    they were practised 3, 2.5 and 1.25 days ago: recall R = (1 + F t / 2)^-0.5 is
    0.8601 (A), 0.8794 (B) and 0.9339 (C)."""
    await seed_diamond(store)
    await store.upsert_learners([Learner("ann", "Ann", ("D",), target_retention=retention)])
    await store.save_mastery(mastery("ann", A=0.95, B=0.95, C=0.95, D=0.95))
    await store.record_attempts(
        [
            Attempt("r1", "ann", "A0", 1.0, T0),
            Attempt("r2", "ann", "B0", 1.0, T0 + timedelta(hours=12)),
            Attempt("r3", "ann", "C0", 1.0, T0 + timedelta(hours=42)),
        ]
    )
    return T0 + timedelta(days=3)


@pytest.mark.parametrize(
    ("stored", "due"),
    [(0.85, []), (0.87, ["A"]), (None, ["A", "B"]), (0.9, ["A", "B"]), (0.95, ["A", "B", "C"])],
)
async def test_review_queue_and_recommendations_use_the_learners_stored_retention(
    store: Any, stored: float | None, due: list[str]
) -> None:
    now = await seed_review_history(store, stored)
    cache = service.IndexCache()
    queue = await service.review_queue(store, "ann", cache=cache, now=now)
    assert [d.skill for d in queue] == due
    # a review leads whenever one is due (review_every=1): the least recalled one; the other
    # due reviews may follow the learning choices, least recalled first, and nothing else is
    # called a review
    recs = await service.recommendations(
        store,
        "ann",
        first=5,
        cache=cache,
        now=now,
        rng=np.random.default_rng(0),
        config=RecommenderConfig(review_every=1),
    )
    reviewed = [r.skill for r in recs if r.kind == "review"]
    assert reviewed[:1] == due[:1]
    assert reviewed == [s for s in due if s in reviewed]
    assert recs[0].kind == ("review" if due else "consolidate")
    # the caller's retention wins over the stored one
    explicit = await service.review_queue(store, "ann", cache=cache, now=now, target_retention=0.95)
    assert [d.skill for d in explicit] == ["A", "B", "C"]


async def test_recommendations_time_reviews_on_the_learners_own_clock(store: Any) -> None:
    """No ``now``: reviews are due by the learner's latest attempt, not the server's clock
    (which, months after T0, would make A, B and C all due)."""
    await seed_review_history(store, None)
    cache = service.IndexCache()
    cfg = RecommenderConfig(review_every=1)

    async def first() -> tuple[str, str]:
        [rec] = await service.recommendations(
            store, "ann", first=1, cache=cache, config=cfg, rng=np.random.default_rng(0)
        )
        return rec.kind, rec.skill

    # 42 hours after T0 on ann's clock nothing is due yet: every goal is mastered
    assert (await first())[0] == "consolidate"
    # ann's next answer, 3 days after T0, moves her clock: A (the least recalled) is due
    await store.record_attempts([Attempt("r4", "ann", "D0", 1.0, T0 + timedelta(days=3))])
    assert await first() == ("review", "A")


async def test_review_queue_refuses_a_bad_retention_and_an_unknown_learner(store: Any) -> None:
    await seed_diamond(store)
    cache = service.IndexCache()
    with pytest.raises(InvalidParameterError, match="target_retention=0.5"):
        await service.review_queue(store, "ann", cache=cache, target_retention=0.5)
    with pytest.raises(UnknownIdError, match="'ghost'"):
        await service.review_queue(store, "ghost", cache=cache)


async def test_review_forecast_rows_for_the_defaults_and_the_learners_own(store: Any) -> None:
    now = await seed_review_history(store, 0.87)
    cache = service.IndexCache()
    rows = await service.review_forecast(store, "ann", cache=cache, days=1, now=now)
    assert [r.target_retention for r in rows] == [0.8, 0.85, 0.87, 0.9, 0.95]
    assert [r.current for r in rows] == [False, False, True, False, False]
    # one day ahead: at 0.85 intervals are 3.27 days, so A (3 days ago) and B (2.5) come due,
    # C (1.25) not; at 0.9 (interval 2 days) A and B are overdue and C due in 0.75 days;
    # at 0.95 all three are overdue. Each next review is more than a day after the first.
    assert {
        r.target_retention: r.expected_reviews
        for r in rows
        if r.target_retention in (0.85, 0.9, 0.95)
    } == {0.85: 2, 0.9: 3, 0.95: 3}
    practices = [
        ("A", True, T0.timestamp()),
        ("B", True, (T0 + timedelta(hours=12)).timestamp()),
        ("C", True, (T0 + timedelta(hours=42)).timestamp()),
    ]
    states = rv.replay(practices).values()
    asked = await service.review_forecast(
        store, "ann", cache=cache, days=60, retentions=[0.95, 0.7, 0.95], now=now
    )
    assert [r.target_retention for r in asked] == [0.95, 0.7]
    expected = [rv.forecast(states, now.timestamp(), r, 60) for r in (0.95, 0.7)]
    assert [(r.expected_reviews, r.mean_recall) for r in asked] == [
        (f.reviews, f.mean_recall) for f in expected
    ]
    assert asked[0].expected_reviews > asked[1].expected_reviews
    assert asked[0].mean_recall is not None and asked[1].mean_recall is not None
    assert asked[0].mean_recall > asked[1].mean_recall
    with pytest.raises(InvalidParameterError, match="days=0"):
        await service.review_forecast(store, "ann", cache=cache, days=0)
    with pytest.raises(InvalidParameterError, match="target_retention=0.99"):
        await service.review_forecast(store, "ann", cache=cache, retentions=[0.99])


async def test_a_recommendation_is_one_store_call(store: Any) -> None:
    """Once the index is built, the learner, mastery, history and the change-log probe come
    from one ``learner_snapshot`` call; the learner's goals come from it, whatever learner
    object the caller passes for another learner."""
    await seed_diamond(store)
    await store.save_mastery(mastery("ann", A=0.95, B=0.9))
    await store.upsert_learners([Learner("bob", "Bob", ("B",))])
    calls: list[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            attr = getattr(store, name)

            async def call(*args: Any, **kwargs: Any) -> Any:
                calls.append(name)
                return await attr(*args, **kwargs)

            return call

    counted: Any = Counting()
    cache = service.IndexCache()
    await cache.warm(store)
    [ann] = await store.get_learners(["ann"])
    given = await service.recommendations(
        counted, "ann", first=2, cache=cache, learner=ann, rng=np.random.default_rng(0)
    )
    assert calls == ["learner_snapshot"]
    read = await service.recommendations(
        counted, "ann", first=2, cache=cache, rng=np.random.default_rng(0)
    )
    assert calls == ["learner_snapshot"] * 2
    assert given == read and [r.skill for r in given] == ["C"]
    # bob's object (goal B, which ann has mastered) is no stand-in for ann: her goal D is used
    [bob] = await store.get_learners(["bob"])
    other = await service.recommendations(
        counted, "ann", first=2, cache=cache, learner=bob, rng=np.random.default_rng(0)
    )
    assert other == given and calls == ["learner_snapshot"] * 3
