"""Recommender latency, in process, against a naive baseline run in the same process.

1. Next item (``recommend``, 5 recommendations toward a goal) on a synthetic 1,000-skill /
   10,000-item curriculum and on the real Junyi Academy prerequisite graph (its one cycle
   dropped). Baseline: the same decision recomputed from scratch with networkx on every call
   (ancestors of the goal, readiness by scanning predecessors, topological order of the
   closure, band distance of every candidate item), i.e. without the cached index.
2. Path to a goal (``learning_path``) on a synthetic 100,000-skill DAG, cold (closure not
   memoised yet) and warm, against networkx (ancestors + topological sort of the closure).

Usage::

    nice .venv/bin/python benchmarks/bench_recommender.py [--calls 300] [--json out.json]

Prints median / p99 latency per case and the speed-up over the baseline (ratio of medians).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recommender.index import CurriculumIndex, ItemSpec  # noqa: E402
from recommender.next_item import LearnerView, recommend  # noqa: E402
from recommender.paths import learning_path  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
if not DATASETS.exists():
    DATASETS = Path("/work/shared/datasets")
JUNYI = DATASETS / "junyi-prerequisites" / "junyi_prereq_edges.csv"
JUNYI_TABLE = DATASETS / "junyi-prerequisites" / "junyi_Exercise_table.csv"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def stats(samples: list[tuple[float, float]]) -> dict[str, float]:
    """Wall and CPU milliseconds (the machine is shared: CPU time is the steadier figure)."""
    wall = np.asarray([w for w, _ in samples]) * 1e3
    cpu = np.asarray([c for _, c in samples]) * 1e3
    return {
        "median_ms": float(np.median(wall)),
        "p99_ms": float(np.percentile(wall, 99)),
        "cpu_median_ms": float(np.median(cpu)),
        "cpu_p99_ms": float(np.percentile(cpu, 99)),
        "n": len(wall),
    }


def clock(fn: Callable[[], Any]) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def timed(fn: Callable[[], Any], calls: int) -> list[tuple[float, float]]:
    return [clock(fn) for _ in range(calls)]


# -- curricula ---------------------------------------------------------------------------------
def synthetic(
    n_skills: int, items_per_skill: int, rng: np.random.Generator, area: int = 1000
) -> tuple[list[str], list[tuple[str, str, float]], list[ItemSpec]]:
    """A curriculum-shaped DAG: skills in areas of ``area`` skills (a subject), areas in
    topics of 100; each skill has 1-3 prerequisites among the 30 skills before it in its
    topic, and one skill in five also one in an earlier topic of the same area. Areas do not
    depend on each other, so a goal's closure stays subject-sized however large the graph."""
    skills = [f"s{i}" for i in range(n_skills)]
    edges: set[tuple[int, int]] = set()
    for i in range(n_skills):
        a0 = i - i % area
        t0 = i - i % 100
        if i > t0:
            lo = max(t0, i - 30)
            edges.update((int(j), i) for j in rng.integers(lo, i, size=int(rng.integers(1, 4))))
        if t0 > a0 and rng.random() < 0.2:
            edges.add((int(rng.integers(a0, t0)), i))
    items = [
        ItemSpec(
            f"{s}-i{k}",
            (s,),
            expected_seconds=float(rng.integers(30, 180)),
            difficulty=float(rng.random()),
        )
        for s in skills
        for k in range(items_per_skill)
    ]
    return skills, [(skills[u], skills[v], 1.0) for u, v in sorted(edges)], items


def junyi() -> tuple[list[str], list[tuple[str, str, float]], list[ItemSpec], tuple[str, str]]:
    """The Junyi graph: every exercise a skill with one item (the exercise itself); the edge
    of its one cycle that closes it (found by networkx) is dropped and returned."""
    with JUNYI.open(encoding="utf-8-sig") as fh:
        pairs = [(r["prereq_name"], r["exercise_name"]) for r in csv.DictReader(fh)]
    names: set[str] = {n for p in pairs for n in p}
    with JUNYI_TABLE.open(encoding="utf-8-sig") as fh:
        names.update(r["name"] for r in csv.DictReader(fh))
    g = nx.DiGraph(pairs)
    cycle = nx.find_cycle(g)
    dropped = cycle[-1]
    g.remove_edge(*dropped)
    assert nx.is_directed_acyclic_graph(g)
    skills = sorted(names)
    edges = [(u, v, 1.0) for u, v in g.edges]
    items = [ItemSpec(f"ex:{s}", (s,)) for s in skills]
    return skills, edges, items, (dropped[0], dropped[1])


