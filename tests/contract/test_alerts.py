"""Contract: teachers' alerts are kept once per key, listed per learner open or acknowledged,
acknowledged once, and open again only for a condition that began after the acknowledgement."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from graph.models import Learner, StoredAlert
from graph.store import NotFoundError, ValidationError
from tests.contract.helpers import T0


def alert(learner: str = "l1", skill: str | None = "s1", minute: int = 0,
          raised: int = 10, **kw: Any) -> StoredAlert:
    kind = "STUCK" if skill else "AT_RISK"
    key = ":".join(x for x in (kind, learner, skill) if x)
    return StoredAlert(key=key, kind=kind, learner_id=learner, skill_id=skill,
                       since=T0 + timedelta(minutes=minute), message=kw.pop("message", "m"),
                       raised_at=T0 + timedelta(minutes=raised), **kw)


async def learners(store: Any) -> None:
    await store.upsert_learners([Learner("l1", "One"), Learner("l2", "Two")])


async def test_raising_twice_keeps_one_row_with_its_first_raise(store: Any) -> None:
    await learners(store)
    reasons = ({"code": "FAILURE_STREAK", "message": "4 wrong", "value": 4.0},)
    first = alert(risk=None, root_cause_id="s0", reasons=reasons)
    (kept,) = await store.raise_alerts([first])
    assert kept == first and not kept.acknowledged
    again = replace(first, message="5 wrong answers", raised_at=T0 + timedelta(minutes=20))
    kept, twice = await store.raise_alerts([again, again])
    # the new content, the first raise kept
    assert kept == twice == replace(again, raised_at=first.raised_at)
    assert await store.alerts_of(["l1"]) == [kept]
    assert await store.get_alerts([first.key, "nope"]) == [kept, None]


async def test_alerts_list_newest_first_and_filter_by_state(store: Any) -> None:
    await learners(store)
    a, b, c = alert(minute=1), alert(skill=None, minute=3, risk=0.9), alert("l2", minute=2)
    await store.raise_alerts([a, b, c])
    assert [x.key for x in await store.alerts_of(["l1", "l2"])] == [b.key, c.key, a.key]
    assert [x.key for x in await store.alerts_of(["l2", "l2"])] == [c.key]
    done = await store.acknowledge_alert(b.key, by="tess", at=T0 + timedelta(minutes=30))
    assert done is not None and done.acknowledged_by == "tess"
    assert done.acknowledged_at == T0 + timedelta(minutes=30) and done.risk == 0.9
    assert [x.key for x in await store.alerts_of(["l1", "l2"], acknowledged=False)] == [
        c.key, a.key]
    assert [x.key for x in await store.alerts_of(["l1"], acknowledged=True)] == [b.key]
    assert await store.alerts_of([]) == []


async def test_acknowledging_is_idempotent_and_unknown_keys_are_none(store: Any) -> None:
    await learners(store)
    await store.raise_alerts([alert()])
    key = alert().key
    first = await store.acknowledge_alert(key, by="tess", at=T0 + timedelta(minutes=30))
    later = await store.acknowledge_alert(key, by="tom", at=T0 + timedelta(minutes=40))
    assert first == later and later is not None and later.acknowledged_by == "tess"
    assert await store.acknowledge_alert("STUCK:nobody:x", by="tess", at=T0) is None
    with pytest.raises(ValidationError) as err:
        await store.acknowledge_alert(" ", by="tess", at=T0)
    assert err.value.field == "key"


async def test_an_acknowledged_alert_opens_again_only_for_a_new_occurrence(store: Any) -> None:
    await learners(store)
    await store.raise_alerts([alert(minute=0)])
    await store.acknowledge_alert(alert().key, by="tess", at=T0 + timedelta(minutes=30))
    # the same condition raised again (a retry, a later read): stays dismissed
    (same,) = await store.raise_alerts([alert(minute=0, raised=35, message="changed")])
    assert same.acknowledged and same.message == "m"
    # a condition that began after the dismissal is a new occurrence
    (new,) = await store.raise_alerts([alert(minute=40, raised=45)])
    assert not new.acknowledged and new.acknowledged_by is None
    assert (new.since, new.raised_at) == (T0 + timedelta(minutes=40), T0 + timedelta(minutes=45))


async def test_bad_alerts_are_refused_and_nothing_is_written(store: Any) -> None:
    await learners(store)
    with pytest.raises(NotFoundError) as missing:
        await store.raise_alerts([alert(), alert("ghost")])
    assert missing.value.ids == ("ghost",)
    assert await store.alerts_of(["l1"]) == []
    with pytest.raises(ValidationError) as err:
        await store.raise_alerts([alert(risk=1.5)])
    assert err.value.field == "risk"
    with pytest.raises(ValidationError) as err:
        await store.raise_alerts([replace(alert(), since=T0.replace(tzinfo=None))])
    assert err.value.field == "since"
