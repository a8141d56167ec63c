"""Contract: views of lessons, videos and readings, idempotent on the client's view id, paged
newest first, and apart from the answers (no attempt, no trace)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from graph.models import ItemKind, Learner, View
from graph.store import NotFoundError, ValidationError, ViewConflictError
from tests.contract.helpers import ACTOR, item, skill

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


def view(vid: str, item_id: str = "les", minute: int = 0, **kw: Any) -> View:
    return View(vid, kw.pop("learner_id", "l1"), item_id, T0 + timedelta(minutes=minute), **kw)


async def setup(store: Any) -> None:
    await store.upsert_skills([skill("s")], actor=ACTOR)
    await store.upsert_items([
        item("les", "s", kind=ItemKind.LESSON), item("vid", "s", kind=ItemKind.VIDEO),
        item("read", "s", kind=ItemKind.READING), item("ex", "s")], actor=ACTOR)
    await store.upsert_learners([Learner("l1", "One"), Learner("l2", "Two")])


async def test_views_are_stored_once_and_read_back_newest_first(store: Any) -> None:
    await setup(store)
    sent = [view("v1", "les", 0, seconds=300), view("v2", "vid", 5, progress=0.4),
            view("v3", "read", 5), view("w1", "les", 1, learner_id="l2")]
    first = await store.record_views(sent)
    assert (first.stored, first.duplicates) == (("v1", "v2", "v3", "w1"), ())
    again = await store.record_views([sent[0], view("v4", "les", 9)])
    assert (again.stored, again.duplicates) == (("v4",), ("v1",))
    page = await store.views_of("l1", limit=2)
    assert page.views == (view("v4", "les", 9), view("v3", "read", 5))
    rest = await store.views_of("l1", limit=2, cursor=page.next_cursor)
    assert rest.views == (sent[1], sent[0]) and rest.next_cursor is None
    assert await store.view_count("l1") == 4 and await store.view_count() == 5
    assert await store.attempt_count() == 0  # a view is not an answer


async def test_an_untimed_retry_is_a_duplicate_with_the_stored_time(store: Any) -> None:
    await setup(store)
    await store.record_views([view("v1", minute=3)])
    retry = await store.record_views([view("v1", minute=30)], untimed={"v1"})
    assert retry.duplicates == ("v1",) and retry.timestamps == {"v1": T0 + timedelta(minutes=3)}


async def test_refusals_write_nothing(store: Any) -> None:
    await setup(store)
    await store.record_views([view("v1")])
    with pytest.raises(ViewConflictError) as conflict:
        await store.record_views([view("v9"), view("v1", progress=0.5)])
    assert conflict.value.view_ids == ("v1",)
    with pytest.raises(NotFoundError) as unknown:
        await store.record_views([view("v9"), view("v8", "gone")])
    assert (unknown.value.entity, unknown.value.ids) == ("item", ("gone",))
    with pytest.raises(NotFoundError) as nobody:
        await store.record_views([view("v9", learner_id="zed")])
    assert nobody.value.entity == "learner"
    with pytest.raises(ValidationError) as exercise:
        await store.record_views([view("v9"), view("v8", "ex")])
    assert "'ex' is an exercise" in exercise.value.message
    with pytest.raises(ValidationError) as bad:
        await store.record_views([view("v9", progress=1.5)])
    assert bad.value.field == "progress" and "1.5" in bad.value.message
    assert await store.view_count() == 1
