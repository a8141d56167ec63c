"""Learning-gain counts derived from stored attempts (``GraphStore.item_gain_counts``).

For the store named by ``--db`` (default: a fresh SQLite file in a temporary folder):

1. builds ``--skills`` skills with ``--items-per-skill`` exercises each (every fifth item also
   assesses a second skill, listed after its main one) and ``--learners`` learners;
2. for each size in ``--attempts`` (cumulative: the log grows to each size in turn), records
   attempts in batches (each learner practises a few skills, several attempts per skill,
   timestamps to the second so ties occur) and then measures, ``--repeats`` times:

   * the full aggregate ``item_gain_counts()`` (what :class:`recommender.gains.GainCache`
     reads at most once per ``max_age``): median and p99;
   * the aggregate for one page of 20 items (what ``Item.learningGain`` costs a page);
   * a warm ``GainCache.get`` (what a recommendation pays between refreshes);
   * one learner's history (``attempts_of``, 50 rows: the read every recommendation makes)
     alone, and while a full aggregate runs concurrently (what requests see during a
     refresh); on SQLite also while the aggregate runs on the store's worker thread instead
     of its side connection (the design it replaced);

3. as a baseline in the same process, on the same attempts: the pure-Python reference
   (:func:`recommender.gains.reference_gain_counts`) given the attempts already in memory,
   and the ratio of the store's aggregate to it; the two answers must agree.

Usage::

    python benchmarks/bench_item_gains.py                                  # SQLite
    python benchmarks/bench_item_gains.py --db bolt://127.0.0.1:7705 --wipe --attempts 20000,100000
    python benchmarks/bench_item_gains.py --json out.json --plot docs/img/item_gains.png

``--wipe`` empties a Neo4j database first (it refuses to run on one holding data otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.models import Attempt, Item, ItemKind, Learner, Skill, SkillWeight  # noqa: E402
from graph.open import open_store  # noqa: E402
from migrations.runner import migrate  # noqa: E402
from recommender.gains import GainCache, main_skills, reference_gain_counts  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PAGE = 20


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def stats_ms(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(seconds) * 1e3, 3),
        "p99_ms": round(percentile(seconds, 99) * 1e3, 3),
        "runs": len(seconds),
    }


def stats_us(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "median_us": round(statistics.median(seconds) * 1e6, 2),
        "p99_us": round(percentile(seconds, 99) * 1e6, 2),
        "runs": len(seconds),
    }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def curriculum(n_skills: int, per_skill: int) -> tuple[list[Skill], list[Item]]:
    skills = [Skill(f"gb-s{i:05d}", f"Skill {i}") for i in range(n_skills)]
    items = []
    for i in range(n_skills):
        for k in range(per_skill):
            n = i * per_skill + k
            row = [SkillWeight(skills[i].id)]
            if n % 5 == 4 and n_skills > 1:
                row.append(SkillWeight(skills[(i + 1) % n_skills].id, 0.5))
            items.append(Item(f"gb-i{n:06d}", ItemKind.EXERCISE, f"Item {n}", tuple(row)))
    return skills, items


def attempt_log(n: int, start: int, learners: Sequence[str], skills: Sequence[str],
                items_of: dict[str, list[str]], rng: random.Random) -> list[Attempt]:
    """``n`` attempts: runs of 3-10 attempts by one learner on one skill's items."""
    out: list[Attempt] = []
    while len(out) < n:
        learner = rng.choice(learners)
        skill = rng.choice(skills)
        t = T0 + timedelta(seconds=rng.randrange(86400 * 60))
        for _ in range(min(rng.randint(3, 10), n - len(out))):
            k = start + len(out)
            out.append(Attempt(f"gb-a{k:08d}", learner, rng.choice(items_of[skill]),
                               float(rng.random() < 0.65), t))
            t += timedelta(seconds=rng.choice((0, 0, 30, 60, 90)))
    return out


async def repeat(times: int, call: Callable[[], Awaitable[Any]]) -> list[float]:
    out = []
    for _ in range(times):
        t = time.perf_counter()
        await call()
        out.append(time.perf_counter() - t)
    return out


