"""Contract: a learner's attempts and views page in both directions (``attempts_window`` /
``views_window``): keyset windows newest first, each row with its own cursor, and flags that
say whether rows lie before and after the window."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Attempt, ItemKind, Learner, View, WindowRequest
from graph.store import ValidationError
from tests.contract.helpers import ACTOR, T0, item, skill

_namespaces = itertools.count()


async def history(store: Any, kind: str, minutes: list[int], ns: str = "") -> list[str]:
    """A learner ``{ns}l`` with one attempt or view per minute given (ids in the order given,
    so equal minutes tie); returns the ids newest first, ties by id descending."""
    learner = f"{ns}l"
    await store.upsert_skills([skill(f"{ns}s")], actor=ACTOR)
    await store.upsert_items([item(f"{ns}ex", f"{ns}s"),
                              item(f"{ns}les", f"{ns}s", kind=ItemKind.LESSON)], actor=ACTOR)
    await store.upsert_learners([Learner(learner, "L")])
    stamps = {f"{ns}{kind[0]}{n:02d}": T0 + timedelta(minutes=m) for n, m in enumerate(minutes)}
    if kind == "attempts":
        await store.record_attempts(
            [Attempt(i, learner, f"{ns}ex", 1.0, t) for i, t in stamps.items()])
    else:
        await store.record_views([View(i, learner, f"{ns}les", t) for i, t in stamps.items()])
    return sorted(stamps, key=lambda i: (stamps[i], i), reverse=True)


def ids(window: Any) -> list[str]:
    return [getattr(r, "attempt_id", None) or r.view_id for r in window.rows]


def reader(store: Any, kind: str) -> Any:
    """``read(learner, limit=..., after=...)``: the kind's window method."""
    method = store.attempts_window if kind == "attempts" else store.views_window
    return lambda learner, **window: method(learner, WindowRequest(**window))


KINDS = pytest.mark.parametrize("kind", ["attempts", "views"])


@KINDS
async def test_windows_from_each_end_and_around_a_cursor(store: Any, kind: str) -> None:
    # minutes 0..4, two rows at minute 3: newest first x04, x03 x02 (tie by id), x01, x00
    order = await history(store, kind, [0, 1, 3, 3, 4])
    read = reader(store, kind)
    newest = await read("l", limit=2)
    assert ids(newest) == order[:2]
    assert (newest.has_newer, newest.has_older) == (False, True)
    oldest = await read("l", limit=2, backward=True)
    assert ids(oldest) == order[-2:]
    assert (oldest.has_newer, oldest.has_older) == (True, False)
    # the tie at minute 3 splits across windows without loss: after the first of the pair
    cur = {i: c for i, c in zip(ids(await read("l", limit=5)),
                                (await read("l", limit=5)).cursors, strict=True)}
    tied = order[1]
    assert ids(await read("l", limit=5, after=cur[tied])) == order[2:]
    back = await read("l", limit=1, before=cur[order[2]], backward=True)
    assert ids(back) == [tied] and (back.has_newer, back.has_older) == (True, True)
    between = await read("l", limit=9, after=cur[order[0]], before=cur[order[4]])
    assert ids(between) == order[1:4] and (between.has_newer, between.has_older) == (True, True)
    # everything at once, from either end: no flags
    for backward in (False, True):
        whole = await read("l", limit=9, backward=backward)
        assert ids(whole) == order and (whole.has_newer, whole.has_older) == (False, False)


@KINDS
async def test_empty_windows_still_say_what_lies_around_them(store: Any, kind: str) -> None:
    order = await history(store, kind, [0, 1, 2])
    read = reader(store, kind)
    cur = dict(zip(order, (await read("l", limit=3)).cursors, strict=True))
    none = await read("l", limit=0)
    assert (ids(none), none.cursors, none.has_newer, none.has_older) == ([], (), False, True)
    none = await read("l", limit=0, backward=True)
    assert (ids(none), none.has_newer, none.has_older) == ([], True, False)
    past_end = await read("l", limit=2, after=cur[order[-1]])
    assert (ids(past_end), past_end.has_newer, past_end.has_older) == ([], True, False)
    before_start = await read("l", limit=2, before=cur[order[0]], backward=True)
    assert (ids(before_start), before_start.has_newer, before_start.has_older) == (
        [], False, True)
    nobody = await read("nobody", limit=2, backward=True)
    assert (ids(nobody), nobody.has_newer, nobody.has_older) == ([], False, False)


@KINDS
@pytest.mark.parametrize("field", ["after", "before"])
async def test_a_foreign_cursor_is_refused_naming_its_argument(
    store: Any, kind: str, field: str
) -> None:
    await history(store, kind, [0])
    with pytest.raises(ValidationError) as err:
        await reader(store, kind)("l", limit=2, **{field: "not-a-cursor!"})
    assert err.value.field == field and "not-a-cursor!" in err.value.message
    with pytest.raises(ValidationError) as err:
        await reader(store, kind)("l", limit=-1)
    assert err.value.field == "limit"


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["attempts", "views"]),
       minutes=st.lists(st.integers(0, 3), max_size=12), size=st.integers(1, 5))
async def test_paging_backward_reverses_paging_forward(
    store: Any, kind: str, minutes: list[int], size: int
) -> None:
    ns = f"hw{next(_namespaces)}-"
    order = await history(store, kind, minutes, ns)
    read = reader(store, kind)
    count = store.attempt_count if kind == "attempts" else store.view_count
    forward: list[list[str]] = []
    after = None
    for _ in range(len(order) + 1):
        w = await read(f"{ns}l", limit=size, after=after)
        forward.append(ids(w))
        assert w.has_newer == (after is not None and bool(order))
        if not w.has_older:
            break
        after = w.cursors[-1]
    backward: list[list[str]] = []
    before = None
    for _ in range(len(order) + 1):
        w = await read(f"{ns}l", limit=size, before=before, backward=True)
        backward.append(ids(w))
        assert w.has_older == (before is not None and bool(order))
        if not w.has_newer:
            break
        before = w.cursors[0]
    assert [i for page in forward for i in page] == order
    assert [i for page in reversed(backward) for i in page] == order
    assert all(0 < len(p) <= size for p in forward + backward) or not order
    assert await count(f"{ns}l") == len(order)
