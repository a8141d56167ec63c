"""The serving tracer on the recommendation path reads nothing of its own: the learner's
tracer state comes in the learner's snapshot (``GraphStore.learner_snapshot``) for the model in
hand, and the snapshot's serving probe tells it that the model was switched (by any process),
after which the new model's state is read and serves (both stores)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recommender import service
from tests.api.conftest import Api
from tests.api.test_tracer_admin import registry, two_models
from tracing.registry import Registry
from tracing.store_train import rebuild_for


class Counting:
    """The store, recording each call as (method, the tracer model it asked for)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls: list[tuple[str, str | None]] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            version = kwargs.get("tracer_model", args[1] if len(args) > 1 else None)
            self.calls.append((name, version if isinstance(version, str) else None))
            return await attr(*args, **kwargs)

        return call


async def test_the_tracer_state_comes_with_the_learner_and_a_switch_is_seen(
    api: Api, store: Any, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    await two_models(store, reg)  # bkt-v1 serves, every learner's state rebuilt for it
    updater = api.services.mastery
    cache = service.IndexCache()
    await cache.warm(store)
    counted = Counting(store)

    async def recommend() -> list[Any]:
        return await service.recommendations(
            counted,  # type: ignore[arg-type]
            "ada",
            ["mul"],
            3,
            cache=cache,
            tracer=updater.predictor,
            rng=np.random.default_rng(0),
        )

    await recommend()  # loads the serving model (its own probe: the first use only)
    counted.calls.clear()
    first = await recommend()
    assert counted.calls == [("learner_snapshot", "bkt-v1")]
    assert first

    # another process rebuilds the states for elo-v1 and switches the store to it
    await rebuild_for(store, registry=Registry(reg.root), key="elo-v1")
    await store.set_serving_model("elo-v1")
    counted.calls.clear()
    switched = await recommend()
    # the snapshot was read for the model in hand; its probe named elo-v1, so elo's state
    # was read and serves
    assert counted.calls == [("learner_snapshot", "bkt-v1"), ("load_tracer_states", "elo-v1")]
    model = updater.predictor.in_hand()
    assert model is not None and model.model_version == "elo-v1"
    predict = await updater.predictor("ada")  # the state read apart, for the same model
    assert predict is not None
    for r in switched:
        assert r.predicted_success == pytest.approx(float(predict([r.item])[0]))
    counted.calls.clear()
    assert await recommend() == switched
    assert counted.calls == [("learner_snapshot", "elo-v1")]
