"""The model registry: versions, atomic index, clear errors. It holds model files only: the
serving model is each store's (``tests/contract/test_serving_model.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tracing.base import TracingError, Vocabulary
from tracing.bkt import BKTTracer
from tracing.registry import Registry

VOCAB = Vocabulary(("q1",), ("s1",), ((0,),))


def test_versions_and_metadata(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    assert reg.list() == []
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    a = reg.register(BKTTracer().with_vocab(VOCAB), data={"train": "x.csv"},
                     metrics={"auc": 0.7}, seed=4, now=t0)
    b = reg.register(BKTTracer(prior=0.2).with_vocab(VOCAB))
    assert (a.key, b.key) == ("bkt-v1", "bkt-v2")
    assert a.created_at == t0.isoformat() and a.seed == 4 and a.metrics == {"auc": 0.7}
    rec, model = reg.load("bkt-v2")
    assert rec == b and model.params["prior"][0] == pytest.approx(0.2)
    assert [r.key for r in Registry(tmp_path).list()] == ["bkt-v1", "bkt-v2"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".registry.json.")]


def test_errors_name_the_fix(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    with pytest.raises(TracingError, match="no model 'bkt-v9'"):
        reg.load("bkt-v9")
    with pytest.raises(TracingError, match="must be letters"):
        reg.register(BKTTracer().with_vocab(VOCAB), name="../evil")
    (tmp_path / "registry.json").write_text("{not json")
    with pytest.raises(TracingError, match="delete it to start an empty registry"):
        reg.list()


def test_from_env(tmp_path: Path) -> None:
    assert Registry.from_env({"LEARNGRAPH_MODELS": str(tmp_path)}).root == tmp_path
    assert Registry.from_env({}).root == Path("./models")


def test_an_old_index_loses_its_active_entry(tmp_path: Path) -> None:
    """A registry.json from when the registry held the active model still reads; its
    ``active`` entry is ignored and dropped at the next write."""
    import json

    reg = Registry(tmp_path)
    reg.register(BKTTracer().with_vocab(VOCAB))
    doc = json.loads((tmp_path / "registry.json").read_text())
    assert "active" not in doc
    doc["active"] = "bkt-v1"
    (tmp_path / "registry.json").write_text(json.dumps(doc))
    assert [r.key for r in reg.list()] == ["bkt-v1"]
    reg.register(BKTTracer().with_vocab(VOCAB))
    assert "active" not in json.loads((tmp_path / "registry.json").read_text())
