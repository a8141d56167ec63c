"""``service.recommendations`` with a serving tracer's predictions, on both stores: they rank
the items and are the answered P(success); the stored-mastery formula only fills in for a
learner without tracer state and for items the tracer cannot place (NaN)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from recommender import service
from recommender.next_item import Predictor
from tests.recommender.test_service import mastery, seed_diamond

#: ann has mastered A (0.95), so B and C are ready; the formula gives all their items 0.2
FORMULA_UNSEEN = 0.2
TRACED = {"B0": 0.35, "B1": 0.7, "C1": 0.75}  # C0: NaN (the tracer cannot place it)


class FakeTracer:
    """A ``TracerPredictions``: a fixed table per learner, None for unknown learners; logs
    every predictor call."""

    def __init__(self, table: dict[str, dict[str, float]]) -> None:
        self.table = table
        self.loads: list[str] = []
        self.calls: list[list[str]] = []

    async def __call__(self, learner_id: str) -> Predictor | None:
        self.loads.append(learner_id)
        known = self.table.get(learner_id)
        if known is None:
            return None

        def predict(item_ids: Sequence[str]) -> np.ndarray:
            self.calls.append(list(item_ids))
            return np.array([known.get(i, np.nan) for i in item_ids])

        return predict


async def test_tracer_predictions_rank_items_and_the_formula_fills_gaps(store: Any) -> None:
    await seed_diamond(store)
    await store.save_mastery(mastery("ann", A=0.95) + mastery("bob", A=0.95))
    tracer = FakeTracer({"ann": TRACED})
    cache = service.IndexCache()
    recs = await service.recommendations(
        store, "ann", ["D"], first=2, cache=cache, tracer=tracer, rng=np.random.default_rng(0)
    )
    got = {r.skill: (r.item, r.predicted_success) for r in recs}
    # B1 is in the band (0.6, 0.8), B0 below it; C1 in the band, C0 has the formula's 0.2
    assert got == {"B": ("B1", pytest.approx(0.7)), "C": ("C1", pytest.approx(0.75))}
    assert tracer.loads == ["ann"] and len(tracer.calls) == 1
    assert set(tracer.calls[0]) == {"B0", "B1", "C0", "C1"}  # one batched call
    # bob has no tracer state: the formula, for every item
    bob = await service.recommendations(
        store, "bob", ["D"], first=2, cache=cache, tracer=tracer, rng=np.random.default_rng(0)
    )
    assert {r.skill for r in bob} == {"B", "C"}
    assert all(r.predicted_success == pytest.approx(FORMULA_UNSEEN) for r in bob)
    assert tracer.loads == ["ann", "bob"] and len(tracer.calls) == 1


async def test_a_given_predictor_wins_over_the_tracer(store: Any) -> None:
    await seed_diamond(store)
    await store.save_mastery(mastery("ann", A=0.95))
    tracer = FakeTracer({"ann": TRACED})
    recs = await service.recommendations(
        store,
        "ann",
        ["D"],
        first=2,
        cache=service.IndexCache(),
        tracer=tracer,
        predict=lambda ids: np.full(len(ids), 0.65),
        rng=np.random.default_rng(0),
    )
    assert recs and all(r.predicted_success == pytest.approx(0.65) for r in recs)
    assert tracer.loads == []


def test_with_fallback_calls_the_fallback_only_for_nan() -> None:
    asked: list[list[str]] = []

    def fallback(ids: Sequence[str]) -> np.ndarray:
        asked.append(list(ids))
        return np.full(len(ids), 0.2)

    both = service.with_fallback(lambda ids: np.array([0.9, np.nan, 0.4]), fallback)
    assert both(["a", "b", "c"]).tolist() == pytest.approx([0.9, 0.2, 0.4])
    assert asked == [["b"]]
    assert service.with_fallback(lambda ids: np.ones(len(ids)), fallback)(["x"]).tolist() == [1.0]
    assert asked == [["b"]]
    with pytest.raises(service.InvalidParameterError, match="one probability per item"):
        service.with_fallback(lambda ids: np.ones(5), fallback)(["x"])
