"""Contract: recording attempts (idempotent, atomic) and paging a learner's history."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta, timezone
from typing import Any

import pytest

from graph.models import Attempt
from graph.store import AttemptConflictError, NotFoundError, ValidationError
from tests.contract.helpers import T0, attempt, learner_with_items


async def test_record_then_retry_stores_once_and_reports_duplicates(store: Any) -> None:
    await learner_with_items(store)
    batch = [attempt("a1", score=1.0, minute=0, response_time_ms=900, hints_used=1),
             attempt("a2", score=0.0, minute=1)]
    first = await store.record_attempts(batch)
    assert first.stored == ("a1", "a2") and first.duplicates == ()
    retry = await store.record_attempts([attempt("a3", minute=2), *batch])
    assert retry.stored == ("a3",) and retry.duplicates == ("a1", "a2")
    assert await store.attempt_count("l1") == 3
    page = await store.attempts_of("l1")
    assert page.attempts == (attempt("a3", minute=2), batch[1], batch[0])


async def test_same_id_twice_in_one_batch_is_stored_once(store: Any) -> None:
    await learner_with_items(store)
    result = await store.record_attempts([attempt("a1"), attempt("a1")])
    assert result.stored == ("a1",) and result.duplicates == ("a1",)
    assert await store.attempt_count() == 1


async def test_same_id_with_two_contents_in_one_batch_is_a_conflict(store: Any) -> None:
    await learner_with_items(store)
    with pytest.raises(AttemptConflictError) as err:
        await store.record_attempts([attempt("ok"), attempt("a1", score=1.0),
                                     attempt("a1", score=0.0)])
    assert err.value.attempt_ids == ("a1",)
    assert await store.attempt_count() == 0


async def test_reused_id_with_other_content_fails_the_whole_call(store: Any) -> None:
    await learner_with_items(store)
    await store.record_attempts([attempt("a1", score=1.0)])
    for changed in (attempt("a1", score=0.0), attempt("a1", minute=5),
                    attempt("a1", hints_used=2), attempt("a1", response_time_ms=10)):
        with pytest.raises(AttemptConflictError) as err:
            await store.record_attempts([attempt("fresh", minute=9), changed])
        assert err.value.attempt_ids == ("a1",)
    assert await store.attempt_count() == 1
    assert (await store.attempts_of("l1")).attempts == (attempt("a1", score=1.0),)


async def test_same_instant_in_another_timezone_is_a_retry_not_a_conflict(store: Any) -> None:
    await learner_with_items(store)
    await store.record_attempts([attempt("a1")])
    shifted = replace(attempt("a1"), timestamp=T0.astimezone(timezone(timedelta(hours=5))))
    result = await store.record_attempts([shifted])
    assert result.duplicates == ("a1",)
    (stored,) = (await store.attempts_of("l1")).attempts
    assert stored.timestamp == T0 and stored.timestamp.utcoffset() == timedelta(0)


async def test_unknown_learner_or_item_writes_nothing(store: Any) -> None:
    await learner_with_items(store)
    with pytest.raises(NotFoundError) as err:
        await store.record_attempts([attempt("a1"), attempt("a2", learner="ghost")])
    assert err.value.entity == "learner" and err.value.ids == ("ghost",)
    with pytest.raises(NotFoundError) as err:
        await store.record_attempts([attempt("a1"), attempt("a2", item_id="nope")])
    assert err.value.entity == "item" and err.value.ids == ("nope",)
    assert await store.attempt_count() == 0


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (attempt("x", score=1.5), "score"),
        (attempt("x", score=-0.01), "score"),
        (attempt("x", score=float("nan")), "score"),
        (attempt("x", hints_used=-1), "hints_used"),
        (attempt("x", response_time_ms=-5), "response_time_ms"),
        (attempt("", score=1.0), "attempt_id"),
        (replace(attempt("x"), timestamp=T0.replace(tzinfo=None)), "timestamp"),
    ],
)
async def test_one_bad_attempt_refuses_the_batch(store: Any, bad: Attempt, field: str) -> None:
    await learner_with_items(store)
    with pytest.raises(ValidationError) as err:
        await store.record_attempts([attempt("good1"), bad, attempt("good2", minute=1)])
    assert err.value.field == field
    assert await store.attempt_count() == 0


async def test_attempts_page_newest_first_with_stable_cursors(store: Any) -> None:
    await learner_with_items(store, learners=("l1", "l2"))
    # minutes 0..6, two attempts share minute 3 (tie broken by attempt id, descending)
    mine = [attempt(f"a{m}", minute=m) for m in range(7)] + [attempt("a3b", minute=3)]
    await store.record_attempts([*mine, attempt("other", learner="l2", minute=99)])
    expected = ["a6", "a5", "a4", "a3b", "a3", "a2", "a1", "a0"]

    seen: list[str] = []
    cursors: list[str | None] = [None]
    while True:
        page = await store.attempts_of("l1", limit=3, cursor=cursors[-1])
        seen += [a.attempt_id for a in page.attempts]
        if page.next_cursor is None:
            break
        cursors.append(page.next_cursor)
    assert seen == expected and len(cursors) == 3

    # a newer attempt arriving between page reads does not shift later pages
    await store.record_attempts([attempt("late", minute=50)])
    again = await store.attempts_of("l1", limit=3, cursor=cursors[1])
    assert [a.attempt_id for a in again.attempts] == expected[3:6]
    assert (await store.attempts_of("l1", limit=1)).attempts[0].attempt_id == "late"


async def test_attempts_since_and_counts(store: Any) -> None:
    await learner_with_items(store, learners=("l1", "l2"))
    await store.record_attempts([attempt(f"a{m}", minute=m) for m in range(5)]
                                + [attempt("b", learner="l2")])
    page = await store.attempts_of("l1", since=T0 + timedelta(minutes=3))
    assert [a.attempt_id for a in page.attempts] == ["a4", "a3"] and page.next_cursor is None
    assert await store.attempt_count() == 6
    assert await store.attempt_count("l1") == 5
    assert await store.attempt_count("nobody") == 0
    empty = await store.attempts_of("nobody")
    assert empty.attempts == () and empty.next_cursor is None


async def test_exactly_full_last_page_has_no_next_cursor(store: Any) -> None:
    await learner_with_items(store)
    await store.record_attempts([attempt(f"a{m}", minute=m) for m in range(4)])
    first = await store.attempts_of("l1", limit=2)
    second = await store.attempts_of("l1", limit=2, cursor=first.next_cursor)
    assert len(second.attempts) == 2 and second.next_cursor is None


async def test_garbage_cursor_is_a_validation_error(store: Any) -> None:
    await learner_with_items(store)
    with pytest.raises(ValidationError) as err:
        await store.attempts_of("l1", cursor="not-a-cursor!")
    assert err.value.field == "cursor"


async def test_ten_thousand_attempts_in_one_call(store: Any) -> None:
    learners = tuple(f"l{i:03d}" for i in range(100))
    items = tuple(f"i{i:02d}" for i in range(20))
    await learner_with_items(store, learners=learners, items=items)
    batch = [
        Attempt(attempt_id=f"att-{n:05d}", learner_id=learners[n % 100],
                item_id=items[n % 20], score=float(n % 2), timestamp=T0 + timedelta(seconds=n),
                response_time_ms=n % 5000, hints_used=n % 3)
        for n in range(10_000)
    ]
    result = await store.record_attempts(batch)
    assert len(result.stored) == 10_000 and result.duplicates == ()
    assert await store.attempt_count() == 10_000
    assert await store.attempt_count("l007") == 100
    newest = (await store.attempts_of("l007", limit=1)).attempts[0]
    assert newest == batch[9_907]
    again = await store.record_attempts(batch)
    assert again.stored == () and len(again.duplicates) == 10_000
    assert await store.attempt_count() == 10_000



async def test_an_untimed_retry_is_a_duplicate_and_keeps_the_first_timestamp(store: Any) -> None:
    """The caller filled in the timestamp of "a1" itself (the client sent none): a retry
    with another filled-in time but the same client fields is a duplicate, and the result
    gives the timestamp stored by the first try."""
    await learner_with_items(store)
    first = await store.record_attempts([attempt("a1", minute=0)], untimed=["a1"])
    assert first.stored == ("a1",) and first.timestamps == {}
    retry = await store.record_attempts(
        [attempt("a2", minute=7), attempt("a1", minute=5)], untimed=["a1", "a2"]
    )
    assert retry.stored == ("a2",) and retry.duplicates == ("a1",)
    assert retry.timestamps == {"a1": T0}
    assert await store.attempt_count("l1") == 2
    assert (await store.attempts_of("l1")).attempts == (
        attempt("a2", minute=7),
        attempt("a1", minute=0),
    )


async def test_an_untimed_retry_with_other_client_fields_is_a_conflict(store: Any) -> None:
    await learner_with_items(store)
    await store.record_attempts([attempt("a1", score=1.0)], untimed=["a1"])
    for changed in (attempt("a1", score=0.0, minute=3), attempt("a1", hints_used=2, minute=3)):
        with pytest.raises(AttemptConflictError) as err:
            await store.record_attempts([changed], untimed=["a1"])
        assert err.value.attempt_ids == ("a1",)
    # a timestamp the client sends itself is compared as before
    with pytest.raises(AttemptConflictError):
        await store.record_attempts([attempt("a1", score=1.0, minute=3)])
    assert (await store.attempts_of("l1")).attempts == (attempt("a1", score=1.0),)


async def test_latest_attempts_reads_each_learners_newest_in_one_call(store: Any) -> None:
    await learner_with_items(store, learners=("l1", "l2", "l3"))
    sent = [
        attempt("a1", minute=1),
        attempt("a2", minute=3),
        attempt("a3", minute=2),
        attempt("b1", "l2", minute=5),
        attempt("b0", "l2", minute=5),  # same time as b1: ties by id, descending
        attempt("a4", minute=0),
    ]
    await store.record_attempts(sent)
    got = await store.latest_attempts(["l2", "l3", "nobody", "l1"], limit=3)
    assert [[a.attempt_id for a in page] for page in got] == [
        ["b1", "b0"],
        [],
        [],
        ["a2", "a3", "a1"],
    ]
    # the same rows attempts_of pages through, one learner at a time
    both = await store.latest_attempts(["l1", "l2"], limit=50)
    for lid, page in zip(["l1", "l2"], both, strict=True):
        assert page == (await store.attempts_of(lid, limit=50)).attempts
    assert await store.latest_attempts([], limit=5) == []
    assert [len(p) for p in await store.latest_attempts(["l1", "l1"], limit=1)] == [1, 1]
    with pytest.raises(ValidationError, match="limit"):
        await store.latest_attempts(["l1"], limit=0)
