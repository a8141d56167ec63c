"""Learning gains in the product: the reference definition (checked against the simulation's
own bookkeeping), the Beta posterior, and the cache's staleness bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from graph.models import (
    Attempt,
    Item,
    ItemKind,
    Learner,
    Prerequisite,
    PrerequisiteGraph,
    Skill,
    SkillWeight,
)
from graph.store import StoreUnavailableError
from recommender.errors import InvalidParameterError
from recommender.gains import (
    GainCache,
    main_skills,
    posterior_mean,
    reference_gain_counts,
    stats_from_counts,
)
from recommender.next_item import GainStats, RecommenderConfig
from seed.simulation.policies import AdaptivePolicy, bkt_for, make_setting
from seed.simulator import SimParams, Simulator

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(aid: str, learner: str, item: str, score: float, minute: int) -> Attempt:
    return Attempt(aid, learner, item, score, T0 + timedelta(minutes=minute))


def test_reference_on_a_hand_log() -> None:
    main = {"x": "s1", "y": "s1", "m": "s2", "n": "s2"}
    log = [
        at("a1", "l1", "x", 1.0, 0),
        at("a2", "l1", "m", 0.0, 1),  # s2 sequence: m -> n
        at("b1", "l2", "x", 0.0, 1),  # l2's own sequence: x -> y
        at("a4", "l1", "y", 0.0, 2),  # x(a1) -> y wrong: x failure
        at("a3", "l1", "x", 1.0, 2),  # same minute, a3 < a4: x(a1) -> x(a3) instead
        at("a5", "l1", "n", 1.0, 3),  # m -> n right: m success
        at("b2", "l2", "y", 1.0, 4),  # x(b1) -> y right: x success
        at("z1", "l1", "ghost", 1.0, 5),  # an item without a main skill: left out
    ]
    # l1/s1: a1 x, a3 x, a4 y  ->  x: a3 right (success), x: a4 wrong (failure)
    assert reference_gain_counts(log, main) == {"x": (2, 1), "m": (1, 0)}
    assert reference_gain_counts(reversed(log), main) == {"x": (2, 1), "m": (1, 0)}
    assert reference_gain_counts([], main) == {}


def test_main_skill_is_the_first_of_the_row() -> None:
    items = [
        Item("m", ItemKind.EXERCISE, "m", (SkillWeight("s2"), SkillWeight("s1"))),
        Item("lesson", ItemKind.LESSON, "l"),
    ]
    assert main_skills(items) == {"m": "s2"}


def test_posterior_and_stats() -> None:
    assert posterior_mean(0, 0) == 0.5
    assert posterior_mean(3, 1) == pytest.approx(4 / 6)
    stats = stats_from_counts({"x": (3, 1), "y": (0, 2)})
    assert stats.observations("x") == 4 and stats.observations("y") == 2
    assert stats.mean("x") == pytest.approx(posterior_mean(3, 1))
    assert stats.mean("y") == pytest.approx(posterior_mean(0, 2))
    assert stats.observations("nope") == 0


def test_reference_matches_what_the_simulation_records() -> None:
    """The product's definition is the one the simulated adaptive policy feeds GainStats with:
    replaying the simulation's answers as attempts gives the same counts."""
    names = ["a", "b", "c"]
    skills = tuple(Skill(s, s) for s in names)
    graph = PrerequisiteGraph(skills, (Prerequisite("a", "b"), Prerequisite("b", "c")))
    items = [
        Item(f"{s}-{k}", ItemKind.EXERCISE, s, (SkillWeight(s),)) for s in names for k in range(3)
    ] + [  # multi-skill items: main skill first
        Item("bc", ItemKind.EXERCISE, "bc", (SkillWeight("b"), SkillWeight("c"))),
        Item("ca", ItemKind.EXERCISE, "ca", (SkillWeight("c"), SkillWeight("a"))),
    ]
    setting = make_setting(graph, items, names, ["c"])
    sim = Simulator(graph, setting.items, SimParams(learn_rate=0.3), np.random.default_rng(4))
    gains = GainStats()
    rng = np.random.default_rng(5)
    tracer = bkt_for(setting.index)
    log: list[Attempt] = []
    for n in range(4):
        learner = sim.new_learner(f"sim-{n}")
        policy = AdaptivePolicy(setting, tracer, gains, rng, config=RecommenderConfig(), diag=None)
        for step in range(25):
            item = policy.choose(float(step))
            correct = sim.answer(learner, item, float(step))
            policy.observe(item, correct, float(step))
            log.append(at(f"{n}-{step:03d}", f"sim-{n}", item, float(correct), step))
    assert sum(gains.observations(i.id) for i in items) > 50, "the run exercised the stats"
    expected = reference_gain_counts(log, main_skills(setting.items))
    recorded = {
        i.id: (gains.successes.get(i.id, 0), gains.failures.get(i.id, 0))
        for i in items
        if gains.observations(i.id)
    }
    assert recorded == expected


