"""Recommendations rank items by the serving tracer's P(correct), not by a formula.

A hand-made tracer answers fixed per-item predictions that differ from the stored-mastery
formula (``p (1 - slip) + (1 - p) guess`` with guess 0.2, slip 0.1). Ada (seeded mastery:
count 0.95, add 0.7; goal mul) has two items of her next skill, ``add``; the formula gives both
0.69 (a coin flip between them), the tracer 0.30 and 0.72, so only ``i-add-2`` is in the
target band (0.6, 0.8).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pytest

from api.services import MasteryUpdater
from tests.api.conftest import EDGES, ITEMS, SKILLS, Api, ApiFactory
from tracing.base import Interaction, Vocabulary
from tracing.data import vocabulary_from_items
from tracing.serving import MasteryService

#: the tracer's P(correct) of each item (the formula says 0.69 for both add items)
TABLE = {"i-add-1": 0.30, "i-add-2": 0.72, "i-count": 0.91, "i-mul": 0.15}
#: the tracer's P(mastered), equal to the seeded mastery so the skill choice is unchanged
MASTERY = {"count": 0.95, "add": 0.7}
FORMULA_ADD = 0.7 * (1 - 0.1) + (1 - 0.7) * 0.2

RECORD = """
mutation($input: [AttemptInput!]!) {
  recordAttempts(input: $input) {
    __typename
    ... on RecordAttemptsPayload { recommendations(first: 3) { item { key } predictedSuccess } }
  }
}"""
QUERY = '{ learner(id: "ada") { recommendations(first: 3) { item { key } predictedSuccess } } }'


class TableTracer:
    """A tracer whose state is a fixed table of per-item predictions: it never learns."""

    name = "table"

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.calls: list[list[int]] = []

    def fit(
        self,
        sequences: Sequence[Sequence[Interaction]],
        vocab: Vocabulary,
        *,
        seed: int = 0,
        progress: Any = None,
    ) -> Self:
        return self

    def predict_sequences(self, sequences: Sequence[Sequence[Interaction]]) -> list[np.ndarray]:
        return [self.predict_state(self.init_state(), [x.item for x in s]) for s in sequences]

    def init_state(self) -> np.ndarray:
        return np.array([TABLE[i] for i in self.vocab.item_ids])

    def update(self, state: np.ndarray, interaction: Interaction) -> np.ndarray:
        return state

    def predict_state(self, state: np.ndarray, items: Sequence[int]) -> np.ndarray:
        self.calls.append(list(items))
        return np.asarray(state[np.asarray(items, dtype=np.int64)], dtype=float)

    def mastery(self, state: np.ndarray) -> np.ndarray:
        return np.array([MASTERY.get(s, 0.05) for s in self.vocab.skill_ids])

    def save(self, path: Path, metadata: dict[str, Any] | None = None) -> None:
        raise NotImplementedError

    @classmethod
    def load(cls, path: Path) -> Self:
        raise NotImplementedError


def table_tracer() -> TableTracer:
    return TableTracer(vocabulary_from_items(ITEMS, EDGES, [s.id for s in SKILLS]))


async def serve_table(make_api: ApiFactory, store: Any) -> tuple[Api, TableTracer]:
    api = await make_api()
    tracer = table_tracer()
    api.services.mastery = MasteryUpdater(store, MasteryService(tracer, "table", ITEMS))
    api.services.rng = lambda: np.random.default_rng(0)
    return api, tracer


def recs(body: dict[str, Any], *path: str) -> list[tuple[str, float]]:
    assert "errors" not in body, body
    node: Any = body["data"]
    for key in path:
        node = node[key]
    return [(r["item"]["key"], r["predictedSuccess"]) for r in node["recommendations"]]


async def test_recommendations_follow_the_serving_tracer(make_api: ApiFactory, store: Any) -> None:
    api, tracer = await serve_table(make_api, store)
    attempt = {
        "attemptId": "a1",
        "learnerId": "ada",
        "itemId": "i-count",
        "score": 1.0,
        "timestamp": "2024-05-02T09:00:00Z",
    }
    body = await api.gql(RECORD, {"input": [attempt]}, role="learner")
    assert body["data"]["recordAttempts"]["__typename"] == "RecordAttemptsPayload", body
    after_answer = recs(body, "recordAttempts")
    assert after_answer[0] == ("i-add-2", pytest.approx(TABLE["i-add-2"]))
    assert all(p == pytest.approx(TABLE[item]) for item, p in after_answer)
    # the same through the learner's own field; every candidate predicted in one call
    tracer.calls.clear()
    queried = recs(await api.gql(QUERY, role="learner"), "learner")
    assert queried == after_answer
    assert len(tracer.calls) == 1 and {"i-add-1", "i-add-2"} <= {
        tracer.vocab.item_ids[i] for i in tracer.calls[0]
    }


async def test_a_learner_without_tracer_state_gets_the_formula(
    make_api: ApiFactory, store: Any
) -> None:
    api, tracer = await serve_table(make_api, store)
    got = recs(await api.gql(QUERY, role="learner"), "learner")
    assert got and got[0][0] in {"i-add-1", "i-add-2"}
    assert got[0][1] == pytest.approx(FORMULA_ADD)
    assert tracer.calls == []
