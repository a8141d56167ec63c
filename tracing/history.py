"""A learner's answers in time order, and replaying histories through a tracer.

Shared by the rebuild after a model switch (``tracing.store_train``) and by serving, which
re-traces a learner whose answers arrive out of time order (``tracing.serving``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from graph.models import Attempt
from graph.store import GraphStore
from tracing.base import BatchReplay, Interaction, Tracer

#: rows per store page of attempts
PAGE = 500


async def attempts_oldest_first(
    store: GraphStore, learner_id: str, *, page: int = PAGE
) -> list[Attempt]:
    """All of a learner's attempts in time order (ties by attempt id), from the newest-first
    ``attempts_of`` pages."""
    out: list[Attempt] = []
    cursor: str | None = None
    while True:
        part = await store.attempts_of(learner_id, limit=page, cursor=cursor)
        out += part.attempts
        cursor = part.next_cursor
        if cursor is None:
            break
    out.reverse()
    out.sort(key=lambda a: (a.timestamp, a.attempt_id))  # already so; cheap on sorted input
    return out


def replay_all(tracer: Tracer, histories: Sequence[Sequence[Interaction]]) -> list[Any]:
    """Each history's final state from ``init_state``: the tracer's batched ``replay`` when it
    has one (``tracing.base.BatchReplay``: the neural tracers, one recurrent pass per batch
    of learners; BKT, one numpy step per time step), else the ``update`` loop, one answer at
    a time (Elo)."""
    if isinstance(tracer, BatchReplay):
        return tracer.replay(histories)
    out: list[Any] = []
    for xs in histories:
        state = tracer.init_state()
        for x in xs:
            state = tracer.update(state, x)
        out.append(state)
    return out


def mastery_all(tracer: Tracer, states: Sequence[Any]) -> list[np.ndarray]:
    """``tracer.mastery`` of each state (as floats), in one ``mastery_many`` call when the
    tracer is a ``BatchReplay``."""
    if isinstance(tracer, BatchReplay):
        return list(np.asarray(tracer.mastery_many(states), dtype=float))
    return [np.asarray(tracer.mastery(st), dtype=float) for st in states]
