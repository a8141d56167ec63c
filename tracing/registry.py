"""A directory registry of saved tracer model files.

Which model serves a store is the store's own (``GraphStore.serving_model``, switched by
``tracing.switch``), not the registry's: several stores may be served from one registry, each
with its own model, and switching one leaves the others alone. (A ``registry.json`` written
before this had an ``"active"`` entry; it is ignored, and dropped at the next write.)

Layout of the registry directory (``$LEARNGRAPH_MODELS``, default ``./models``)::

    registry.json          {"models": [ModelRecord, ...]}
    bkt-v1.model           the file written by the tracer's own ``save``
    bkt-v2.model
    .lock                  serialises writers (fcntl)

Each record carries the model kind, name and version, the data it was trained on, its
metrics, seed and creation time. Every write (model file, index) is atomic: a temporary file
renamed over the old one, so a crash leaves either the old or the new registry.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracing.base import Tracer, TracingError
from tracing.extras import (
    NEURAL_TRACERS,
    NeuralExtraMissingError,
    absent_neural_module,
    missing_neural_module,
)

ENV_VAR = "LEARNGRAPH_MODELS"
INDEX = "registry.json"

#: model kind -> "module:Class", imported lazily (torch only when a neural model is used)
TRACER_CLASSES: dict[str, str] = {
    "bkt": "tracing.bkt:BKTTracer",
    "elo": "tracing.elo:EloTracer",
    "dkt": "tracing.dkt:DKTTracer",
    "gnn": "tracing.gnn:GNNTracer",
}


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def tracer_class(kind: str) -> type[Any]:
    """The tracer class for a model kind (``bkt``, ``elo``, ``dkt``, ``gnn``). Raises
    :class:`~tracing.extras.NeuralExtraMissingError` for ``dkt`` or ``gnn`` without torch."""
    import importlib

    target = TRACER_CLASSES.get(kind)
    if target is None:
        raise TracingError(f"unknown model {kind!r}; use one of {', '.join(TRACER_CLASSES)}")
    module, cls = target.split(":")
    try:
        return getattr(importlib.import_module(module), cls)  # type: ignore[no-any-return]
    except ImportError as exc:
        missing = missing_neural_module(exc)
        if missing is not None:
            raise NeuralExtraMissingError(f"the {kind!r} tracer", missing) from exc
        raise TracingError(f"model {kind!r} is not available ({exc}); "
                           f"{module}.{cls} must exist") from exc
    except AttributeError as exc:
        raise TracingError(f"model {kind!r} is not available ({exc}); "
                           f"{module}.{cls} must exist") from exc


@dataclass(frozen=True)
class ModelRecord:
    """One registered model. ``key`` (``name-vN``) is its model version string."""

    name: str
    version: int
    model: str
    file: str
    created_at: str
    seed: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.name}-v{self.version}"


class Registry:
    """Models saved under ``root``; see the module docstring for the layout."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Registry:
        env = os.environ if environ is None else environ
        return cls(env.get(ENV_VAR) or "./models")

    # -- index ---------------------------------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        path = self.root / INDEX
        if not path.exists():
            return {"models": []}
        try:
            doc: dict[str, Any] = json.loads(path.read_text())
        except ValueError as exc:
            raise TracingError(f"{path} is not valid JSON ({exc}); restore it from a backup "
                               "or delete it to start an empty registry") from exc
        return doc

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                doc = self._read()
                doc.pop("active", None)  # the serving model is the store's (module docstring)
                yield doc
                atomic_write_text(self.root / INDEX, json.dumps(doc, indent=2))
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def list(self) -> builtins.list[ModelRecord]:
        """Every registered model, oldest first."""
        return [ModelRecord(**m) for m in self._read()["models"]]

    def get(self, key: str) -> ModelRecord:
        for rec in self.list():
            if rec.key == key:
                return rec
        known = ", ".join(r.key for r in self.list()) or "none"
        raise TracingError(f"no model {key!r} in {self.root} (registered: {known})")

    # -- writes --------------------------------------------------------------------------------
    def register(
        self,
        tracer: Tracer,
        *,
        name: str | None = None,
        data: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        seed: int | None = None,
        now: datetime | None = None,
    ) -> ModelRecord:
        """Save ``tracer`` as the next version of ``name`` (default: its kind)."""
        name = name or tracer.name
        if not name.replace("-", "").replace("_", "").isalnum():
            raise TracingError(f"model name {name!r} must be letters, digits, '-' or '_'")
        with self._locked() as doc:
            version = 1 + max((m["version"] for m in doc["models"] if m["name"] == name),
                              default=0)
            rec = ModelRecord(
                name=name, version=version, model=tracer.name,
                file=f"{name}-v{version}.model",
                created_at=(now or datetime.now(UTC)).isoformat(),
                seed=seed, data=data or {}, metrics=metrics or {},
            )
            meta = {k: v for k, v in asdict(rec).items() if k != "file"}
            meta["model_version"] = rec.key
            tracer.save(self.root / rec.file, meta)
            doc["models"].append(asdict(rec))
        return rec

    # -- loading -------------------------------------------------------------------------------
    def check_loadable(self, key: str) -> None:
        """Raise :class:`~tracing.extras.NeuralExtraMissingError` when registered model
        ``key`` is a neural tracer and torch is not installed (a server checks its store's
        serving model before it starts; nothing is imported). An unknown key passes: serving
        falls back to BKT defaults for it and logs why."""
        found = next((r for r in self.list() if r.key == key), None)
        if found is None or found.model not in NEURAL_TRACERS:
            return
        missing = absent_neural_module()
        if missing is not None:
            raise NeuralExtraMissingError(f"the {found.model!r} tracer", missing)

    def load(self, key: str) -> tuple[ModelRecord, Any]:
        rec = self.get(key)
        return rec, tracer_class(rec.model).load(self.root / rec.file)
