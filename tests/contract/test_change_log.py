"""Contract: every curriculum write appends to the change log, in order, with what it did.

The log's shape, shared by both stores: ``action`` is ``"upsert"`` or ``"remove"``; ``entity``
is ``"skill"``, ``"item"`` or ``"prerequisite"``; ``entity_id`` is the skill or item id, or
``"source->target"`` for an edge; an edge's ``detail`` holds its ``source`` and ``target``
(and ``strength`` on upsert); a skill upsert's ``detail`` holds its ``name``. Removing a skill
logs the removal of each of its edges before the skill itself. Writes that change nothing
(removing ids that do not exist) log nothing; refused writes log nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from graph.models import Prerequisite
from tests.contract.helpers import item, skill


def entries(log: list[Any]) -> list[tuple[str, str, str, str]]:
    return [(c.actor, c.action, c.entity, c.entity_id) for c in log]


async def test_change_log_records_who_did_what_in_order(store: Any) -> None:
    start = datetime.now(UTC) - timedelta(seconds=5)
    await store.upsert_skills([skill("a", name="Alpha"), skill("b")], actor="ann")
    await store.upsert_prerequisites([Prerequisite("a", "b", 0.6)], actor="bob")
    await store.upsert_items([item("i1", "a")], actor="ann")
    await store.remove_items(["i1", "ghost"], actor="cy")
    await store.remove_prerequisites([("a", "b"), ("b", "a")], actor="cy")
    await store.upsert_prerequisites([Prerequisite("a", "b")], actor="bob")
    await store.remove_skills(["a", "zz"], actor="dee")

    log = await store.change_log()
    assert entries(log) == [
        ("ann", "upsert", "skill", "a"),
        ("ann", "upsert", "skill", "b"),
        ("bob", "upsert", "prerequisite", "a->b"),
        ("ann", "upsert", "item", "i1"),
        ("cy", "remove", "item", "i1"),
        ("cy", "remove", "prerequisite", "a->b"),
        ("bob", "upsert", "prerequisite", "a->b"),
        ("dee", "remove", "prerequisite", "a->b"),
        ("dee", "remove", "skill", "a"),
    ]
    seqs = [c.seq for c in log]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert log[0].detail["name"] == "Alpha"
    assert log[2].detail["source"] == "a" and log[2].detail["target"] == "b"
    assert log[2].detail["strength"] == 0.6
    assert all(c.at.tzinfo is not None and c.at >= start for c in log)
    assert [c.at for c in log] == sorted(c.at for c in log)


async def test_change_log_pages_by_seq(store: Any) -> None:
    await store.upsert_skills([skill(f"s{i}") for i in range(7)], actor="ann")
    everything = await store.change_log()
    first = await store.change_log(limit=3)
    rest = await store.change_log(after_seq=first[-1].seq, limit=100)
    assert first + rest == everything and len(everything) == 7
    assert await store.change_log(after_seq=everything[-1].seq) == []