def learner_mastery(idx: CurriculumIndex, rng: np.random.Generator, share: float) -> np.ndarray:
    """A plausible learner: a topological prefix mastered (0.9-1.0), the rest low."""
    m = rng.random(idx.n_skills) * 0.5
    known = idx.topo[: int(share * idx.n_skills)]
    m[known] = 0.9 + 0.1 * rng.random(known.size)
    return m


def predictor(idx: CurriculumIndex, m: np.ndarray) -> Callable[[Any], np.ndarray]:
    def predict(ids: Any) -> np.ndarray:
        pos = idx.item_positions(ids)
        p = m[idx.item_main_skill[pos]]
        return np.asarray(p * 0.9 + (1 - p) * 0.2)

    return predict


# -- the naive baseline --------------------------------------------------------------------------
def naive_recommend(
    skills: list[str],
    edges: list[tuple[str, str, float]],
    items: list[ItemSpec],
    mastery: dict[str, float],
    goal: str,
    predict: Callable[[Any], np.ndarray],
    first: int = 5,
) -> list[str]:
    """Recompute everything per call with networkx: what the cache saves."""
    g = nx.DiGraph()
    g.add_nodes_from(skills)
    g.add_edges_from((u, v) for u, v, _ in edges)
    by_skill: dict[str, list[str]] = {}
    for it in items:
        for s in it.skills:
            by_skill.setdefault(s, []).append(it.id)
    closure = nx.ancestors(g, goal) | {goal}
    need = [s for s in closure if mastery[s] < 0.8]
    ready = [s for s in need if all(mastery[p] >= 0.8 for p in g.predecessors(s))]
    order = {s: k for k, s in enumerate(nx.topological_sort(g.subgraph(closure)))}
    ready.sort(key=lambda s: order[s])
    out = []
    for s in ready[:first]:
        cand = by_skill.get(s, [])
        if not cand:
            continue
        p = predict(cand)
        dist = np.maximum(0, np.maximum(0.6 - p, p - 0.8))
        out.append(cand[int(np.argmin(dist))])
    return out


