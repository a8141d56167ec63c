"""Contract: an item's practice fields (prompt, choices, answer key, hints, explanation) are
stored and read back whole by every store, and replaced by an upsert."""

from __future__ import annotations

from typing import Any

import pytest

from graph.store import ValidationError
from tests.contract.helpers import ACTOR, item, skill

CONTENT = {
    "prompt": "What is 3/4 − 1/4? Give the answer in lowest terms.",
    "choices": ("1/2", "2/4 ", "1", "½ (a half)"),
    "answers": ("1/2",),
    "hints": ("Same denominator: subtract the numerators.", "3 − 1 = 2 quarters."),
    "explanation": "3/4 − 1/4 = 2/4 = 1/2.\nNewlines and ünïcode stay.",
}


async def test_practice_fields_round_trip_through_every_read(store: Any) -> None:
    await store.upsert_skills([skill("frac")], actor=ACTOR)
    full = item("q1", "frac", **CONTENT)
    bare = item("q2", "frac")
    await store.upsert_items([full, bare], actor=ACTOR)
    assert await store.get_items(["q1", "q2"]) == [full, bare]
    assert await store.list_items(limit=10) == [full, bare]
    assert await store.items_for_skills(["frac"]) == [[full, bare]]
    (got,) = await store.get_items(["q2"])
    assert (got.prompt, got.choices, got.answers, got.hints, got.explanation) == (
        "", (), (), (), "")


async def test_an_upsert_replaces_the_practice_fields(store: Any) -> None:
    await store.upsert_skills([skill("frac")], actor=ACTOR)
    await store.upsert_items([item("q1", "frac", **CONTENT)], actor=ACTOR)
    free = item("q1", "frac", prompt="1/2 of 10?", answers=("5", "five"), hints=("Halve it.",))
    await store.upsert_items([free], actor=ACTOR)
    assert await store.get_items(["q1"]) == [free]


async def test_a_bad_answer_key_is_refused_before_anything_is_written(store: Any) -> None:
    await store.upsert_skills([skill("frac")], actor=ACTOR)
    bad = item("q1", "frac", choices=("a", "b"), answers=("c",))
    with pytest.raises(ValidationError) as caught:
        await store.upsert_items([item("q0", "frac"), bad], actor=ACTOR)
    assert caught.value.field == "item.answers" and "'c'" in caught.value.message
    assert await store.get_items(["q0", "q1"]) == [None, None]
