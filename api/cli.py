"""The ``learngraph`` command line.

Each package contributes its commands through a ``register(subparsers)`` function in its own
``cli`` module; heavy imports (torch, the stores) happen inside the command handlers so that
``learngraph --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = (
    "graph.server_cli",  # neo4j start / stop
    "migrations.cli",  # migrate
    "graph.curriculum_cli",  # curriculum import / export
    "seed.cli",  # seed
    "api.serve_cli",  # serve, token
    "tracing.cli",  # trace evaluate / train
    "seed.simulation.cli",  # simulate
    "recommender.catalogue.cli",  # recommend evaluate / tag / tag-evaluate
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="learngraph",
        description="Adaptive-learning engine: GraphQL API over a knowledge graph.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; expected failures print ``error: ...`` and exit with status 2."""
    from graph.store import GraphStoreError
    from tracing.base import TracingError

    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (GraphStoreError, TracingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
