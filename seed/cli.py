"""``learngraph seed [--db URL] [--learners 500] [--seed 7] [--truth PATH]``.

Fills a migrated store with the demo curriculum and a simulated population (classes of 25 with
a teacher each, a designer, an admin, learners with practice histories), then writes the
simulation's truth file. Re-running with the same seed writes nothing new.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from graph.open import add_db_argument
from seed.errors import SeedError


class Progress:
    """Progress on one status line (redrawn in place on a terminal, every 10% otherwise)."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self._last_step = -1
        self._label = ""

    def __call__(self, message: str, fraction: float) -> None:
        if self.quiet:
            return
        if self.tty:
            self.stream.write(f"\r{message} ({fraction:4.0%})\x1b[K")
            if fraction >= 1.0:
                self.stream.write("\n")
            self.stream.flush()
            return
        step = int(fraction * 10)
        if step != self._last_step:
            self._last_step = step
            self.stream.write(f"{message} ({fraction:.0%})\n")
            self.stream.flush()

    def reset(self) -> None:
        self._last_step = -1


def default_truth_path(db_url: str) -> Path:
    """``<db file>.truth.jsonl`` beside a SQLite file (``learngraph.db.truth.jsonl``, which
    the repository's ``/learngraph.db*`` ignore rule covers); ``./seed-truth.jsonl`` otherwise."""
    from graph.open import sqlite_path

    if db_url.lower().startswith("sqlite://"):
        path = sqlite_path(db_url)
        if path != ":memory:":
            p = Path(path)
            return p.with_name(f"{p.name}.truth.jsonl")
    return Path("seed-truth.jsonl")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def register(sub: Any) -> None:
    """Add ``seed`` to the learngraph parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "seed",
        help="fill the store with the demo curriculum and simulated learners",
        description="Write the demo curriculum (school mathematics, counting to early "
        "algebra), users, classes and simulated learners with practice histories into a "
        "migrated store, and the simulation's truth (true mastery over time, true P(correct) "
        "of every attempt) to a JSON Lines file. Same seed, same data: a re-run writes nothing.",
    )
    add_db_argument(parser)
    parser.add_argument(
        "--learners", type=_positive, default=500, help="learners to simulate (default 500)"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--truth",
        type=Path,
        default=None,
        metavar="PATH",
        help="where to write the truth (JSON Lines; default <db file>.truth.jsonl beside a SQLite "
        "file, ./seed-truth.jsonl for Neo4j)",
    )
    parser.add_argument(
        "--batch-size", type=_positive, default=1000, help="attempts per write (default 1000)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(
            seed_store(
                args.db,
                n_learners=args.learners,
                seed=args.seed,
                truth=args.truth,
                batch_size=args.batch_size,
                progress=Progress(quiet=args.quiet),
            )
        )
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


async def seed_store(
    db_flag: str | None,
    *,
    n_learners: int,
    seed: int,
    truth: Path | None,
    batch_size: int = 1000,
    progress: Progress | None = None,
) -> int:
    """Simulate, write to the store named by ``db_flag`` (or ``LEARNGRAPH_DB``), write truth."""
    from graph.open import open_store, resolve_db_url
    from migrations.runner import ensure_migrated
    from seed.curriculum import demo_curriculum
    from seed.populate import populate
    from seed.population import simulate_population
    from seed.truth import write_truth

    progress = progress or Progress()
    url = resolve_db_url(db_flag)
    truth_path = truth or default_truth_path(url)
    store = await open_store(url)
    try:
        await ensure_migrated(store, url)  # fail before the simulation, not after it
        started = time.perf_counter()
        curriculum = demo_curriculum()
        population = simulate_population(
            curriculum, n_learners=n_learners, seed=seed, progress=progress
        )
        simulated = time.perf_counter()
        progress.reset()
        from graph.models import PrerequisiteGraph
        from tracing.serving import MasteryService

        tracer = MasteryService.for_curriculum(
            PrerequisiteGraph(tuple(curriculum.skills), tuple(curriculum.edges)),
            curriculum.items, active=await store.serving_model(),
        )
        report = await populate(
            store, curriculum, population, batch_size=batch_size, progress=progress,
            mastery=tracer,
        )
    finally:
        await store.close()
    write_truth(population.truth, truth_path)
    total = time.perf_counter() - started
    print(
        f"{url}: {len(curriculum.skills)} skills, {len(curriculum.edges)} prerequisites, "
        f"{len(curriculum.items)} items; {len(population.learners)} learners in "
        f"{len(population.groups)} classes; {len(population.attempts)} attempts "
        f"({report.attempts_stored} new, {report.attempts_already} already stored); "
        f"mastery traced for {report.mastery_learners} learners"
    )
    if not report.wrote_anything:
        print("nothing new to write: the store already holds this seed's data")
    print(f"truth: {truth_path}")
    print(
        f"took {total:.1f} s (simulation {simulated - started:.1f} s, "
        f"store writes {report.seconds:.1f} s)"
    )
    return 0
