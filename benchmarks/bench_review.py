"""The learner-level retention setting: what it trades, and what the forecast costs.

1. Trade-off. A cohort of simulated learners, each with ``--skills`` skills in review
   (stability log-uniform in [1, 60] days, last practised between 0 and 1.2 stabilities ago,
   so a few are overdue), is followed for ``--days`` days at each target retention:

   * ``forecast``: :func:`recommender.review.forecast`, what ``reviewForecast`` shows (every
     review on its due day and recalled);
   * ``simulated``: the same schedule where each review is recalled with the model's own
     probability R at that moment (a lapse shrinks stability by :func:`recommender.review.update`
     and brings the next review closer), averaged over the cohort, with the mean recall of the
     learner's skills sampled once a day. This is the baseline the forecast is checked against:
     the forecast should be a lower bound, close at high retention.

2. Cost. ``forecast`` for one learner at the 5 default retentions, in process, against the
   review queue (``due_reviews``) on the same states; and the service calls
   ``review_forecast`` vs ``review_queue`` on a SQLite store (same reads: the learner and 500
   attempts), all in the same process.

Usage::

    nice .venv/bin/python benchmarks/bench_review.py [--learners 200] [--skills 60] \
        [--days 30] [--calls 300] [--plot docs/img/review_tradeoff.png] [--json out.json]

Progress on stderr; prints the tables as markdown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.models import Attempt, Item, ItemKind, Learner, Skill, SkillWeight  # noqa: E402
from recommender import review as rv  # noqa: E402
from recommender import service  # noqa: E402

RETENTIONS = (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cohort(
    rng: np.random.Generator, learners: int, skills: int, now: float
) -> list[list[rv.ReviewState]]:
    out = []
    for _ in range(learners):
        stab = np.exp(rng.uniform(math.log(1.0), math.log(60.0), skills))
        ago = rng.uniform(0.0, 1.2, skills) * stab
        out.append(
            [
                rv.ReviewState(f"s{k}", float(s), now - float(a) * rv.DAY, reps=1)
                for k, (s, a) in enumerate(zip(stab, ago, strict=True))
            ]
        )
    return out


def simulate(
    states: list[rv.ReviewState],
    now: float,
    retention: float,
    days: int,
    rng: np.random.Generator,
) -> tuple[int, int, float]:
    """(reviews, lapses, mean recall over daily samples) with recall drawn at each review."""
    end = now + days * rv.DAY
    samples = now + rv.DAY * (np.arange(days) + 0.5)
    reviews = lapses = 0
    recall_sum = 0.0
    for st in states:
        s: rv.ReviewState = st
        k = 0
        while True:
            due = max(s.last_practice + rv.interval_days(s.stability_days, retention) * rv.DAY, now)
            if due > end:
                due = math.inf
            while k < days and samples[k] < due:
                recall_sum += rv.retrievability(
                    (samples[k] - s.last_practice) / rv.DAY, s.stability_days
                )
                k += 1
            if due == math.inf:
                break
            recall = rv.retrievability((due - s.last_practice) / rv.DAY, s.stability_days)
            ok = bool(rng.random() < recall)
            new = rv.update(s, s.skill, ok, due)
            assert new is not None
            s = new
            reviews += 1
            lapses += not ok
    return reviews, lapses, recall_sum / max(days * len(states), 1)


def timed(fn: Callable[[], Any], calls: int) -> dict[str, float]:
    wall, cpu = [], []
    for _ in range(calls):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    w, c = np.asarray(wall) * 1e3, np.asarray(cpu) * 1e3
    return {
        "median_ms": float(np.median(w)),
        "p99_ms": float(np.percentile(w, 99)),
        "cpu_median_ms": float(np.median(c)),
        "n": calls,
    }


async def service_costs(skills: int, attempts: int, calls: int) -> dict[str, dict[str, float]]:
    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(str(Path(tmp) / "bench.db"))
        try:
            await migrate(store)
            await store.upsert_skills([Skill(f"s{k}", f"S{k}") for k in range(skills)], actor="b")
            await store.upsert_items(
                [
                    Item(f"i{k}", ItemKind.EXERCISE, f"I{k}", (SkillWeight(f"s{k}"),))
                    for k in range(skills)
                ],
                actor="b",
            )
            await store.upsert_learners([Learner("ann", "Ann", target_retention=0.85)])
            minutes = np.sort(rng.uniform(0, 60 * 24 * 90, attempts))
            await store.record_attempts(
                [
                    Attempt(
                        f"a{n}",
                        "ann",
                        f"i{int(rng.integers(skills))}",
                        float(rng.random() < 0.8),
                        t0 + timedelta(minutes=float(m)),
                    )
                    for n, m in enumerate(minutes)
                ]
            )
            cache = service.IndexCache()
            now = t0 + timedelta(days=91)
            out: dict[str, dict[str, float]] = {}
            for name, make in (
                ("review_queue", lambda: service.review_queue(store, "ann", cache=cache, now=now)),
                (
                    "review_forecast",
                    lambda: service.review_forecast(store, "ann", cache=cache, now=now),
                ),
            ):
                await make()  # warm the index cache
                wall, cpu = [], []
                for _ in range(calls):
                    w0, c0 = time.perf_counter(), time.process_time()
                    await make()
                    wall.append(time.perf_counter() - w0)
                    cpu.append(time.process_time() - c0)
                w, c = np.asarray(wall) * 1e3, np.asarray(cpu) * 1e3
                out[name] = {
                    "median_ms": float(np.median(w)),
                    "p99_ms": float(np.percentile(w, 99)),
                    "cpu_median_ms": float(np.median(c)),
                    "n": calls,
                }
                log(f"  service {name}: median {out[name]['median_ms']:.2f} ms")
            return out
        finally:
            await store.close()


def plot(rows: list[dict[str, float]], days: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = [x["retention"] for x in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(r, [x["forecast"] for x in rows], "o-", label="forecast (all recalled)")
    ax.plot(r, [x["simulated"] for x in rows], "s--", label="simulated with lapses")
    ax.set_xlabel("target retention")
    ax.set_ylabel(f"reviews per learner, next {days} days")
    ax2 = ax.twinx()
    ax2.plot(r, [x["forecast_recall"] for x in rows], "^-", color="tab:green",
             label="mean recall (forecast)")
    ax2.plot(r, [x["recall"] for x in rows], "v:", color="tab:olive",
             label="mean recall (simulated)")
    ax2.set_ylabel("mean recall of the learner's skills")
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [str(ln.get_label()) for ln in lines], loc="upper left")
    ax.set_title("Retention setting: workload vs recall")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    log(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--learners", type=int, default=200)
    p.add_argument("--skills", type=int, default=60)
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--plot", type=Path)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    now = datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    people = cohort(rng, args.learners, args.skills, now)
    rows = []
    for r in RETENTIONS:
        fc = [rv.forecast(states, now, r, args.days) for states in people]
        sim = [simulate(states, now, r, args.days, rng) for states in people]
        row = {
            "retention": r,
            "forecast": float(np.mean([f.reviews for f in fc])),
            "forecast_recall": float(np.mean([f.mean_recall or 0.0 for f in fc])),
            "simulated": float(np.mean([x[0] for x in sim])),
            "lapses": float(np.mean([x[1] for x in sim])),
            "recall": float(np.mean([x[2] for x in sim])),
        }
        rows.append(row)
        log(
            f"retention {r}: forecast {row['forecast']:.1f}, simulated {row['simulated']:.1f} "
            f"reviews, recall {row['recall']:.3f}"
        )

    one = people[0]
    log("timing forecast vs due_reviews in process")
    inproc = {
        "forecast x5": timed(
            lambda: [rv.forecast(one, now, r, args.days) for r in service.FORECAST_RETENTIONS],
            args.calls,
        ),
        "due_reviews": timed(lambda: rv.due_reviews(one, now, 0.9), args.calls),
    }
    log("timing the service calls on SQLite")
    svc = asyncio.run(service_costs(args.skills, 500, args.calls))

    print(
        f"\n{args.learners} learners x {args.skills} skills, next {args.days} days "
        f"(per learner, mean)\n"
    )
    print("| target retention | forecast reviews | simulated reviews (with lapses) | "
          "forecast / simulated | lapses | mean recall, forecast | mean recall, simulated |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['retention']:.2f} | {row['forecast']:.1f} | {row['simulated']:.1f} | "
            f"{row['forecast'] / row['simulated']:.2f} | {row['lapses']:.1f} | "
            f"{row['forecast_recall']:.3f} | {row['recall']:.3f} |"
        )
    print("\n| call | median ms (p99) | CPU median ms | ratio vs baseline |")
    print("|---|---:|---:|---:|")
    pairs = [
        ("forecast x5", inproc["forecast x5"], inproc["due_reviews"]),
        ("due_reviews (baseline)", inproc["due_reviews"], inproc["due_reviews"]),
        ("service.review_forecast", svc["review_forecast"], svc["review_queue"]),
        ("service.review_queue (baseline)", svc["review_queue"], svc["review_queue"]),
    ]
    for name, s, base in pairs:
        print(
            f"| {name} | {s['median_ms']:.3f} ({s['p99_ms']:.3f}) | {s['cpu_median_ms']:.3f} | "
            f"x{s['median_ms'] / base['median_ms']:.2f} |"
        )
    if args.plot:
        plot(rows, args.days, args.plot)
    if args.json:
        args.json.write_text(json.dumps({"tradeoff": rows, "in_process": inproc,
                                         "service": svc, "args": vars(args) | {
                                             "plot": str(args.plot), "json": str(args.json)}},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
