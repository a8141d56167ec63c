"""Contract: ``list_learners`` enumerates learners by id, in keyset pages.

Training a tracer from a store's own attempts walks every learner this way, so a page that
skips or repeats a learner would silently drop or double someone's history.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Learner
from graph.store import ValidationError
from tests.contract.helpers import ACTOR, skill

_namespaces = itertools.count()


async def test_empty_store_lists_no_learners(store: Any) -> None:
    assert await store.list_learners() == []
    assert await store.list_learners(after="zzz", limit=5) == []


async def test_learners_come_ordered_by_id_with_goals(store: Any) -> None:
    await store.upsert_skills([skill("s1"), skill("s2")], actor=ACTOR)
    await store.upsert_learners([Learner("lc", "Cy"), Learner("la", "Ada", goals=("s2", "s1")),
                                 Learner("lb", "Bo")])
    assert await store.list_learners() == [
        Learner("la", "Ada", goals=("s2", "s1")), Learner("lb", "Bo"), Learner("lc", "Cy")]


async def test_after_and_limit_give_the_next_page(store: Any) -> None:
    await store.upsert_learners([Learner(f"l{i}", f"L{i}") for i in (4, 1, 3, 2, 5)])
    first = await store.list_learners(limit=2)
    assert [lr.id for lr in first] == ["l1", "l2"]
    second = await store.list_learners(after=first[-1].id, limit=2)
    assert [lr.id for lr in second] == ["l3", "l4"]
    # ``after`` need not be a stored id: anything sorting between l3 and l4 resumes at l4
    assert [lr.id for lr in await store.list_learners(after="l3a", limit=10)] == ["l4", "l5"]
    assert await store.list_learners(after="l5") == []


async def test_only_learners_are_listed_not_other_people(store: Any) -> None:
    from graph.models import Role, User

    await store.upsert_users([User("u1", "Una", Role.TEACHER)])
    await store.upsert_learners([Learner("l1", "One")])
    assert [lr.id for lr in await store.list_learners()] == ["l1"]


@pytest.mark.parametrize("limit", [0, -3])
async def test_bad_limit_is_refused_by_name(store: Any, limit: int) -> None:
    with pytest.raises(ValidationError) as err:
        await store.list_learners(limit=limit)
    assert err.value.field == "limit" and repr(limit) in str(err.value)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=st.sets(st.text("abcXYZ019-_", min_size=1, max_size=4), max_size=20),
       page_size=st.integers(1, 6))
async def test_paging_visits_every_learner_once_in_id_order(
    store: Any, ids: set[str], page_size: int
) -> None:
    ns = f"ll{next(_namespaces):03d}/"  # every example in its own id range of one store
    await store.upsert_learners([Learner(ns + i, i) for i in ids])
    seen: list[str] = []
    after: str | None = ns  # sorts before every id of this namespace
    for _ in range(len(ids) + 2):
        page = await store.list_learners(after=after, limit=page_size)
        page = [lr for lr in page if lr.id.startswith(ns)]
        assert len(page) <= page_size
        seen += [lr.id for lr in page]
        if len(page) < page_size:
            break
        after = page[-1].id
    assert seen == sorted(ns + i for i in ids)
