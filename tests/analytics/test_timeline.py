"""Mastery history replayed from answers: what the serving tracer says after each answer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from analytics.timeline import progress, replay, skill_series
from tests.analytics.helpers import T0, answers, service


def test_replay_orders_by_time_and_tracks_bkt_by_hand() -> None:
    got = answers("l1", "a1 a1 a0")
    tl = replay("l1", list(reversed(got)), service())  # any order in, time order out
    assert [a.attempt_id for a in tl.answers] == ["l1-0000", "l1-0001", "l1-0002"]
    # BKT by hand for skill a: prior 0.3, learn 0.15, guess 0.2, slip 0.1
    p = 0.3
    expected = []
    for correct in (1, 1, 0):
        like = (1 - 0.1) if correct else 0.1
        miss = 0.2 if correct else 0.8
        post = p * like / (p * like + (1 - p) * miss)
        p = post + (1 - post) * 0.15
        expected.append(p)
    a = tl.skill_ids.index("a")
    assert np.allclose(tl.mastery[:, a], expected)
    assert tl.prior[a] == 0.3
    # skills not answered keep their prior
    assert np.allclose(tl.mastery[:, tl.skill_ids.index("c")], 0.3)


def test_series_progress_and_as_of() -> None:
    tl = replay("l1", answers("l1", "a1 a1 a1 a1 b0", gap_s=86400.0), service())
    a = tl.skill_ids.index("a")
    series = skill_series(tl, a)
    assert [t for t, _ in series] == [T0 + timedelta(days=k) for k in range(4)]
    assert all(p2 > p1 for (_, p1), (_, p2) in zip(series, series[1:], strict=False))
    assert tl.mastery_at(T0 - timedelta(seconds=1)) is tl.prior
    ends = [T0 + timedelta(days=k, hours=1) for k in range(5)]
    points = progress(tl, ends, threshold=0.8)
    assert [p.answers for p in points] == [1, 2, 3, 4, 5]
    assert points[0].mastered == 0 and points[-1].mastered == 1  # a passes 0.8 by then
    assert points[-1].expected_mastered == float(np.sum(tl.mastery[-1]))


def test_items_the_model_cannot_place_are_left_out() -> None:
    got = answers("l1", "a1 a1") + answers(
        "l1", "a1", item="unknown-item", start=T0 + timedelta(hours=1)
    )
    tl = replay("l1", got, service())
    assert len(tl.answers) == 2


async def test_class_analytics_replays_a_learner_again_only_after_new_answers(
    tmp_path: Path,
) -> None:
    from analytics.service import ClassAnalytics
    from graph.models import Attempt, Learner
    from graph.open import open_store
    from migrations.runner import migrate
    from tests.analytics.helpers import GRAPH, ITEMS

    store = await open_store(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        await migrate(store)
        await store.upsert_skills(list(GRAPH.skills), actor="t")
        await store.upsert_prerequisites(list(GRAPH.edges), actor="t")
        await store.upsert_items(list(ITEMS), actor="t")
        await store.upsert_learners([Learner("l1", "L1")])
        await store.record_attempts(answers("l1", "a1 a0"))
        svc = service()

        async def serving() -> Any:
            return svc

        async def no_index() -> Any:
            raise AssertionError("timelines need no index")

        clock = [0.0]
        an = ClassAnalytics(store, serving, no_index, fresh_s=2.0, clock=lambda: clock[0])
        first = (await an.timelines(["l1"]))["l1"]
        assert (await an.timelines(["l1"], max_age_s=0))["l1"] is first  # checked: unchanged
        later = Attempt("later", "l1", "a1", 1.0, T0 + timedelta(hours=1))
        await store.record_attempts([later])
        clock[0] = 1.0  # within fresh_s of the last check: served as it was
        assert (await an.timelines(["l1"]))["l1"] is first
        clock[0] = 2.5
        again = (await an.timelines(["l1"]))["l1"]
        assert again is not first and [a.attempt_id for a in again.answers][-1] == "later"
        assert (await an.timelines(["l1"], max_age_s=0))["l1"] is again
    finally:
        await store.close()


def test_progress_equals_the_rows_read_one_end_at_a_time() -> None:
    """The gathered progress is, end by end, the count and sum of the mastery as of it
    (before the first answer: the prior; after the last: the last row)."""
    tl = replay("l1", answers("l1", "a1 b0 a1 c1 b1"), service())
    ends = [T0 - timedelta(minutes=1), T0, T0 + timedelta(seconds=90), T0 + timedelta(days=1)]
    got = progress(tl, ends, threshold=0.4)
    for end, point in zip(ends, got, strict=True):
        m = tl.mastery_at(end)
        assert point.at == end and point.answers == tl.index_at(end)
        assert point.mastered == float(np.sum(m >= 0.4))
        assert point.expected_mastered == float(np.sum(m))
    assert [p.answers for p in got] == [0, 1, 2, 5]
    empty = replay("l2", [], service())
    assert [p.expected_mastered for p in progress(empty, ends[:2])] == [
        float(np.sum(empty.prior))
    ] * 2
