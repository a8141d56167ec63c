"""Content variants (A/B) compared online by the adaptive policy, on simulated learners.

Every skill of the goal's prerequisite closure in the seed demo curriculum (default goal
``add-decimals``: 34 skills, so that a cohort runs in minutes) gets interchangeable
variants of one exercise (same skills, difficulty and time) that teach differently (the
simulator's ``item_effect``; the policy never sees it). The same learners, arriving one after
another and sharing the cohort's gain statistics, meet the adaptive policy with Thompson
sampling over observed gains, the same policy drawing uniformly among near-equal items, and an
oracle that always takes the best variant (see :mod:`seed.simulation.variants`). Each is run with
the product's recent-items window and, optionally, without it (``--windows 5,0``).

Prints a markdown table (or ``--json``), progress on stderr, and plots the best-variant share
of each window of learners against the learner index (``--plot``).

    nice .venv/bin/python benchmarks/bench_ab_variants.py --learners 36 --seed 7 \
        --goals add-decimals --windows 5,0 --smooth 6 --plot docs/img/ab_variants.png \
        --json-out benchmarks/results/ab_variants.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from seed.simulation.harness import stderr_progress
from seed.simulation.variants import MODES, VariantRun, compare, demo_variants, table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--learners", type=int, default=36, help="learners per mode, one after another")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--budget", type=int, default=3000, help="most items per learner")
    p.add_argument("--effects", default="1.5,0.5", help="teaching effects of the variants")
    p.add_argument("--goals", nargs="+", default=["add-decimals"])
    p.add_argument(
        "--windows", default="5,0", help="recent-items windows to run (5 is the product's)"
    )
    p.add_argument("--modes", default=",".join(MODES), help="modes to run")
    p.add_argument("--smooth", type=int, default=6, help="learners per window in the figures")
    p.add_argument("--plot", default=None, metavar="PNG")
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.add_argument("--json-out", default=None, metavar="PATH", help="also write the JSON here")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    effects = [float(x) for x in args.effects.split(",")]
    windows = [int(x) for x in args.windows.split(",")]
    modes = args.modes.split(",")
    progress = None if args.quiet else stderr_progress
    vc = demo_variants(effects, goals=args.goals, seed=args.seed)
    rows, runs = compare(
        vc,
        modes=modes,
        windows=windows,
        learners=args.learners,
        seed=args.seed,
        budget=args.budget,
        smooth=args.smooth,
        progress=progress,
    )
    doc = {
        "goals": args.goals,
        "effects": effects,
        "variant_skills": len(vc.variants),
        "learners": args.learners,
        "seed": args.seed,
        "budget": args.budget,
        "smooth": args.smooth,
        "runs": rows,
    }
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(doc, indent=2))
    if args.plot:
        plot(args.plot, doc, runs, args.smooth)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(
        f"{len(vc.variants)} variant skills, effects {effects}, {args.learners} learners "
        f"one after another, seed {args.seed}, budget {args.budget}"
    )
    print()
    print("\n".join(table(rows)))
    return 0


def plot(path: str, doc: dict[str, Any], runs: dict[tuple[int, str], VariantRun], k: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    windows = sorted({w for w, _ in runs}, reverse=True)
    fig, axes = plt.subplots(1, len(windows), figsize=(5.5 * len(windows), 3.8), squeeze=False)
    colours = {"thompson": "#4477aa", "uniform": "#cc6677", "oracle": "#228833"}
    for ax, w in zip(axes[0], windows, strict=True):
        for (ww, mode), run in runs.items():
            if ww != w:
                continue
            n = len(run.variant_picks)
            xs = list(range(k, n + 1))
            ys = [run.share(i - k, i) for i in xs]
            ax.plot(xs, ys, label=mode, color=colours.get(mode))
        ax.axhline(1.0 / len(doc["effects"]), color="grey", lw=0.8, ls=":")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"learner index (end of a window of {k})")
        ax.set_ylabel("share of variant picks on the best variant")
        ax.set_title(f"recent-items window {w}" + (" (product default)" if w == 5 else ""))
        ax.legend(loc="lower right")
    fig.suptitle(
        f"{doc['variant_skills']} skills with variants of effect {doc['effects']}, "
        f"seed {doc['seed']}",
        fontsize=10,
    )
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