def bench_next_item(
    name: str,
    skills: list[str],
    edges: list[tuple[str, str, float]],
    items: list[ItemSpec],
    calls: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    t = time.perf_counter()
    idx = CurriculumIndex(skills, edges, items, version=name)
    build = time.perf_counter() - t
    depth = idx.level
    deep = np.flatnonzero(depth >= np.percentile(depth, 90))
    learners = [learner_mastery(idx, rng, share) for share in (0.1, 0.3, 0.5)]
    cases = []
    for k in range(calls):
        m = learners[k % len(learners)]
        goal = idx.skill_ids[int(deep[k % deep.size])]
        cases.append((m, goal))
    k = 0

    def ours() -> None:
        nonlocal k
        m, goal = cases[k % calls]
        k += 1
        recommend(
            idx,
            LearnerView(m),
            predictor(idx, m),
            goals=[goal],
            first=5,
            rng=np.random.default_rng(k),
        )

    log(
        f"{name}: {idx.n_skills} skills, {len(edges)} edges, {idx.n_items} items; "
        f"index built in {build * 1e3:.0f} ms; timing {calls} recommend() calls"
    )
    ours_t = timed(ours, calls)
    j = 0
    dicts = [dict(zip(idx.skill_ids, m.tolist(), strict=True)) for m in learners]

    def naive() -> None:
        nonlocal j
        m, goal = cases[j % calls]
        naive_recommend(skills, edges, items, dicts[j % len(learners)], goal, predictor(idx, m))
        j += 1

    n_naive = max(20, calls // 10)
    log(f"{name}: timing {n_naive} naive (networkx, from scratch) calls")
    naive_t = timed(naive, n_naive)
    res = {
        "case": name,
        "skills": idx.n_skills,
        "edges": len(edges),
        "items": idx.n_items,
        "index_build_ms": build * 1e3,
        "recommend": stats(ours_t),
        "naive": stats(naive_t),
    }
    res["speedup_median"] = res["naive"]["cpu_median_ms"] / res["recommend"]["cpu_median_ms"]
    return res


def bench_paths(n: int, calls: int, rng: np.random.Generator) -> dict[str, Any]:
    log(f"path: generating a {n}-skill synthetic DAG")
    skills, edges, items = synthetic(n, 1, rng)
    t = time.perf_counter()
    idx = CurriculumIndex(skills, edges, items, version="path")
    build = time.perf_counter() - t
    log(f"path: index built in {build:.2f} s; timing learning_path cold and warm")
    m = learner_mastery(idx, rng, 0.3)
    goals = [
        idx.skill_ids[int(g)]
        for g in rng.choice(np.flatnonzero(idx.level > idx.level.max() * 0.8), calls)
    ]
    sizes = []

    def run(goal: str) -> None:
        p = learning_path(idx, m, [goal])
        sizes.append(len(p.steps))

    cold = [clock(lambda g=g: run(g)) for g in goals]
    warm = [clock(lambda g=g: run(g)) for g in goals]
    g = idx.to_networkx()
    mastery = dict(zip(idx.skill_ids, m.tolist(), strict=True))
    n_naive = max(10, calls // 5)
    log(f"path: timing {n_naive} networkx baselines")

    def naive(goal: str) -> None:
        closure = nx.ancestors(g, goal) | {goal}
        sub = g.subgraph([s for s in closure if mastery[s] < 0.8])
        list(nx.lexicographical_topological_sort(sub))

    base = [clock(lambda g=g: naive(g)) for g in goals[:n_naive]]
    res = {
        "case": f"path-to-goal, {n} skills",
        "skills": n,
        "edges": len(edges),
        "index_build_s": build,
        "path_skills_median": float(np.median(sizes)),
        "cold": stats(cold),
        "warm": stats(warm),
        "networkx": stats(base),
    }
    res["speedup_cold_median"] = res["networkx"]["cpu_median_ms"] / res["cold"]["cpu_median_ms"]
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--path-skills", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    results = []
    skills, edges, items = synthetic(1000, 10, rng)
    results.append(bench_next_item("synthetic 1k/10k", skills, edges, items, args.calls, rng))
    j_skills, j_edges, j_items, dropped = junyi()
    log(f"junyi: dropped the cycle-closing edge {dropped[0]} -> {dropped[1]}")
    r = bench_next_item("junyi", j_skills, j_edges, j_items, args.calls, rng)
    r["dropped_edge"] = list(dropped)
    results.append(r)
    results.append(bench_paths(args.path_skills, max(20, args.calls // 10), rng))
    for r in results:
        if "recommend" in r:
            o, b = r["recommend"], r["naive"]
            print(
                f"{r['case']:<17} {r['skills']:>5} skills {r['items']:>6} items | recommend "
                f"median {o['median_ms']:.2f} ms p99 {o['p99_ms']:.2f} ms "
                f"(CPU {o['cpu_median_ms']:.2f} / {o['cpu_p99_ms']:.2f}) | naive median "
                f"{b['median_ms']:.1f} ms (CPU {b['cpu_median_ms']:.1f})"
                f" | x{r['speedup_median']:.1f}"
            )
        else:
            c, w, b = r["cold"], r["warm"], r["networkx"]
            print(
                f"{r['case']}: index build {r['index_build_s']:.2f} s; path of "
                f"{r['path_skills_median']:.0f} skills (median): cold median "
                f"{c['median_ms']:.1f} ms p99 {c['p99_ms']:.1f} ms (CPU {c['cpu_median_ms']:.1f}),"
                f" warm median {w['median_ms']:.1f} ms p99 {w['p99_ms']:.1f} ms | networkx "
                f"median {b['median_ms']:.1f} ms (CPU {b['cpu_median_ms']:.1f})"
                f" | x{r['speedup_cold_median']:.1f}"
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
