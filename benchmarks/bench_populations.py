"""Policies on every learner population: items until the goal, against the fixed curriculum.

For each population of :mod:`seed.simulation.populations` (seed, bkt, afm, kst) and each
policy, the same learners (same seed) practise until the simulator says every goal skill is
truly mastered or the budget is spent. Prints, per population and policy, the median and p90
items to the goal (an unreached learner counts as the budget), the share reaching it, and the
ratio of each to the topological policy's, run in the same process on the same learners.

Curricula:

* ``demo``: ``seed``'s demo curriculum, goals ``simultaneous-equations`` and ``pythagoras``
  (102 skills in their closure).
* ``junyi``: the Junyi Academy exercise table (``../shared/datasets/junyi-prerequisites``),
  imported as ``learngraph curriculum import --skip-invalid`` would (the one cycle, two
  self-loops and two duplicated rows left out), with 4 exercises per skill (difficulty 0.2,
  0.4, 0.6, 0.8; 60 s each); goals: the 40 deepest skills.

    nice -n 10 python benchmarks/bench_populations.py --curriculum demo --learners 40 --seed 7

``--tracer gnn``: the adaptive policy serves a GNN trained, once per population before its
policies run, on a warm-up cohort of that population (``--warmup-learners`` other learners,
``--warmup-items`` answers each under the default BKT's adaptive policy, ``--epochs``;
:mod:`seed.simulation.trained`) instead of the default BKT; the other policies are unchanged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from graph.curriculum import validate  # noqa: E402
from graph.curriculum_io import read_curriculum  # noqa: E402
from graph.models import Item, ItemKind, SkillWeight  # noqa: E402
from recommender.next_item import RecommenderConfig  # noqa: E402
from seed.simulation.harness import (  # noqa: E402
    POLICIES,
    PolicySummary,
    demo_setting,
    run_policy,
    stderr_progress,
)
from seed.simulation.policies import Setting, make_setting  # noqa: E402
from seed.simulation.populations import POPULATIONS  # noqa: E402
from seed.simulation.trained import TRACERS, Trained, WarmUp, trained_tracer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
JUNYI = ROOT.parent / "shared" / "datasets" / "junyi-prerequisites" / "junyi_Exercise_table.csv"


def junyi_setting(path: Path = JUNYI, goals: int = 40, per_skill: int = 4) -> Setting:
    """The Junyi exercise table as a curriculum, every invalid row left out (as
    ``--skip-invalid``), ``per_skill`` exercises per skill, the ``goals`` deepest skills."""
    import networkx as nx

    bundle = read_curriculum(path, {"id": "name", "name": "pretty_display_name"})
    v = validate(bundle)
    from graph.models import Prerequisite, PrerequisiteGraph

    graph = PrerequisiteGraph(v.skills, tuple(Prerequisite(e.source, e.target) for e in v.edges))
    items = [
        Item(
            f"{s.id}#{k}",
            ItemKind.EXERCISE,
            f"{s.name} {k + 1}",
            (SkillWeight(s.id),),
            difficulty=round(0.2 * (k + 1), 2),
            expected_seconds=60,
        )
        for s in v.skills
        for k in range(per_skill)
    ]
    g = nx.DiGraph()
    g.add_nodes_from(s.id for s in v.skills)
    g.add_edges_from((e.source, e.target) for e in v.edges)
    syllabus = list(nx.lexicographical_topological_sort(g))
    depth: dict[str, int] = {}
    for s in syllabus:
        depth[s] = max((depth[p] + 1 for p in g.predecessors(s)), default=0)
    deepest = sorted(syllabus, key=lambda s: (-depth[s], syllabus.index(s)))[:goals]
    return make_setting(graph, items, syllabus, deepest)


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--curriculum", choices=("demo", "junyi"), default="demo")
    ap.add_argument("--population", action="append", choices=POPULATIONS)
    ap.add_argument(
        "--policy",
        action="append",
        choices=POLICIES,
        help="default: topological, frontier, adaptive (oracle: the reference that reads the "
        "true state)",
    )
    ap.add_argument("--learners", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--budget", type=int, default=3000)
    ap.add_argument("--junyi", type=Path, default=JUNYI, help="the Junyi exercise table")
    ap.add_argument(
        "--topo-reps",
        type=_at_least_one,
        default=5,
        help="practices per skill in each pass of the fixed (topological) curriculum "
        "(default %(default)s)",
    )
    ap.add_argument(
        "--confirm-run",
        type=int,
        default=RecommenderConfig().confirm_run,
        help="the adaptive policy's RecommenderConfig.confirm_run (default %(default)s)",
    )
    ap.add_argument(
        "--confirm-harder",
        action="store_true",
        help="the adaptive policy's RecommenderConfig.confirm_harder: only right answers on a "
        "skill's harder items (at least its median difficulty) count in the confirmation run",
    )
    ap.add_argument(
        "--confirm-dependents",
        action="store_true",
        help="the adaptive policy's RecommenderConfig.confirm_dependents: right answers on a "
        "skill's dependents count in its confirmation run, and a skill one right answer short "
        "of it is ready to build on",
    )
    ap.add_argument(
        "--remediate-blocked-path",
        action="store_true",
        help="the adaptive policy's RecommenderConfig.remediate_blocked_path: remediation "
        "blames only prerequisites behind unmastered ones; a mastered direct prerequisite is "
        "probed instead",
    )
    ap.add_argument(
        "--reviews",
        action="store_true",
        help="the adaptive policy schedules the product's reviews on the simulated clock",
    )
    ap.add_argument("--tracer", choices=TRACERS, default="bkt", help="what adaptive serves")
    ap.add_argument("--warmup-learners", type=int, default=100, help="with --tracer gnn")
    ap.add_argument("--warmup-items", type=int, default=600, help="with --tracer gnn")
    ap.add_argument("--epochs", type=int, default=12, help="with --tracer gnn: max epochs")
    ap.add_argument("--json-out", default=None, metavar="PATH")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    setting = demo_setting() if args.curriculum == "demo" else junyi_setting(args.junyi)
    pops = args.population or list(POPULATIONS)
    policies = args.policy or ["topological", "frontier", "adaptive"]
    if "topological" not in policies:
        policies = ["topological", *policies]
    print(
        f"curriculum {args.curriculum}: {setting.index.n_skills} skills, "
        f"{len(setting.goals)} goals, {len(setting.closure)} skills in their closure; "
        f"{args.learners} learners per population, seed {args.seed}, budget {args.budget}, "
        f"adaptive serves {args.tracer}",
        flush=True,
    )
    rows: list[dict[str, object]] = []
    header = (
        f"{'population':<10} {'policy':<12} {'median':>7} {'p90':>7} {'reached':>8} "
        f"{'x topo median':>13} {'x topo p90':>10} {'seconds':>8}"
    )
    print(header, flush=True)
    trainings: dict[str, dict[str, object]] = {}
    for pop in pops:
        topo: PolicySummary | None = None
        trained: Trained | None = None
        if args.tracer == "gnn" and "adaptive" in policies:
            trained = trained_tracer(
                setting,
                population=pop,
                seed=args.seed,
                warmup=WarmUp(
                    learners=args.warmup_learners, items=args.warmup_items, max_epochs=args.epochs
                ),
                progress=None if args.quiet else stderr_progress,
            )
            trainings[pop] = trained.to_dict()
            print(
                f"{pop}: gnn trained on {trained.warmup_learners} warm-up learners' "
                f"{trained.warmup_interactions} answers in {trained.train_seconds:.0f} s, "
                f"validation AUC {trained.valid_auc:.3f}",
                flush=True,
            )
        for policy in policies:
            t0 = time.perf_counter()
            s = run_policy(
                setting,
                policy,
                learners=args.learners,
                seed=args.seed,
                budget=args.budget,
                topo_reps=args.topo_reps,
                population=pop,
                config=RecommenderConfig(
                    confirm_run=args.confirm_run,
                    confirm_harder=args.confirm_harder,
                    confirm_dependents=args.confirm_dependents,
                    remediate_blocked_path=args.remediate_blocked_path,
                ),
                reviews=args.reviews,
                progress=None if args.quiet else stderr_progress,
                tracer=args.tracer,
                trained=trained,
            )
            secs = time.perf_counter() - t0
            if policy == "topological":
                topo = s
            assert topo is not None
            rm, rp = s.median_items / topo.median_items, s.p90_items / topo.p90_items
            print(
                f"{pop:<10} {policy:<12} {s.median_items:>7.0f} {s.p90_items:>7.0f} "
                f"{s.reached_share:>8.0%} {rm:>13.2f} {rp:>10.2f} {secs:>8.1f}",
                flush=True,
            )
            rows.append({"population": pop, **s.to_dict(), "ratio_median": rm, "ratio_p90": rp})
    if args.json_out:
        doc = {
            "curriculum": args.curriculum,
            "learners": args.learners,
            "seed": args.seed,
            "budget": args.budget,
            "topo_reps": args.topo_reps,
            "confirm_run": args.confirm_run,
            "confirm_harder": args.confirm_harder,
            "confirm_dependents": args.confirm_dependents,
            "remediate_blocked_path": args.remediate_blocked_path,
            "reviews": args.reviews,
            "tracer": args.tracer,
            "training": trainings,
            "rows": rows,
        }
        Path(args.json_out).write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
