"""Contract, property-based: paging and batch reads hold for any data, not just hand-built cases.

Each hypothesis example works in its own id namespace so that one store serves every example.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Attempt, Item, ItemKind, Learner, SkillWeight
from tests.contract.helpers import ACTOR, T0, skill

_namespaces = itertools.count()
SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(minutes=st.lists(st.integers(0, 5), min_size=0, max_size=25),
       page_size=st.integers(1, 7), since=st.none() | st.integers(0, 5))
async def test_pages_cover_history_newest_first_exactly_once(
    store: Any, minutes: list[int], page_size: int, since: int | None
) -> None:
    ns = f"pg{next(_namespaces)}-"
    learner, item = f"{ns}l", f"{ns}i"
    await store.upsert_skills([skill(f"{ns}s")], actor=ACTOR)
    await store.upsert_items([Item(item, ItemKind.EXERCISE, "t", (SkillWeight(f"{ns}s"),))],
                             actor=ACTOR)
    await store.upsert_learners([Learner(learner, "L")])
    # few distinct minutes, so many attempts share a timestamp and the tie-break matters
    attempts = [Attempt(f"{ns}a{n:02d}", learner, item, 1.0, T0 + timedelta(minutes=m))
                for n, m in enumerate(minutes)]
    await store.record_attempts(attempts)

    cutoff = None if since is None else T0 + timedelta(minutes=since)
    expected = sorted((a for a in attempts if cutoff is None or a.timestamp >= cutoff),
                      key=lambda a: (a.timestamp, a.attempt_id), reverse=True)
    seen: list[Attempt] = []
    cursor = None
    for _ in range(len(attempts) + 2):
        page = await store.attempts_of(learner, limit=page_size, cursor=cursor, since=cutoff)
        assert len(page.attempts) <= page_size
        seen += page.attempts
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(page.attempts) == page_size
    assert cursor is None, "paging did not end"
    assert seen == expected


@SETTINGS
@given(asked=st.lists(st.sampled_from(["s0", "s1", "s2", "x0", "x1"]), max_size=12),
       present=st.sets(st.sampled_from(["s0", "s1", "s2"])))
async def test_batch_reads_answer_in_the_order_asked(
    store: Any, asked: list[str], present: set[str]
) -> None:
    ns = f"br{next(_namespaces)}-"
    await store.upsert_skills([skill(ns + s) for s in sorted(present)], actor=ACTOR)
    await store.upsert_learners([Learner(ns + s, f"L {s}") for s in sorted(present)])
    ids = [ns + a for a in asked]
    skills = await store.get_skills(ids)
    learners = await store.get_learners(ids)
    edges = await store.prerequisites_of(ids)
    assert len(skills) == len(learners) == len(edges) == len(ids)
    for wanted, s, lr, e in zip(asked, skills, learners, edges, strict=True):
        if wanted in present:
            assert s == skill(ns + wanted) and lr == Learner(ns + wanted, f"L {wanted}")
        else:
            assert s is None and lr is None
        assert e == []


@SETTINGS
@given(batches=st.lists(st.lists(st.integers(0, 9), max_size=8), min_size=1, max_size=5))
async def test_any_sequence_of_retried_batches_stores_each_attempt_once(
    store: Any, batches: list[list[int]]
) -> None:
    ns = f"rb{next(_namespaces)}-"
    learner, item = f"{ns}l", f"{ns}i"
    await store.upsert_skills([skill(f"{ns}s")], actor=ACTOR)
    await store.upsert_items([Item(item, ItemKind.EXERCISE, "t", (SkillWeight(f"{ns}s"),))],
                             actor=ACTOR)
    await store.upsert_learners([Learner(learner, "L")])
    pool = [Attempt(f"{ns}a{n}", learner, item, n / 9, T0 + timedelta(minutes=n))
            for n in range(10)]
    seen: set[int] = set()
    for batch in batches:
        result = await store.record_attempts([pool[n] for n in batch])
        fresh: list[str] = []
        duplicates: list[str] = []
        for n in batch:  # in the order given: first sight is stored, any later one a retry
            (duplicates if n in seen else fresh).append(pool[n].attempt_id)
            seen.add(n)
        assert result.stored == tuple(fresh)
        assert result.duplicates == tuple(duplicates)
    assert await store.attempt_count(learner) == len(seen)
    page = await store.attempts_of(learner, limit=20)
    assert [a.attempt_id for a in page.attempts] == [pool[n].attempt_id
                                                     for n in sorted(seen, reverse=True)]
