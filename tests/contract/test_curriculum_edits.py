"""Contract: a planned curriculum edit is written as one transaction (``apply_curriculum``),
only on the snapshot it was planned on; deleting a skill archives the learners' mastery rows
and goals and the class goals of it under the batch, and the undo puts them back; every change
of a batch is logged with the batch and its before and after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from graph import curriculum_edit as ce
from graph.models import Group, GroupGoal, Learner, Mastery, Prerequisite
from tests.contract.helpers import item, skill

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


async def seed(store: Any) -> None:
    await store.upsert_skills([skill("a"), skill("b"), skill("c")], actor="seed")
    await store.upsert_prerequisites([Prerequisite("a", "b"), Prerequisite("b", "c")],
                                     actor="seed")
    await store.upsert_items([item("i1", "b"), item("i2", "a")], actor="seed")
    await store.upsert_learners([Learner("l1", "L1", goals=("c", "b")), Learner("l2", "L2")])
    await store.upsert_groups([Group("g", "G", learner_ids=("l1",))])
    await store.set_group_goals("g", [GroupGoal("b", T0, "by March", set_by="tess")])
    await store.save_mastery([Mastery("l1", "b", 0.9, 0.1, T0, "m"),
                              Mastery("l2", "b", 0.3, 0.2, T0, "m"),
                              Mastery("l1", "a", 0.95, 0.1, T0, "m")])


async def apply(store: Any, edits: list[ce.Edit], restore: dict[str, int] | None = None
                ) -> ce.Applied:
    out: ce.Outcome[None] = await ce.run_edits(store, edits, actor="dee", restore=restore)
    assert out.applied is not None
    return out.applied


async def test_a_plan_is_written_only_on_its_own_snapshot(store: Any) -> None:
    await seed(store)
    snap = await store.curriculum_snapshot()
    assert snap.seq == await store.last_change_seq() > 0
    planned = ce.plan([ce.DropPrerequisite("a", "b")], snap)
    await store.upsert_skills([skill("d")], actor="other")  # the log moves on
    graph = await store.prerequisite_graph()
    with pytest.raises(ce.CurriculumMovedError):
        await store.apply_curriculum(planned.diff, actor="dee", base_seq=snap.seq)
    assert await store.prerequisite_graph() == graph
    applied = await apply(store, [ce.DropPrerequisite("a", "b")])  # re-planned: goes through
    assert applied.batch == snap.seq + 2
    assert ("a", "b") not in {(e.source, e.target) for e in
                              (await store.prerequisite_graph()).edges}


async def test_deleting_a_skill_archives_its_data_and_undo_restores_it(store: Any) -> None:
    await seed(store)
    before = (await store.prerequisite_graph(), await store.get_items(["i1", "i2"]),
              await store.get_learners(["l1"]), await store.mastery_of(["l1", "l2"]),
              await store.group_goals(["g"]))
    deleted = await apply(store, [ce.DropSkill("b")])
    assert deleted.archived == {"b": (2, 1, 1)}
    assert [(c.entity, c.entity_id, c.batch) for c in deleted.changes] == [
        ("prerequisite", "a->b", deleted.batch), ("prerequisite", "b->c", deleted.batch),
        ("item", "i1", deleted.batch), ("skill", "b", deleted.batch)]
    assert deleted.changes[2].before is not None and deleted.changes[2].after is not None
    assert deleted.changes[2].before["skills"] == [{"skill_id": "b", "weight": 1.0}]
    assert deleted.changes[2].after["skills"] == []
    assert await store.get_learners(["l1"]) == [Learner("l1", "L1", goals=("c",))]
    assert await store.group_goals(["g"]) == [()]
    assert deleted.batch is not None
    assert await store.change_batch(deleted.batch + 3) == list(deleted.changes)
    assert await store.change_log(after_seq=deleted.batch - 1) == list(deleted.changes)

    edits, restore, first = await ce.undo_batch(store, deleted.batch + 1)
    assert first == deleted.batch and restore == {"b": deleted.batch}
    undone = await apply(store, edits, restore)
    assert undone.restored == {"b": (2, 1, 1)}
    after = (await store.prerequisite_graph(), await store.get_items(["i1", "i2"]),
             await store.get_learners(["l1"]), await store.mastery_of(["l1", "l2"]),
             await store.group_goals(["g"]))
    # the goal comes back at its old position: l1's goals read back in order c, b
    assert after == before


async def test_an_edit_that_changes_nothing_writes_no_batch(store: Any) -> None:
    await seed(store)
    seq = await store.last_change_seq()
    out: ce.Outcome[None] = await ce.run_edits(
        store, [ce.DropPrerequisite("c", "a")], actor="dee")
    assert out.applied is not None and out.applied.batch is None
    assert await store.last_change_seq() == seq
    assert await store.change_batch(10_000) == []
