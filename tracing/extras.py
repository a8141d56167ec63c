"""The optional ``neural`` extra: PyTorch and PyTorch Geometric, for the neural tracers.

A plain ``pip install learngraph`` serves with BKT or Elo and never imports torch; DKT and the
graph-neural tracer (``dkt``, ``gnn``) need ``pip install 'learngraph[neural]'``. Asking for
one without it (training, activating or serving it, reading a neural tracer state) raises
:class:`NeuralExtraMissingError`, which names the extra and the command, instead of letting a
bare ``ImportError`` through.
"""

from __future__ import annotations

import importlib.util

from tracing.base import TracingError

#: the extra's name in pyproject.toml
NEURAL_EXTRA = "neural"
#: what installs it
NEURAL_PIP = f"pip install 'learngraph[{NEURAL_EXTRA}]'"
#: the top-level modules the extra provides
NEURAL_MODULES = ("torch", "torch_geometric")
#: the tracer kinds (``tracing.registry.TRACER_CLASSES``) that need it
NEURAL_TRACERS = ("dkt", "gnn")


class NeuralExtraMissingError(TracingError):
    """``what`` needs the ``neural`` extra (torch, torch-geometric), which is not installed;
    ``missing`` is the module that failed to import."""

    def __init__(self, what: str, missing: str) -> None:
        self.what, self.missing = what, missing
        super().__init__(
            f"{what} needs PyTorch and PyTorch Geometric (the {NEURAL_EXTRA!r} extra), and "
            f"{missing!r} is not installed: run `{NEURAL_PIP}` (or `pip install -e "
            f"'.[{NEURAL_EXTRA}]'` in a clone), or use a BKT or Elo tracer"
        )


def missing_neural_module(exc: ImportError) -> str | None:
    """The extra's module (``torch``, ``torch_geometric``) whose absence raised ``exc``, or
    None for any other import failure (a bug to show as it is)."""
    top = (exc.name or "").partition(".")[0]
    return top if top in NEURAL_MODULES else None


def absent_neural_module() -> str | None:
    """The first of the extra's modules that is not installed, or None when all are; looked
    up without importing them (torch takes seconds and hundreds of MB to import)."""
    for name in NEURAL_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):
            return name
    return None
