"""Seeding benchmark: ``learngraph seed`` end to end on a fresh SQLite store.

Each of ``--repeats`` rounds, in one process:

1. simulates ``--learners`` learners with ``--seed`` (the demo curriculum and policy);
2. writes everything into a fresh, migrated SQLite file with attempts in batches of
   ``--batch`` (default 1,000, what ``learngraph seed`` uses), timing each attempt batch;
3. re-runs the write on the same store (the idempotent path: compare, write nothing);
4. baseline, same process, same rows: the write into another fresh file with batches of
   ``--baseline-batch`` (default 100).

Prints medians and p99s over the rounds, attempt throughput, the ratio to the baseline, and
the AUC of the true P(correct) on the simulated answers (the ceiling for any tracer).
``--plot PATH`` also draws the simulated population (learning curve, true mastery over time).

Usage::

    python benchmarks/bench_seed.py --learners 500 --seed 7 --repeats 3 \\
        --plot docs/img/seed_population.png
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.sqlite_store import SqliteStore  # noqa: E402
from migrations.runner import migrate  # noqa: E402
from seed.curriculum import Curriculum, demo_curriculum  # noqa: E402
from seed.populate import SeedReport, populate  # noqa: E402
from seed.population import Population, simulate_population  # noqa: E402
from seed.simulator import DAY  # noqa: E402


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


async def write_fresh(
    path: Path, cur: Curriculum, pop: Population, batch: int
) -> tuple[SeedReport, list[float], float]:
    """Seed a fresh file; returns the report, per-batch seconds and the idempotent re-run time."""
    store = await SqliteStore.open(str(path))
    try:
        await migrate(store)
        marks: list[float] = [time.perf_counter()]

        def tick(_message: str, _fraction: float) -> None:
            marks.append(time.perf_counter())

        report = await populate(store, cur, pop, batch_size=batch, progress=tick)
        # the first mark precedes the curriculum and people writes; keep attempt batches only
        batches = [b - a for a, b in zip(marks[1:], marks[2:], strict=False)]
        started = time.perf_counter()
        again = await populate(store, cur, pop, batch_size=batch)
        rerun = time.perf_counter() - started
        if again.wrote_anything:
            raise SystemExit("re-run wrote data: seeding is not idempotent")
        return report, batches, rerun
    finally:
        await store.close()


def plot(pop: Population, cur: Curriculum, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    primary = {i.id: i.skills[0].skill_id for i in cur.items}
    runs: dict[tuple[str, str], list[float]] = {}
    for a in pop.truth.attempts:
        runs.setdefault((a.learner_id, primary[a.item_id]), []).append(float(a.correct))
    cohorts = {"3 attempts": (3, 3), "4-6 attempts": (4, 6), "7-10 attempts": (7, 10)}
    days = np.arange(0, 61, 2)
    truth = pop.truth
    mastered = np.array(
        [
            [sum(lt.mastered(s, lt.created_at + d * DAY) for s in truth.skill_ids) for d in days]
            for lt in truth.learners.values()
        ],
        dtype=float,
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, (lo, hi) in cohorts.items():
        rows = [r[:lo] for r in runs.values() if lo <= len(r) <= hi]
        if len(rows) >= 20:
            curve = np.mean(np.array(rows), axis=0)
            left.plot(range(1, lo + 1), curve, "o-", label=f"{label} on the skill (n={len(rows)})")
    left.set_xlabel("attempt number on the skill")
    left.set_ylabel("share correct")
    left.set_title("Learning curves, by how long a learner stayed on a skill")
    left.legend(loc="lower right")
    left.grid(alpha=0.3)
    q25, q50, q75 = np.percentile(mastered, [25, 50, 75], axis=0)
    right.fill_between(days, q25, q75, alpha=0.25, label="25-75% of learners")
    right.plot(days, q50, label="median")
    right.set_xlabel("days since the learner started")
    right.set_ylabel("skills truly mastered")
    right.set_title(f"True mastery over time ({len(truth.learners)} learners)")
    right.legend()
    right.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot written to {path}")


async def main(args: argparse.Namespace) -> None:
    cur = demo_curriculum()
    sim_s: list[float] = []
    sim_cpu: list[float] = []
    write_s: list[float] = []
    total_s: list[float] = []
    rerun_s: list[float] = []
    base_s: list[float] = []
    batch_s: list[float] = []
    pop: Population | None = None
    n_attempts = 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            pop = simulate_population(cur, n_learners=args.learners, seed=args.seed)
            t1, c1 = time.perf_counter(), time.process_time()
            sim_cpu.append(c1 - c0)
            report, batches, rerun = await write_fresh(Path(tmp, f"s{r}.db"), cur, pop, args.batch)
            t2 = time.perf_counter()
            base, _, _ = await write_fresh(Path(tmp, f"b{r}.db"), cur, pop, args.baseline_batch)
            n_attempts = report.attempts_stored
            sim_s.append(t1 - t0)
            write_s.append(report.seconds)
            total_s.append(t1 - t0 + report.seconds)
            rerun_s.append(rerun)
            base_s.append(base.seconds)
            batch_s += batches
            print(
                f"round {r + 1}/{args.repeats}: simulate {t1 - t0:.2f} s, write "
                f"{report.seconds:.2f} s, re-run {rerun:.2f} s, baseline write "
                f"{base.seconds:.2f} s ({t2 - t0:.1f} s so far this round)",
                file=sys.stderr,
            )
    med = statistics.median
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"learners={args.learners} seed={args.seed} attempts={n_attempts} repeats={args.repeats}")
    print(
        f"simulate       median {med(sim_s):6.2f} s   p99 {p99(sim_s):6.2f} s   "
        f"(CPU time median {med(sim_cpu):.2f} s)"
    )
    print(f"store write    median {med(write_s):6.2f} s   p99 {p99(write_s):6.2f} s")
    print(f"seed total     median {med(total_s):6.2f} s   p99 {p99(total_s):6.2f} s")
    print(f"idempotent re-run (nothing written) median {med(rerun_s):6.2f} s")
    print(
        f"attempt batch of {args.batch}: median {1000 * med(batch_s):.1f} ms, "
        f"p99 {1000 * p99(batch_s):.1f} ms"
    )
    print(f"write throughput: {n_attempts / med(write_s):,.0f} attempts/s (incl. curriculum)")
    print(
        f"baseline (batches of {args.baseline_batch}): median {med(base_s):.2f} s; "
        f"batch {args.batch} is {med(base_s) / med(write_s):.2f}x faster"
    )
    if pop is not None:
        from sklearn.metrics import log_loss, roc_auc_score

        p = [a.p_correct for a in pop.truth.attempts]
        y = [int(a.correct) for a in pop.truth.attempts]
        print(
            f"ceiling for tracers (the true P(correct) as the prediction): AUC "
            f"{roc_auc_score(y, p):.4f}, log loss {log_loss(y, p):.4f}, "
            f"share correct {sum(y) / len(y):.4f}"
        )
    if args.plot and pop is not None:
        plot(pop, cur, args.plot)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--baseline-batch", type=int, default=100)
    parser.add_argument("--plot", type=Path, default=None)
    return parser.parse_args(argv)


if __name__ == "__main__":
    args: Any = parse()
    asyncio.run(main(args))
