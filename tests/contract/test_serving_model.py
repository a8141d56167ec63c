"""Contract: each store keeps its own serving tracer model and the records of the jobs that
switch it (issue 11 item 9: before, two stores served from one ``./models`` shared the active
model, so switching one switched the other without rebuilding its learners)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from graph.models import ActivationState, TracerActivation
from graph.store import ValidationError

T = datetime(2026, 4, 1, 8, 0, 0, 123456, tzinfo=UTC)
JOB = TracerActivation(
    "job-1", "gnn-v2", ActivationState.RUNNING, T, T, previous="bkt-default", message="rebuilding"
)


async def test_the_serving_model_is_the_stores_own(store: Any, tmp_path: Path) -> None:
    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate

    assert await store.serving_model() is None  # BKT with population defaults
    await store.set_serving_model("gnn-v2")
    assert await store.serving_model() == "gnn-v2"
    other = await SqliteStore.open(str(tmp_path / "other.db"))
    try:
        await migrate(other)
        assert await other.serving_model() is None
        await other.set_serving_model("elo-v1")
        assert await store.serving_model() == "gnn-v2"
    finally:
        await other.close()
    await store.set_serving_model(None)
    assert await store.serving_model() is None
    for bad in ("", "  ", 3):
        with pytest.raises(ValidationError) as exc:
            await store.set_serving_model(bad)
        assert exc.value.field == "model_version"


async def test_activation_records_round_trip_and_are_replaced(store: Any) -> None:
    assert await store.get_tracer_activations(["job-1"]) == [None]
    await store.save_tracer_activation(JOB)
    assert await store.get_tracer_activations(["nope", "job-1"]) == [None, JOB]
    done = replace(
        JOB,
        state=ActivationState.FAILED,
        progress=0.5,
        error="disk full",
        updated_at=T + timedelta(seconds=3),
        finished_at=T + timedelta(seconds=3),
        learners=2,
        attempts=7,
        passes=1,
        missed=1,
        changed=False,
    )
    await store.save_tracer_activation(done)
    assert await store.get_tracer_activations(["job-1"]) == [done]
    back = replace(done, state=ActivationState.SUCCEEDED, error=None, finished_at=None)
    await store.save_tracer_activation(back)
    assert await store.get_tracer_activations(["job-1"]) == [back]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id", " "),
        ("key", ""),
        ("state", "done"),
        ("progress", 1.5),
        ("progress", float("nan")),
        ("learners", -1),
        ("passes", 1.0),
        ("started_at", datetime(2026, 1, 1)),
    ],
)
async def test_bad_activation_records_are_refused(store: Any, field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        await store.save_tracer_activation(replace(JOB, **{field: value}))
    assert exc.value.field == {"key": "model_version"}.get(field, field)
    assert await store.get_tracer_activations([JOB.id]) == [None]
