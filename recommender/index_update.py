"""The curriculum index after an edit, from the index in hand and the change log's entries.

A full rebuild (:func:`recommender.service.read_index`) reads every item (10,000 at the
benchmark's scale) and compiles the index again: about 0.4 s of CPU in the serving process.
Most edits touch little of it, so :func:`updated_index` applies the log's entries instead:

* an update of a skill the index already has (a rename, a description): nothing the index
  holds changed (it keeps ids, edges and the items' Q-matrix, seconds and difficulty), so the
  index is reused as it is, under the new version (:meth:`CurriculumIndex.with_version`,
  sharing its arrays and memoised closures);
* a new skill, or any prerequisite added, changed or removed: the prerequisite graph is read
  again (skills and edges, a few thousand rows, not the items);
* items added, changed or removed: only those items are read again (by id) and replace,
  join or leave the index's items; the arrays are compiled from the items in hand.

Everything is read again from the store as it is now, never taken from the entries' details:
applying an entry twice, or one the store has since moved past, gives the store's current
state, so the result is the full rebuild's. A removed skill takes its Q-matrix rows with it
without a log entry per item, and an entry of any other kind, or more than ``max_items``
touched items, is not applied: None asks the caller for a full rebuild.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Protocol

from graph.models import CurriculumChange, Item, PrerequisiteGraph
from recommender.index import CurriculumIndex, ItemSpec

#: Most touched items applied one by one; more and a full rebuild reads them all anyway.
MAX_ITEMS = 1000


class CurriculumSource(Protocol):
    """What :func:`updated_index` reads: a ``GraphStore``, or a curriculum already read
    (``recommender.engine.curriculum.CurriculumSnapshot``)."""

    async def prerequisite_graph(self) -> PrerequisiteGraph: ...

    async def get_items(self, ids: Sequence[str]) -> list[Item | None]: ...


def item_spec(item: Item) -> ItemSpec:
    """What the index keeps of an item."""
    return ItemSpec(
        id=item.id,
        skills=item.skill_ids,
        expected_seconds=float(item.expected_seconds),
        difficulty=float(item.difficulty),
    )


def only_skill_updates(changes: Sequence[CurriculumChange], known: Collection[str]) -> bool:
    """Every entry updates a skill in ``known`` (a rename, a description): nothing a
    structure built from skill ids, edges and items (the index, the tracer's view) holds."""
    return all(
        c.entity == "skill" and c.action == "upsert" and c.entity_id in known for c in changes
    )


async def updated_index(
    store: CurriculumSource,
    index: CurriculumIndex,
    changes: Sequence[CurriculumChange],
    version: str,
    *,
    max_items: int = MAX_ITEMS,
) -> CurriculumIndex | None:
    """The index of the store's curriculum after ``changes`` (the log's entries past the one
    ``index`` was built at, in order), or None when they cannot be applied (see the module
    docstring). The compiled index is built off the event loop.

    Raises what the store raises; a curriculum the index rejects (a cycle, an item naming a
    skill the graph read lacks) raises as :class:`CurriculumIndex` does: the caller falls
    back to a full rebuild."""
    graph_moved = False
    touched: set[str] = set()
    for c in changes:
        if c.entity == "skill" and c.action == "upsert":
            graph_moved |= c.entity_id not in index.skill_pos
        elif c.entity == "prerequisite" and c.action in ("upsert", "remove"):
            graph_moved = True
        elif c.entity == "item" and c.action in ("upsert", "remove"):
            touched.add(c.entity_id)
        else:
            return None
    if len(touched) > max_items:
        return None
    if not graph_moved and not touched:
        return index.with_version(version)
    ids = sorted(touched)
    graph, found = await asyncio.gather(
        store.prerequisite_graph() if graph_moved else _none(),
        store.get_items(ids) if ids else _no_items(),
    )
    specs = {it.id: it for it in index.item_specs}
    for item_id, item in zip(ids, found, strict=True):
        if item is None:
            specs.pop(item_id, None)
        else:
            specs[item_id] = item_spec(item)
    if graph is None:
        skill_ids: Sequence[str] = index.skill_ids
        edges = list(
            zip(
                [index.skill_ids[s] for s in index.edge_src.tolist()],
                [index.skill_ids[t] for t in index.edge_dst.tolist()],
                index.edge_strength.tolist(),
                strict=True,
            )
        )
    else:
        skill_ids = [s.id for s in graph.skills]
        edges = [(e.source, e.target, e.strength) for e in graph.edges]
    items = [specs[k] for k in sorted(specs)]
    return await asyncio.to_thread(CurriculumIndex, skill_ids, edges, items, version=version)


async def _none() -> None:
    return None


async def _no_items() -> list[Item | None]:
    return []
