"""Relay paging arguments (``first``/``after`` forward, ``last``/``before`` backward) over
lists ordered by key, and the page size rules they share.

:func:`page_size` checks the arguments: ``first`` and ``last`` are exclusive, each in
``[0, max_first]`` (default: ``default_first`` items from the start). :func:`window` cuts a
page out of keys already in memory (a group's learners); store-backed connections pass the
same size and direction to the store (``GraphStore.list_skills(..., backward=True)``), and
:func:`history_page` does so for a learner's attempts and views (keyset windows, newest first).
``hasPreviousPage`` / ``hasNextPage`` say whether keys exist before / after the page at all.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from api.errors import BadInputError, LimitExceededError
from api.limits import Limits
from api.types.node import PageInfo, decode_cursor, encode_cursor
from graph.models import HistoryWindow, WindowRequest
from graph.store import ValidationError as StoreValidationError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Checked paging arguments: ``size`` items, from the end when ``backward``, strictly
    between the keys ``after`` and ``before`` (None: unbounded)."""

    size: int
    backward: bool
    after: str | None
    before: str | None


def page_size(
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
    limits: Limits,
    default: int | None = None,
) -> PageRequest:
    """``default``: the size when neither ``first`` nor ``last`` is given (``default_first``
    unless said otherwise)."""
    if first is not None and last is not None:
        raise BadInputError(
            f"first={first} and last={last} were both given; page forward with first/after "
            "or backward with last/before",
            argument="last",
        )
    for name, value in (("first", first), ("last", last)):
        if value is None:
            continue
        if value < 0:
            raise BadInputError(
                f"{name}={value} is negative; ask for 0 to {limits.max_first} items",
                argument=name,
            )
        if value > limits.max_first:
            raise LimitExceededError(
                f"{name}={value} is above the cap of {limits.max_first}; page with "
                f"`{'after' if name == 'first' else 'before'}` instead",
                limit="max_first",
            )
    if default is None:
        default = limits.default_first
    size = first if first is not None else last if last is not None else default
    return PageRequest(
        size=size,
        backward=last is not None,
        after=decode_cursor(after, "after"),
        before=decode_cursor(before, "before"),
    )


def window(keys: Sequence[str], request: PageRequest) -> tuple[list[str], PageInfo]:
    """The page of ``keys`` (sorted ascending, distinct) that ``request`` asks for."""
    lo = 0 if request.after is None else bisect_right(keys, request.after)
    hi = len(keys) if request.before is None else bisect_left(keys, request.before)
    hi = max(lo, hi)
    if request.backward:
        start, end = max(lo, hi - request.size), hi
    else:
        start, end = lo, min(hi, lo + request.size)
    page = list(keys[start:end])
    return page, page_info_of(page, has_previous=start > 0, has_next=end < len(keys))


def page_info_of(keys: Sequence[str], *, has_previous: bool, has_next: bool) -> PageInfo:
    return PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=encode_cursor(keys[0]) if keys else None,
        end_cursor=encode_cursor(keys[-1]) if keys else None,
    )


#: a store's window reader for one learner: ``GraphStore.attempts_window`` and the like
WindowReader = Callable[[str, WindowRequest], Awaitable[HistoryWindow[T]]]


async def history_page(
    read: WindowReader[T],
    learner_id: str,
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
    limits: Limits,
) -> tuple[list[tuple[T, str]], PageInfo]:
    """A page of a learner's history (newest first) and its page info: ``first`` after
    ``after`` pages toward older rows, ``last`` before ``before`` toward newer ones. Each
    edge's cursor is the row's own keyset position, so resuming from any cursor neither skips
    nor repeats a row, even while new ones arrive."""
    request = page_size(first, last, after, before, limits)
    try:
        window = await read(learner_id, WindowRequest(request.size, request.after,
                                                      request.before, request.backward))
    except StoreValidationError as exc:  # a cursor of this API that the store did not issue
        argument = "before" if exc.field == "before" else "after"
        given = before if argument == "before" else after
        raise BadInputError(f"{argument}={given!r}: {exc.message}", argument=argument) from None
    cursors = [encode_cursor(c) for c in window.cursors]
    return list(zip(window.rows, cursors, strict=True)), PageInfo(
        has_next_page=window.has_older,
        has_previous_page=window.has_newer,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
