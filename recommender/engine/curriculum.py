"""One read of the curriculum per change-log seq, shared by everything built from it.

The recommender's index (:class:`recommender.service.IndexCache`) and the serving tracer's
view (:class:`recommender.engine.tracer.MasteryUpdater`) are both built from the prerequisite
graph and every item. Each used to read them itself: two reads of the whole curriculum (10,000
items at the benchmark's scale) after every edit, made at different times, so the two could be
built from different curricula. :class:`CurriculumReads` makes that one read: the first caller
at a change-log seq reads the graph and the items (a :class:`CurriculumSnapshot`), the others
at the same seq get that snapshot, concurrent callers share the read in flight.

A snapshot is labelled with the seq its caller read *before* it (the change log's tail): an
edit landing between the two is in the content and moves the tail past the label, so the next
check rebuilds again, never the reverse (a label newer than the content).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from graph.models import Item, PrerequisiteGraph
from graph.store import GraphStore

PAGE = 1000


async def all_items(store: GraphStore) -> list[Item]:
    """Every item of the store, paged, in the store's order."""
    items: list[Item] = []
    after: str | None = None
    while True:
        page = await store.list_items(after=after, limit=PAGE)
        items.extend(page)
        if len(page) < PAGE:
            return items
        after = page[-1].id


@dataclass(frozen=True, slots=True)
class CurriculumSnapshot:
    """The curriculum as read at change-log seq ``seq``: the graph and every item (in the
    store's order, which the tracer's view keeps; the index sorts them itself).

    It also answers the two reads an incremental index update makes
    (:class:`recommender.index_update.CurriculumSource`), from memory."""

    seq: int
    graph: PrerequisiteGraph
    items: tuple[Item, ...]
    _by_id: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {it.id: it for it in self.items})

    async def prerequisite_graph(self) -> PrerequisiteGraph:
        return self.graph

    async def get_items(self, ids: Sequence[str]) -> list[Item | None]:
        return [self._by_id.get(i) for i in ids]


class CurriculumReads:
    """The newest :class:`CurriculumSnapshot`, read at most once per change-log seq.

    Args:
        on_read: called with the seq of each snapshot read from the store (the engine uses it
            to bring its other caches to that seq).
    """

    def __init__(self, on_read: Callable[[int], None] | None = None) -> None:
        self._on_read = on_read
        self._latest: CurriculumSnapshot | None = None
        self._pending: dict[int, asyncio.Task[CurriculumSnapshot]] = {}
        #: how many snapshots were read from the store (tests, logs)
        self.reads = 0

    @property
    def latest(self) -> CurriculumSnapshot | None:
        """The newest snapshot read (None before the first)."""
        return self._latest

    async def at(self, store: GraphStore, seq: int) -> CurriculumSnapshot:
        """The curriculum at change-log seq ``seq`` (the tail the caller has just read): the
        snapshot in hand when it was read at ``seq``, else one read of the store shared with
        every concurrent caller asking for the same seq."""
        latest = self._latest
        if latest is not None and latest.seq == seq:
            return latest
        task = self._pending.get(seq)
        if task is None:
            task = asyncio.ensure_future(self._read(store, seq))
            self._pending[seq] = task
            task.add_done_callback(lambda _: self._pending.pop(seq, None))
        return await asyncio.shield(task)

    async def _read(self, store: GraphStore, seq: int) -> CurriculumSnapshot:
        graph, items = await asyncio.gather(store.prerequisite_graph(), all_items(store))
        snapshot = CurriculumSnapshot(seq, graph, tuple(items))
        self.reads += 1
        if self._latest is None or seq >= self._latest.seq:
            self._latest = snapshot
        if self._on_read is not None:
            self._on_read(seq)
        return snapshot