async def during_refresh(store: Any, learners: Sequence[str], rng: random.Random,
                         aggregate: Callable[[], Awaitable[Any]]) -> tuple[list[float], float]:
    """One learner's history read back to back while one full aggregate runs."""
    lat: list[float] = []
    started = time.perf_counter()
    task = asyncio.ensure_future(aggregate())
    while not task.done():
        t = time.perf_counter()
        await store.attempts_of(rng.choice(learners), limit=50)
        lat.append(time.perf_counter() - t)
    await task
    return lat, time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    read_rng = random.Random(args.seed + 1)  # reads never shift the generated log
    tmp = None
    url = args.db
    if url is None:
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/gains.db"
    store = await open_store(url)
    try:
        if store.kind == "neo4j":
            if args.wipe:
                await store.wipe_all_data_for_tests()
            elif await store.attempt_count() or await store.list_skills(limit=1):
                raise SystemExit(f"{url} already holds data; use an empty store (or --wipe)")
        await migrate(store)
        skills, items = curriculum(args.skills, args.items_per_skill)
        await store.upsert_skills(skills, actor="bench")
        for k in range(0, len(items), 2000):
            await store.upsert_items(items[k:k + 2000], actor="bench")
        learners = [f"gb-l{i:05d}" for i in range(args.learners)]
        await store.upsert_learners([Learner(lid, lid) for lid in learners])
        items_of: dict[str, list[str]] = {}
        for it in items:
            items_of.setdefault(it.skills[0].skill_id, []).append(it.id)
        skill_ids = [s.id for s in skills]
        main = main_skills(items)
        everything: list[Attempt] = []
        rows = []
        for size in args.attempts:
            new = attempt_log(size - len(everything), len(everything), learners, skill_ids,
                              items_of, rng)
            t = time.perf_counter()
            for k in range(0, len(new), args.batch):
                await store.record_attempts(new[k:k + args.batch])
                if (k // args.batch) % 20 == 0:
                    log(f"  recorded {len(everything) + k + len(new[k:k + args.batch])}/{size}")
            everything += new
            log(f"{size} attempts stored ({time.perf_counter() - t:.1f} s); measuring")

            full = await repeat(args.repeats, store.item_gain_counts)
            page_ids = [it.id for it in read_rng.sample(items, PAGE)]
            page = await repeat(args.repeats * 3, lambda ids=page_ids: store.item_gain_counts(ids))
            cache = GainCache(max_age=3600.0)
            await cache.get(store, "bench")
            warm = await repeat(1000, lambda c=cache: c.get(store, "bench"))
            alone = await repeat(200, lambda: store.attempts_of(read_rng.choice(learners),
                                                                limit=50))
            busy, refresh_s = await during_refresh(store, learners, read_rng,
                                                   store.item_gain_counts)
            on_worker: dict[str, float] = {}
            if store.kind == "sqlite":  # baseline: the same aggregate on the worker thread
                from graph.sqlite_queries import gain_counts

                lat, secs = await during_refresh(
                    store, learners, read_rng, lambda: store._call(gain_counts, None))
                on_worker = stats_ms(lat) | {"refresh_s": round(secs, 3)}

            t = time.perf_counter()
            expected = reference_gain_counts(everything, main)
            ref_s = time.perf_counter() - t
            got = await store.item_gain_counts()
            if got != expected:
                raise SystemExit("the store's counts differ from the reference implementation")
            row = {
                "attempts": size,
                "observations": sum(s + f for s, f in got.values()),
                "full": stats_ms(full),
                "page20": stats_ms(page),
                "cache_warm": stats_us(warm),
                "history_read_alone": stats_ms(alone),
                "history_read_during_refresh": stats_ms(busy) | {"refresh_s": round(refresh_s, 3)},
                "history_read_during_refresh_on_worker": on_worker,
                "reference_python_ms": round(ref_s * 1e3, 1),
                "ratio_full_vs_reference": round(statistics.median(full) / ref_s, 2),
                "attempts_per_s_full": round(size / statistics.median(full)),
            }
            rows.append(row)
            log(json.dumps(row))
        return {"store": store.kind, "skills": args.skills, "items": len(items),
                "learners": args.learners, "rows": rows}
    finally:
        await store.close()
        if tmp is not None:
            tmp.cleanup()


def plot(result: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    n = [r["attempts"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(n, [r["full"]["median_ms"] for r in rows], "o-", label="item_gain_counts() (all)")
    ax.plot(n, [r["page20"]["median_ms"] for r in rows], "s-", label="one page of 20 items")
    ax.plot(n, [r["reference_python_ms"] for r in rows], "^--",
            label="pure-Python reference (attempts in memory)")
    ax.set_xlabel("stored attempts")
    ax.set_ylabel("median latency (ms)")
    ax.set_title(f"Learning-gain counts from attempts ({result['store']})")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    log(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="store URL (default: a temporary SQLite file)")
    parser.add_argument("--wipe", action="store_true", help="empty a Neo4j database first")
    parser.add_argument("--skills", type=int, default=1000)
    parser.add_argument("--items-per-skill", type=int, default=10)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--attempts", default="50000,200000",
                        help="comma-separated cumulative sizes [50000,200000]")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the result here")
    parser.add_argument("--plot", help="write a PNG of latency against stored attempts")
    args = parser.parse_args(argv)
    args.attempts = [int(x) for x in args.attempts.split(",")]
    if args.attempts != sorted(args.attempts) or args.attempts[0] < 1:
        parser.error(f"--attempts {args.attempts}: give increasing positive sizes, e.g. 1000,5000")
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    if args.plot:
        plot(result, args.plot)


if __name__ == "__main__":
    main()
