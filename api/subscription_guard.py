"""Subscriptions last only as long as the caller's right to them.

A subscription is authorised once, when it starts, but may stream for hours. :func:`guarded`
wraps its stream of messages so that

* before each event it re-checks the token's expiry (against ``Services.clock``) and the
  caller's access (a teacher taken off the learner's group stops receiving that learner's
  updates at the next event);
* while waiting for the next event it stops when the token expires (plus the leeway), so an
  idle subscription does not outlive its token either;
* each access check runs within the request timeout (``Limits.timeout_s``).

A refusal ends the subscription with a typed error (``UNAUTHENTICATED`` for an expired token,
``FORBIDDEN`` for revoked access), after which graphql-transport-ws sends ``complete``; the
client subscribes again with a fresh token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from api.context import Context
from api.errors import ForbiddenError, LimitExceededError, UnauthenticatedError

T = TypeVar("T")

Denial = Callable[[], Awaitable[str | None]]


def _expired_error(ctx: Context) -> UnauthenticatedError:
    expires_at = ctx.principal.expires_at if ctx.principal else None
    when = f" at {expires_at.isoformat()}" if expires_at else ""
    return UnauthenticatedError(
        f"the bearer token expired{when}; the subscription has ended: subscribe again on a "
        "connection opened with a new token"
    )


def _seconds_left(ctx: Context) -> float | None:
    """Seconds until the caller's token expires; None for no token (public data)."""
    if ctx.principal is None or ctx.principal.expires_at is None:
        return None
    return (ctx.principal.expires_at - ctx.services.clock()).total_seconds()


async def _check(ctx: Context, denial: Denial) -> None:
    left = _seconds_left(ctx)
    if left is not None and left <= 0:
        raise _expired_error(ctx)
    timeout_s = ctx.limits.timeout_s
    try:
        async with asyncio.timeout(timeout_s):
            reason = await denial()
    except TimeoutError:
        raise LimitExceededError(
            f"checking access to the subscription took longer than {timeout_s} s; "
            "subscribe again later",
            limit="timeout_s",
        ) from None
    if reason is not None:
        raise ForbiddenError(reason)


async def guarded(ctx: Context, messages: AsyncIterator[T], denial: Denial) -> AsyncIterator[T]:
    """``messages``, while the caller's token is valid and ``denial()`` is None (see the
    module docstring). Checked once before the first wait, then before every event."""
    await _check(ctx, denial)
    loop = asyncio.get_running_loop()
    while True:
        left = _seconds_left(ctx)
        deadline = None if left is None else loop.time() + max(left, 0.0)
        waiting = asyncio.timeout_at(deadline)
        try:
            async with waiting:
                message = await anext(messages)
        except TimeoutError:
            if waiting.expired():
                raise _expired_error(ctx) from None
            raise
        except StopAsyncIteration:
            return
        ctx.fresh_loaders()  # each event sees the store as it is now (rosters included)
        await _check(ctx, denial)
        yield message
