"""Make a request's timeout pass at a point the test chooses.

A test of the request timeout that sets a small ``timeout_s`` and a slow store races the
machine: under load the work before the slow call can itself outlast the limit. Instead the
test keeps the generous test timeout and, at the slow call, makes the request's deadline pass
now (``asyncio.Timeout.reschedule``): the request is stopped exactly there, by the real
timeout path of :mod:`api.http` (or of :mod:`api.ws_limits` over WebSocket).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import api.limits


class RequestDeadlines:
    """Records each execution's deadline (``api.limits.deadline``, over HTTP and WebSocket);
    :meth:`expire` makes the newest one pass now."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.made: list[asyncio.Timeout] = []
        real = api.limits.deadline

        def recording(delay: float | None) -> Any:
            deadline = real(delay)
            self.made.append(deadline)
            return deadline

        monkeypatch.setattr(api.limits, "deadline", recording)

    def expire(self) -> None:
        self.made[-1].reschedule(asyncio.get_running_loop().time())

    async def expire_and_hang(self) -> None:
        """Call at the point where the request is to be stopped: it is, there."""
        self.expire()
        await asyncio.Event().wait()
