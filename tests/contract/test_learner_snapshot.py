"""Contract: ``learner_snapshot`` (everything a recommendation reads of a learner, one call) is
what the separate reads give, and ``serving_probe`` is the serving model and the change log's
last seq, on both stores (issue 13 item 2: one store call per recommendation, not eight)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from graph.models import ItemKind, Learner, Mastery, ServingProbe, View
from graph.store import ValidationError
from tests.contract.helpers import ACTOR, T0, attempt, item, skill


async def seed(store: Any) -> None:
    """Skills s1, s2; exercises e1, e2 and a lesson; ann (goal s2, retention 0.85) with
    mastery, five attempts (two at the same minute: the tie is broken by id), three views and
    a tracer state under two model versions; bob with nothing."""
    await store.upsert_skills([skill("s1"), skill("s2")], actor=ACTOR)
    await store.upsert_items(
        [item("e1", "s1"), item("e2", "s2"), item("les", "s1", kind=ItemKind.LESSON)], actor=ACTOR
    )
    await store.upsert_learners([Learner("ann", "Ann", ("s2",), 0.85), Learner("bob", "Bob")])
    at = datetime(2026, 2, 1, tzinfo=UTC)
    await store.save_mastery(
        [
            Mastery("ann", "s1", 0.9, 0.05, at, "bkt-default"),
            Mastery("ann", "s2", 0.25, 0.1, at, "bkt-default"),
        ]
    )
    await store.record_attempts(
        [
            attempt("a1", "ann", "e1", 1.0, minute=0),
            attempt("a2", "ann", "e1", 0.0, minute=1),
            attempt("a4", "ann", "e2", 1.0, minute=2),
            attempt("a3", "ann", "e2", 0.0, minute=2),
            attempt("a5", "ann", "e2", 1.0, minute=3, response_time_ms=900, hints_used=1),
        ]
    )
    await store.record_views(
        [
            View(f"v{k}", "ann", "les", T0 + timedelta(minutes=k, seconds=30), seconds=60 * k)
            for k in range(3)
        ]
    )
    await store.save_tracer_states(
        [("ann", "bkt-default", b"\x01\x02"), ("ann", "gnn-v1", b"\x03")]
    )


async def test_the_snapshot_is_what_the_separate_reads_give(store: Any) -> None:
    await seed(store)
    snap = await store.learner_snapshot("ann", attempts=4, views=2, tracer_model="bkt-default")
    [learner] = await store.get_learners(["ann"])
    assert snap.learner == learner and snap.learner.goals == ("s2",)
    assert snap.mastery == await store.mastery_probabilities("ann") == {"s1": 0.9, "s2": 0.25}
    page = await store.attempts_of("ann", limit=4)
    assert snap.attempts == page.attempts
    # newest first, the tie at minute 2 by id descending, a1 past the limit
    assert [a.attempt_id for a in snap.attempts] == ["a5", "a4", "a3", "a2"]
    assert snap.attempts[0].response_time_ms == 900 and snap.attempts[0].hints_used == 1
    assert snap.views == (await store.views_of("ann", limit=2)).views
    assert [w.view_id for w in snap.views] == ["v2", "v1"]
    assert snap.tracer_state == b"\x01\x02"
    assert snap.probe == ServingProbe(None, await store.last_change_seq())
    assert snap.probe.change_seq > 0  # the seed's curriculum writes are logged


async def test_what_is_not_asked_is_not_read(store: Any) -> None:
    await seed(store)
    snap = await store.learner_snapshot("ann", attempts=0)
    assert snap.attempts == () and snap.views == () and snap.tracer_state is None
    assert snap.mastery == {"s1": 0.9, "s2": 0.25}
    other = await store.learner_snapshot("ann", attempts=50, views=50, tracer_model="gnn-v1")
    assert len(other.attempts) == 5 and len(other.views) == 3
    assert other.tracer_state == b"\x03"
    none = await store.learner_snapshot("ann", attempts=1, tracer_model="elo-v9")
    assert none.tracer_state is None


async def test_a_learner_with_nothing_and_an_unknown_learner(store: Any) -> None:
    await seed(store)
    bob = await store.learner_snapshot("bob", attempts=10, views=5, tracer_model="bkt-default")
    assert bob.learner == Learner("bob", "Bob")
    assert (bob.mastery, bob.attempts, bob.views, bob.tracer_state) == ({}, (), (), None)
    ghost = await store.learner_snapshot("ghost", attempts=10, views=5, tracer_model="x")
    assert ghost.learner is None and ghost.mastery == {} and ghost.attempts == ()
    assert ghost.probe == bob.probe  # the probe is read whoever the learner is


async def test_bad_counts_are_refused(store: Any) -> None:
    for kw in (
        {"attempts": -1},
        {"attempts": 1, "views": -2},
        {"attempts": True},
        {"attempts": 1.5},
    ):
        with pytest.raises(ValidationError):
            await store.learner_snapshot("ann", **kw)


async def test_the_probe_moves_with_the_serving_model_and_the_change_log(store: Any) -> None:
    empty = await store.serving_probe()
    assert empty == ServingProbe(None, 0)
    await store.upsert_skills([skill("s1")], actor=ACTOR)
    after_edit = await store.serving_probe()
    assert after_edit.serving_model is None
    assert after_edit.change_seq == await store.last_change_seq() > 0
    await store.set_serving_model("gnn-v2")
    switched = await store.serving_probe()
    assert switched == ServingProbe("gnn-v2", after_edit.change_seq)
    await store.upsert_learners([Learner("ann", "Ann")])
    snap = await store.learner_snapshot("ann", attempts=1)
    assert snap.probe == switched  # learners are not curriculum: the log stays
    await store.remove_skills(["s1"], actor=ACTOR)
    assert (await store.serving_probe()).change_seq > switched.change_seq
