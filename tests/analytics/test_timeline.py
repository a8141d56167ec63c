"""Mastery history replayed from answers: what the serving tracer says after each answer."""

from __future__ import annotations

from datetime import timedelta

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
