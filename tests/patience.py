"""How long a test waits for something that is expected to happen "soon".

The suite runs on shared machines at load averages of 5-15, where a step that takes 50 ms
when idle can take seconds. A wait that is part of what a test checks would make the test
depend on the machine's speed, so every such wait here is a bound on a hang only:
:data:`PATIENCE_S` is far longer than any expected step, and a test that passes never waits
for it. Tests of time limits themselves (the request timeout, the Neo4j transaction timeout)
set their own small limit against a controlled slow operation instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

#: the most a test waits for an event it expects (only a hang reaches it)
PATIENCE_S = 120.0


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    what: str,
    *,
    within_s: float = PATIENCE_S,
    step_s: float = 0.02,
) -> None:
    """Poll ``check`` (sync or async) every ``step_s`` until it is true; fail naming ``what``
    after ``within_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while True:
        got = check()
        if not isinstance(got, bool):
            got = await got
        if got:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {within_s} s")
        await asyncio.sleep(step_s)
