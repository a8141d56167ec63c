"""The serving tracer's view of the curriculum after an edit
(``recommender.engine.MasteryUpdater``): a rename keeps the view in hand (nothing it holds
moved), an edit of items or edges builds a new one, whether the edit was made by this process
or found in the change log (both stores)."""

from __future__ import annotations

from typing import Any

from api.services import MasteryUpdater
from graph.models import Item, ItemKind, Prerequisite, Skill, SkillWeight
from tests.recommender.test_index_update import seed


async def test_a_rename_keeps_the_view_and_an_item_edit_rebuilds_it(store: Any) -> None:
    await seed(store)
    updater = MasteryUpdater(store)
    first = await updater.service()

    await store.upsert_skills([Skill("A", "Addition")], actor="t")
    updater.invalidate_curriculum()  # an edit made here
    assert await updater.service() is first
    await store.upsert_skills([Skill("B", "Subtraction")], actor="other process")
    assert await updater.service() is first  # found in the change log

    await store.upsert_items(
        [Item("E0", ItemKind.EXERCISE, "E 0", (SkillWeight("E"),))], actor="other process"
    )
    second = await updater.service()
    assert second is not first
    assert await updater.service() is second  # nothing moved since

    await store.upsert_skills([Skill("F", "new skill")], actor="t")
    updater.invalidate_curriculum()
    third = await updater.service()
    assert third is not second  # a new skill is structure, not a rename
    await store.upsert_prerequisites([Prerequisite("E", "F")], actor="t")
    assert await updater.service() is not third
