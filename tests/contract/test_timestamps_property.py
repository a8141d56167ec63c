"""Contract: every timestamp a store hands back is the instant that was written, to the
microsecond, as an aware UTC ``datetime``, on both stores.

The Neo4j store returns timestamps from its hot reads as integer epoch microseconds computed
in Cypher (``graph.cypher.epoch_us``) instead of ``DateTime`` values; these properties pin that
conversion over the whole ``datetime`` range, before 1970 included (where Neo4j's
``epochSeconds`` truncates instead of flooring) and from any timezone.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Attempt, Group, Learner, Mastery
from tests.conftest import neo4j_url
from tests.contract.helpers import ACTOR, item, skill

_names = itertools.count()

#: Any aware instant Python can hold (a day inside the ends, so any offset converts to UTC).
moments = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=st.timezones())
#: Instants around the epoch, at microsecond steps: the negative-timestamp edge cases.
near_epoch = st.integers(-3_000_000, 3_000_000).map(
    lambda us: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us))
instants = st.one_of(moments, near_epoch)
_SETTINGS = settings(max_examples=30, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def exact(got: datetime, want: datetime) -> bool:
    """Same instant, same microsecond fields, and UTC."""
    utc = want.astimezone(UTC)
    return (got.utcoffset() == timedelta(0) and got.tzinfo == UTC
            and got.replace(tzinfo=None) == utc.replace(tzinfo=None))


@_SETTINGS
@given(stamps=st.lists(instants, min_size=1, max_size=4))
async def test_mastery_updated_at_round_trips_exactly(store: Any, stamps: list[datetime]) -> None:
    n = next(_names)
    lid, gid = f"m{n}", f"g{n}"
    sids = [f"m{n}s{k}" for k in range(len(stamps))]
    await store.upsert_skills([skill(s) for s in sids], actor=ACTOR)
    await store.upsert_learners([Learner(lid, "L")])
    await store.upsert_groups([Group(gid, "G", (), (lid,))])
    await store.save_mastery([Mastery(lid, s, 0.5, 0.1, t, "v1")
                              for s, t in zip(sids, stamps, strict=True)])
    [rows] = await store.mastery_of([lid])
    by_group = (await store.mastery_of_group(gid))[lid]
    for got in (rows, by_group):
        assert [m.skill_id for m in got] == sids
        assert all(exact(m.updated_at, t) for m, t in zip(got, stamps, strict=True))


@_SETTINGS
@given(stamps=st.lists(instants, min_size=1, max_size=4))
async def test_attempt_timestamps_round_trip_exactly(store: Any, stamps: list[datetime]) -> None:
    n = next(_names)
    lid, sid, iid = f"a{n}", f"a{n}s", f"a{n}i"
    await store.upsert_skills([skill(sid)], actor=ACTOR)
    await store.upsert_items([item(iid, sid)], actor=ACTOR)
    await store.upsert_learners([Learner(lid, "L")])
    batch = [Attempt(f"{lid}-{k}", lid, iid, 1.0, t) for k, t in enumerate(stamps)]
    assert (await store.record_attempts(batch)).stored == tuple(a.attempt_id for a in batch)
    page = await store.attempts_of(lid, limit=len(batch))
    want = sorted(batch, key=lambda a: (a.timestamp, a.attempt_id), reverse=True)
    assert [a.attempt_id for a in page.attempts] == [a.attempt_id for a in want]
    assert all(exact(g.timestamp, w.timestamp) for g, w in zip(page.attempts, want, strict=True))
    # the stored copies are compared with the resent ones: an inexact read would be a conflict
    again = await store.record_attempts(batch)
    assert again.stored == () and again.duplicates == tuple(a.attempt_id for a in batch)


# -- the change log's ``at`` comes from the store's clock: a store with a settable one --------

Clock = list[datetime]


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
async def clocked(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Any, Clock]]:
    """A fresh, migrated store of each kind whose clock reads ``now[0]``."""
    from migrations.runner import migrate

    now: Clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    store: Any
    if request.param == "sqlite":
        from graph.sqlite_store import SqliteStore

        store = await SqliteStore.open(str(tmp_path / "clocked.db"), clock=lambda: now[0])
    else:
        from graph.neo4j_store import Neo4jStore
        from graph.open import neo4j_target

        uri, auth = neo4j_target(neo4j_url())
        store = await Neo4jStore.open(uri, auth=auth, clock=lambda: now[0])
        await store.wipe_all_data_for_tests()
    await migrate(store)
    try:
        yield store, now
    finally:
        await store.close()


@_SETTINGS
@given(at=instants)
async def test_change_log_at_round_trips_exactly(
    clocked: tuple[Any, Clock], at: datetime
) -> None:
    store, now = clocked
    now[0] = at.astimezone(UTC)  # a store's clock gives UTC, like graph.models.utcnow
    sid = f"c{next(_names)}"
    await store.upsert_skills([skill(sid)], actor=ACTOR)
    [change] = [c for c in await store.change_log(limit=1000) if c.entity_id == sid]
    assert exact(change.at, at)
