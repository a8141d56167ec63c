"""An install without the ``neural`` extra: torch and torch-geometric are optional.

The serving checks run in a fresh interpreter (``without_torch.py``) that makes both
unimportable before anything is imported, since this test process has them loaded already.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tracing.extras import NEURAL_EXTRA, NEURAL_PIP, NeuralExtraMissingError
from tracing.registry import tracer_class

ROOT = Path(__file__).resolve().parents[2]


def test_serving_on_sqlite_with_bkt_needs_no_torch(tmp_path: Path) -> None:
    """migrate, seed, the app's start-up, a recommendation and an attempt traced by BKT, with
    torch unimportable; asking for a GNN (train, activate, serve) names the extra instead."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LEARNGRAPH_DB", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "api" / "without_torch.py"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.rstrip().endswith("ok"), (
        f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    )


def test_the_package_metadata_has_the_neural_extra() -> None:
    meta = importlib.metadata.metadata("learngraph")
    assert NEURAL_EXTRA in (meta.get_all("Provides-Extra") or [])
    requires = importlib.metadata.requires("learngraph") or []
    by_name = {re.split(r"[<>=;\[ ]", r, maxsplit=1)[0].lower(): r for r in requires}
    for name in ("torch", "torch-geometric"):
        assert name in by_name, f"{name} is not in the metadata at all: {requires}"
        assert f'extra == "{NEURAL_EXTRA}"' in by_name[name], (
            f"{name} must be in the {NEURAL_EXTRA!r} extra only: {by_name[name]!r}"
        )
    # dev runs the whole suite, neural tracers included
    assert any(
        r.startswith(f"learngraph[{NEURAL_EXTRA}]") and 'extra == "dev"' in r for r in requires
    ), requires


def test_a_missing_torch_is_reported_with_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry turns the ImportError of a neural tracer's module into the typed error;
    any other import failure keeps its own message."""
    import builtins

    real_import = builtins.__import__

    def no_torch(name: str, *args: object, **kwargs: object) -> object:
        if name.partition(".")[0] in ("torch", "torch_geometric"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    for module in [m for m in sys.modules if m in ("tracing.gnn", "tracing.dkt")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr(builtins, "__import__", no_torch)
    for kind in ("gnn", "dkt"):
        with pytest.raises(NeuralExtraMissingError) as info:
            tracer_class(kind)
        assert info.value.missing == "torch"
        assert f"the {kind!r} tracer needs" in str(info.value) and NEURAL_PIP in str(info.value)
    assert tracer_class("bkt").__name__ == "BKTTracer"


def test_serve_checks_the_serving_model_without_importing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Registry.check_loadable`` (what ``serve`` runs before binding its port) refuses a
    registered GNN when torch is absent, and passes a BKT model or an unknown key."""
    import importlib.util
    import json

    from tracing import extras
    from tracing.registry import Registry

    records = [
        {
            "name": kind,
            "version": 1,
            "model": kind,
            "file": f"{kind}-v1.model",
            "created_at": "2026-01-01T00:00:00+00:00",
        }
        for kind in ("gnn", "bkt")
    ]
    (tmp_path / "registry.json").write_text(json.dumps({"models": records}))
    registry = Registry(tmp_path)
    registry.check_loadable("gnn-v1")  # torch is installed here
    real_find_spec = importlib.util.find_spec

    def without_geometric(name: str, package: str | None = None) -> object:
        return None if name == "torch_geometric" else real_find_spec(name, package)

    monkeypatch.setattr(extras.importlib.util, "find_spec", without_geometric)
    with pytest.raises(NeuralExtraMissingError) as info:
        registry.check_loadable("gnn-v1")
    assert info.value.missing == "torch_geometric" and NEURAL_PIP in str(info.value)
    registry.check_loadable("bkt-v1")
    registry.check_loadable("gnn-v9")  # unknown: serving falls back to BKT and logs it
