"""One-field learner edits: ``update_learner`` (one transaction) against the read-then-upsert
it replaced in ``setLearnerGoals`` / ``setLearnerTargetRetention``.

On a fresh SQLite store (or ``--db``, e.g. a local Neo4j) with ``--skills`` skills, it
measures, in one process:

1. **latency**: ``--calls`` single-field edits (goals and target retention alternating) made
   one after another with each approach, the two interleaved call by call on two learners:
   median, p99, throughput and the ratio (read-then-upsert / update);
2. **lost edits**: two lanes run at once on one learner, one setting goals and one the target
   retention, ``--lanes`` edits each; an edit counts as lost when the answers of the two
   lanes fit no single order of the edits (goal edit i and retention edit j each missed the
   other), and the final learner is checked for both lanes' last values.

Usage::

    nice .venv/bin/python benchmarks/bench_learner_update.py
    nice .venv/bin/python benchmarks/bench_learner_update.py --db bolt://localhost:7711
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from graph.models import Learner, Skill  # noqa: E402
from graph.open import open_store  # noqa: E402
from migrations.runner import migrate  # noqa: E402

Edit = Callable[..., Awaitable[Learner]]


def old_way(store: Any) -> Edit:
    """The mutations' former path: read the learner, replace one field, upsert it whole."""

    async def edit(learner_id: str, **fields: Any) -> Learner:
        (old,) = await store.get_learners([learner_id])
        if "goals" in fields:
            fields["goals"] = tuple(fields["goals"])
        new: Learner = replace(old, **fields)
        await store.upsert_learners([new])
        return new

    return edit


def fields_for(i: int, skills: Sequence[str]) -> dict[str, Any]:
    if i % 2:
        return {"target_retention": round(0.7 + 0.01 * (i % 28), 2)}
    return {"goals": [skills[i % len(skills)], skills[(i + 1) % len(skills)]]}


def summary(name: str, seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    med = statistics.median(ms)
    print(f"  {name:<22} median {med:7.3f} ms   p99 {p99:7.3f} ms   "
          f"{len(ms) / sum(seconds):8.0f} edits/s")
    return {"median_ms": med, "p99_ms": p99}


async def latency(store: Any, calls: int, skills: Sequence[str]) -> None:
    edits: dict[str, tuple[str, Edit]] = {
        "update_learner": ("bench-lu-new", store.update_learner),
        "read-then-upsert": ("bench-lu-old", old_way(store)),
    }
    times: dict[str, list[float]] = {name: [] for name in edits}
    for i in range(calls):
        for name, (lid, edit) in edits.items():
            start = time.perf_counter()
            await edit(lid, **fields_for(i, skills))
            times[name].append(time.perf_counter() - start)
        if (i + 1) % max(1, calls // 5) == 0:
            print(f"  ... {i + 1}/{calls} calls", file=sys.stderr)
    new = summary("update_learner", times["update_learner"])
    old = summary("read-then-upsert", times["read-then-upsert"])
    print(f"  ratio (read-then-upsert / update_learner): median "
          f"{old['median_ms'] / new['median_ms']:.2f}x, p99 {old['p99_ms'] / new['p99_ms']:.2f}x")


async def lost_edits(store: Any, edit: Edit, lid: str, n: int, skills: Sequence[str]
                     ) -> tuple[int, bool]:
    """(pairs of edits that missed each other, whether the final learner kept both lanes'
    last values)."""
    goal_values = [[a, b] for a in skills for b in skills if a != b][:n]
    retentions = [round(0.7 + 0.27 * k / max(1, n - 1), 4) for k in range(n)]
    await store.upsert_learners([Learner(lid, lid)])

    async def goals_lane() -> list[Learner]:
        return [await edit(lid, goals=g) for g in goal_values]

    async def retention_lane() -> list[Learner]:
        return [await edit(lid, target_retention=r) for r in retentions]

    by_goals, by_retention = await asyncio.gather(goals_lane(), retention_lane())
    saw_r = [retentions.index(x.target_retention) if x.target_retention in retentions else -1
             for x in by_goals]
    saw_g = [goal_values.index(list(x.goals)) if list(x.goals) in goal_values else -1
             for x in by_retention]
    missed = sum(1 for i in range(len(goal_values)) for j in range(n)
                 if saw_r[i] < j and saw_g[j] < i)
    (final,) = await store.get_learners([lid])
    kept = (final is not None and list(final.goals) == goal_values[-1]
            and final.target_retention == retentions[-1])
    return missed, kept


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/bench.db"
        store = await open_store(url)
        try:
            await migrate(store)
            skills = [f"bench-lu-s{k}" for k in range(args.skills)]
            await store.upsert_skills([Skill(s, s) for s in skills], actor="bench")
            await store.upsert_learners([Learner(x, x) for x in ("bench-lu-new", "bench-lu-old")])
            print(f"store {url.split('://')[0]}: {args.calls} one-field edits per approach, "
                  "interleaved")
            await latency(store, args.calls, skills)
            print(f"lost edits: two lanes of {args.lanes} edits at once on one learner, "
                  f"{args.rounds} rounds")
            for name, edit in (("update_learner", store.update_learner),
                               ("read-then-upsert", old_way(store))):
                results = [await lost_edits(store, edit, f"bench-lu-lane-{name}-{r}",
                                            args.lanes, skills) for r in range(args.rounds)]
                missed = sum(m for m, _ in results)
                kept = sum(k for _, k in results)
                print(f"  {name:<22} pairs of edits fitting no order: {missed:5d}   "
                      f"final learner kept both last values: {kept}/{args.rounds} rounds")
        finally:
            await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--skills", type=int, default=8)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--lanes", type=int, default=20, help="edits per lane (at most skills^2)")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--db", default=None, help="store URL (default: a temporary SQLite file)")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
