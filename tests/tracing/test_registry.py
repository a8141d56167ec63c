"""The model registry: versions, the active model, atomic index, clear errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracing.base import TracingError, Vocabulary
from tracing.bkt import BKTTracer
from tracing.registry import Registry

VOCAB = Vocabulary(("q1",), ("s1",), ((0,),))


def test_versions_metadata_and_active(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    assert reg.list() == [] and reg.active() is None and reg.load_active() is None
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    a = reg.register(BKTTracer().with_vocab(VOCAB), data={"train": "x.csv"},
                     metrics={"auc": 0.7}, seed=4, now=t0)
    b = reg.register(BKTTracer(prior=0.2).with_vocab(VOCAB))
    assert (a.key, b.key) == ("bkt-v1", "bkt-v2")
    assert reg.active() == a  # the first model becomes active; later ones only on request
    assert a.created_at == t0.isoformat() and a.seed == 4 and a.metrics == {"auc": 0.7}
    reg.activate("bkt-v2")
    rec, model = reg.load_active()  # type: ignore[misc]
    assert rec.key == "bkt-v2" and model.params["prior"][0] == pytest.approx(0.2)
    assert [r.key for r in Registry(tmp_path).list()] == ["bkt-v1", "bkt-v2"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".registry.json.")]


def test_errors_name_the_fix(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    with pytest.raises(TracingError, match="no model 'bkt-v9' to activate"):
        reg.activate("bkt-v9")
    with pytest.raises(TracingError, match="must be letters"):
        reg.register(BKTTracer().with_vocab(VOCAB), name="../evil")
    (tmp_path / "registry.json").write_text("{not json")
    with pytest.raises(TracingError, match="delete it to start an empty registry"):
        reg.list()


def test_from_env(tmp_path: Path) -> None:
    assert Registry.from_env({"LEARNGRAPH_MODELS": str(tmp_path)}).root == tmp_path
    assert Registry.from_env({}).root == Path("./models")
