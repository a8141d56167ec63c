"""What every mutation resolver shares: running its body with expected failures turned into
the members of its result union.

A body returns its payload, or stops early with :func:`allow` (access refused ->
``ForbiddenError``), :func:`existing` (unknown id -> ``NotFoundError``) or :func:`absent`
(id taken -> ``ValidationError``); :func:`guarded`
maps those, the store's expected errors and bad arguments to union members. Anything else
propagates (and is masked as an internal error).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from api.errors import BadInputError
from api.types.errors import Error, ForbiddenError, NotFoundError, ValidationError, store_error
from graph.store import GraphStoreError

T = TypeVar("T")


class Refusal(Exception):
    """Raised inside a guarded body to answer with ``error`` instead of a payload."""

    def __init__(self, error: Error) -> None:
        super().__init__(error.message)
        self.error = error


def allow(denial: str | None) -> None:
    """Go on when access is allowed (``denial`` is None); otherwise the mutation answers a
    ``ForbiddenError`` with the denial as its message."""
    if denial is not None:
        raise Refusal(ForbiddenError(message=denial))


async def existing(
    get: Callable[[Sequence[str]], Awaitable[Sequence[T | None]]], entity: str, key: str
) -> T:
    """The stored object ``key`` read with the store's ``get`` (e.g. ``store.get_items``);
    the mutation answers a ``NotFoundError`` naming ``entity`` when there is none."""
    (found,) = await get([key])
    if found is None:
        raise Refusal(NotFoundError.of(entity, [key]))
    return found


async def absent(
    get: Callable[[Sequence[str]], Awaitable[Sequence[object | None]]], key: str, message: str
) -> None:
    """Go on when nothing is stored under ``key`` yet (read with the store's ``get``); otherwise
    the mutation answers a ``ValidationError`` on ``id`` with ``message``."""
    (found,) = await get([key])
    if found is not None:
        raise Refusal(ValidationError(field="id", message=message))


async def guarded(body: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``body``, turning expected failures into union members."""
    try:
        return await body()
    except Refusal as exc:
        return exc.error
    except GraphStoreError as exc:
        return store_error(exc)
    except BadInputError as exc:
        return ValidationError(field=str(exc.extensions.get("argument", "id")), message=exc.message)
