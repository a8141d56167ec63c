"""ActivationJobs: a serving-model switch as a background job recorded in the store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from graph.models import ActivationState, TracerActivation
from tests.tracing.test_serving import EDGES, ITEMS, att, setup
from tracing.activation import ActivationJobs
from tracing.bkt import BKTTracer
from tracing.data import vocabulary_from_items
from tracing.registry import Registry
from tracing.switch import UnknownModelError


class Recording:
    """The store, keeping every activation record saved, in order."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.saved: list[TracerActivation] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def save_tracer_activation(self, job: TracerActivation) -> None:
        self.saved.append(job)
        await self._store.save_tracer_activation(job)


async def test_progress_is_recorded_and_the_final_record_is_last(store: Any,
                                                                tmp_path: Path) -> None:
    await setup(store)
    await store.record_attempts([att(f"a{k}", "ann", "q1", 1.0, k) for k in range(3)])
    reg = Registry(tmp_path / "models")
    rec = reg.register(BKTTracer(prior=0.5).with_vocab(vocabulary_from_items(ITEMS, EDGES)))
    recording = Recording(store)
    switched: list[str] = []
    jobs = ActivationJobs(recording, lambda: reg, every_s=0.0,  # type: ignore[arg-type]
                          on_done=lambda done: switched.append(done.key))
    with pytest.raises(UnknownModelError):
        await jobs.start("nope-v1")
    assert recording.saved == [], "a refused switch records nothing"

    started = await jobs.start(rec.key)
    assert (started.state, started.previous, started.progress) == (
        ActivationState.RUNNING, "bkt-default", 0.0)
    final = await jobs.wait(started.id)
    assert final is not None and final.state is ActivationState.SUCCEEDED
    assert (final.learners, final.attempts, final.passes, final.progress) == (1, 3, 1, 1.0)
    assert recording.saved[0] == started and recording.saved[-1] == final
    middle = recording.saved[1:-1]
    assert middle and all(j.state is ActivationState.RUNNING and 0 < j.progress < 1
                          for j in middle), "progress written while it ran"
    assert await store.get_tracer_activations([started.id]) == [final]
    assert await store.serving_model() == rec.key and switched == [rec.key]
    again = await jobs.start(rec.key)
    assert (again.state, again.changed) == (ActivationState.SUCCEEDED, False)
    assert await jobs.wait(again.id) == again


async def test_a_failed_switch_is_recorded_with_its_error(store: Any, tmp_path: Path) -> None:
    class Broken:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        async def save_tracer_states(self, rows: Any) -> None:
            raise RuntimeError("disk full")

    await setup(store)
    await store.record_attempts([att("a0", "ann", "q1", 1.0, 0)])
    reg = Registry(tmp_path / "models")
    rec = reg.register(BKTTracer().with_vocab(vocabulary_from_items(ITEMS, EDGES)))
    jobs = ActivationJobs(Broken(store), lambda: reg)  # type: ignore[arg-type]
    started = await jobs.start(rec.key)
    final = await jobs.wait(started.id)
    assert final == replace(started, state=ActivationState.FAILED, updated_at=final.updated_at,
                            finished_at=final.finished_at,
                            error="disk full; the served model is unchanged",
                            message="failed; the served model is unchanged")
    assert await store.serving_model() is None
    assert await store.get_tracer_activations([started.id]) == [final]