# -- the cache ----------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Counting:
    """Forwards to a real store, counting the gain aggregates read."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads = 0

    async def attempt_count(self) -> int:
        n: int = await self.inner.attempt_count()
        return n

    async def item_gain_counts(self) -> dict[str, tuple[int, int]]:
        self.reads += 1
        counts: dict[str, tuple[int, int]] = await self.inner.item_gain_counts()
        return counts


async def test_cache_serves_counts_at_most_max_age_old(sqlite_store: Any) -> None:
    store = sqlite_store
    await store.upsert_skills([Skill("s", "S")], actor="t")
    await store.upsert_items(
        [Item(i, ItemKind.EXERCISE, i, (SkillWeight("s"),)) for i in ("x", "y")], actor="t"
    )
    await store.upsert_learners([Learner("l", "L")])
    await store.record_attempts([at("a1", "l", "x", 1, 0), at("a2", "l", "y", 1, 1)])
    clock = Clock()
    spy: Any = Counting(store)  # only the two calls the cache makes
    cache = GainCache(max_age=30.0, clock=clock)
    first = await cache.get(spy, "v1")  # the first call waits for the store
    assert (first.successes, first.failures, spy.reads) == ({"x": 1}, {}, 1)

    await store.record_attempts([at("a3", "l", "x", 0, 2)])
    clock.now += 29.0
    assert await cache.get(spy, "v1") is first
    await cache.settled()
    assert spy.reads == 1, "within max_age: no store call"
    clock.now += 1.0
    assert await cache.get(spy, "v1") is first, "stale: answered at once from memory ..."
    await cache.settled()
    fresh = await cache.get(spy, "v1")  # ... while one background refresh re-reads
    assert (fresh.successes, fresh.failures, spy.reads) == ({"x": 1}, {"y": 1}, 2)

    clock.now += 60.0  # stale, but nothing changed: only the count is probed
    assert await cache.get(spy, "v1") is fresh
    await cache.settled()
    assert await cache.get(spy, "v1") is fresh and spy.reads == 2
    clock.now += 60.0  # a curriculum edit can move main skills: re-read
    await cache.get(spy, "v2")
    await cache.settled()
    assert await cache.get(spy, "v2") is not fresh and spy.reads == 3
    cache.invalidate()  # the next call waits for a fresh read
    await cache.get(spy, "v2")
    assert spy.reads == 4


class Failing:
    """A store whose reads fail after the first (the background refresh must not raise)."""

    def __init__(self) -> None:
        self.calls = 0

    async def attempt_count(self) -> int:
        self.calls += 1
        if self.calls > 1:
            raise StoreUnavailableError("gone")
        return 0

    async def item_gain_counts(self) -> dict[str, tuple[int, int]]:
        return {"x": (1, 2)}


async def test_a_failed_refresh_keeps_the_previous_counts(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    cache = GainCache(max_age=10.0, clock=clock)
    store: Any = Failing()
    first = await cache.get(store, "v")
    clock.now += 11.0
    assert await cache.get(store, "v") is first
    await cache.settled()
    assert "refresh failed" in caplog.text and "gone" in caplog.text
    assert await cache.get(store, "v") is first
    assert store.calls == 2, "retried only after another max_age"


def test_cache_rejects_a_negative_age() -> None:
    with pytest.raises(InvalidParameterError, match="max_age"):
        GainCache(max_age=-1.0)
