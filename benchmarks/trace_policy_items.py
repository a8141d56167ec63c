"""Where the adaptive policy's items go, against the true state, and what the oracle needs.

Runs the learners of ``bench_populations.py`` (same curriculum, population, seed and order, so
the same trajectories as its adaptive row) and classifies every item by the true state at the
moment it was chosen and by what the policy saw:

* ``diagnostic``: a placement question.
* skill **truly mastered** when practised: ``held by the run`` (a wrong answer in the view and
  fewer than ``confirm_run`` right ones since, ``recommender.next_item.confirmed_mastery``;
  split by whether the estimate alone was past the threshold), ``estimate below threshold``
  (no hold: the tracer not yet convinced), or, with the estimate past it, the recommendation's
  kind (``remediate``: probes and remediation on a known skill, ``easier``, ``consolidate``).
* skill **not truly mastered**: ``prerequisite not known`` (a strict prerequisite not truly
  mastered: the practice cannot teach it, or teaches it slowly), by kind; else ``learning``
  (first time) or ``re-learning`` (truly mastered earlier in the run and forgotten).

Then the oracle (``seed.simulation.policies.OraclePolicy``) on the same learners, and per
closure skill the items each policy spent on it. The slips: wrong answers on a truly mastered
skill (each one opens a confirmation run).

    nice -n 10 python benchmarks/trace_policy_items.py --curriculum junyi --learners 3 \\
        --population seed
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks.bench_populations import JUNYI, junyi_setting  # noqa: E402
from recommender import diagnostic  # noqa: E402
from recommender.next_item import GainStats, RecommenderConfig  # noqa: E402
from seed.simulation.harness import POLICIES, demo_setting  # noqa: E402
from seed.simulation.policies import AdaptivePolicy, OraclePolicy, Setting, bkt_for  # noqa: E402
from seed.simulation.populations import POPULATIONS, make_population  # noqa: E402


def trace(
    setting: Setting,
    population: str,
    learners: int,
    seed: int,
    budget: int,
    config: RecommenderConfig,
) -> tuple[Counter[str], Counter[str], Counter[str], list[int], list[int]]:
    """(item classes, adaptive items per closure skill, oracle's, items per learner under
    each). Classes are ``true state / what the policy saw`` strings."""
    idx = setting.index
    seconds = {it.id: float(it.expected_seconds) for it in setting.items}
    main = {it: idx.skill_ids[int(idx.item_main_skill[idx.item_pos[it]])] for it in seconds}
    closure = set(setting.closure)
    classes: Counter[str] = Counter()
    per_skill: Counter[str] = Counter()
    pop = make_population(population, setting.graph, setting.items, np.random.default_rng(seed))
    rng = np.random.default_rng([seed, POLICIES.index("adaptive")])
    gains, serving = GainStats(), bkt_for(idx)
    used_adaptive = []
    for n in range(learners):
        learner = pop.new_learner(f"sim-{n}")
        pol = AdaptivePolicy(
            setting, serving, gains, rng, config=config, diag=diagnostic.DiagnosticConfig()
        )
        t, used = 0.0, 0
        known_once = {s for s in closure if pop.mastered(learner, s, t)}
        at_start = set(known_once)
        reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        while not reached and used < budget:
            item = pol.choose(t)
            sk = main[item]
            truly = pop.mastered(learner, sk, t)
            rec, view = pol.last_recommendation, pol.last_view
            if view is None:
                label = "diagnostic"
            elif truly:
                origin = "known from the start" if sk in at_start else "learned in the run"
                raw = float(view.mastery[idx.skill_pos[sk]]) >= config.threshold
                runs = view.dependent_runs if config.confirm_dependents else view.correct_runs
                run = runs.get(sk)
                if run is not None and run < config.confirm_run:
                    label = f"{origin} / held by the run" + (
                        " (estimate past threshold)" if raw else " (estimate below too)"
                    )
                elif not raw:
                    label = f"{origin} / estimate below threshold"
                else:
                    label = f"{origin} / {rec.kind if rec else 'fallback'}"
            elif any(not pop.mastered(learner, p, t) for p in setting.strict_parents.get(sk, ())):
                label = f"unknown / prerequisite not known ({rec.kind if rec else 'fallback'})"
            elif sk in known_once:
                label = "unknown / re-learning (forgotten)"
            else:
                label = f"unknown / learning ({rec.kind if rec else 'fallback'})"
            correct = pop.answer(learner, item, t)
            if truly and not correct and view is not None:
                classes["(slips: wrong answers on a known skill)"] += 1
            pol.observe(item, correct, t)
            used += 1
            t += seconds[item]
            classes[label] += 1
            if view is not None:
                per_skill[sk] += 1
            if pop.mastered(learner, sk, t):
                known_once.add(sk)
            reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        used_adaptive.append(used if reached else budget)
        print(f"adaptive learner {n + 1}: {used} items, reached={reached}", file=sys.stderr)
    oracle_skill: Counter[str] = Counter()
    pop = make_population(population, setting.graph, setting.items, np.random.default_rng(seed))
    used_oracle = []
    for n in range(learners):
        learner = pop.new_learner(f"sim-{n}")
        orc = OraclePolicy(setting, lambda s, t: pop.mastered(learner, s, t))  # noqa: B023
        t, used = 0.0, 0
        reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        while not reached and used < budget:
            item = orc.choose(t)
            pop.answer(learner, item, t)
            oracle_skill[main[item]] += 1
            used += 1
            t += seconds[item]
            reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        used_oracle.append(used if reached else budget)
    return classes, per_skill, oracle_skill, used_adaptive, used_oracle


def evidence_floor(
    setting: Setting, population: str, learners: int, seed: int, budget: int, k: int
) -> list[int]:
    """Items per learner (an unreached learner at ``budget``) of the oracle made to wait for
    evidence: it moves on from a skill only when it is truly mastered *and* (unless known
    from the start and never answered wrong) its last ``k`` answers were right, the least a
    policy needs that must see ``k`` right answers after learning before it believes them."""
    idx = setting.index
    seconds = {it.id: float(it.expected_seconds) for it in setting.items}
    main = {it: idx.skill_ids[int(idx.item_main_skill[idx.item_pos[it]])] for it in seconds}
    pop = make_population(population, setting.graph, setting.items, np.random.default_rng(seed))
    out = []
    for n in range(learners):
        learner = pop.new_learner(f"sim-{n}")
        known = {s for s in setting.closure if pop.mastered(learner, s, 0.0)}
        run: dict[str, int] = {}  # skill -> right answers in a row at the end (practised ones)
        t, used = 0.0, 0

        def done(s: str, t: float) -> bool:
            if not pop.mastered(learner, s, t):  # noqa: B023
                return False
            return (s in known and s not in run) or run.get(s, 0) >= k  # noqa: B023

        orc = OraclePolicy(setting, done)
        reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        while not reached and used < budget:
            item = orc.choose(t)
            ok = pop.answer(learner, item, t)
            run[main[item]] = run.get(main[item], 0) + 1 if ok else 0
            used += 1
            t += seconds[item]
            reached = all(pop.mastered(learner, g, t) for g in setting.goals)
        out.append(used if reached else budget)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--curriculum", choices=("demo", "junyi"), default="junyi")
    ap.add_argument("--population", choices=POPULATIONS, default="seed")
    ap.add_argument("--learners", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--budget", type=int, default=3000)
    ap.add_argument("--junyi", type=Path, default=JUNYI, help="the Junyi exercise table")
    ap.add_argument("--confirm-run", type=int, default=RecommenderConfig().confirm_run)
    ap.add_argument("--confirm-dependents", action="store_true")
    args = ap.parse_args(argv)
    setting = demo_setting() if args.curriculum == "demo" else junyi_setting(args.junyi)
    config = RecommenderConfig(
        confirm_run=args.confirm_run, confirm_dependents=args.confirm_dependents
    )
    classes, ad, orc, ua, uo = trace(
        setting, args.population, args.learners, args.seed, args.budget, config
    )
    floors = {
        k: evidence_floor(setting, args.population, args.learners, args.seed, args.budget, k)
        for k in (1, 2, 3)
    }
    total = sum(v for k, v in classes.items() if not k.startswith("("))
    print(
        f"{args.curriculum} {args.population}, {args.learners} learners, seed {args.seed}: "
        f"adaptive {total} items (per learner {ua}), oracle {sum(orc.values())} ({uo})"
    )
    for label, v in sorted(classes.items()):
        print(f"  {label:<62} {v:>7} {v / total:>7.1%}")
    for k, used in floors.items():
        arr = np.array(used, dtype=np.float64)
        print(
            f"oracle waiting for {k} right answer(s) after learning: median "
            f"{np.median(arr):.0f}, p90 {np.percentile(arr, 90):.0f} ({used})"
        )
    both = sorted(set(ad) | set(orc))
    a = np.array([ad[s] for s in both], dtype=np.float64) / args.learners
    o = np.array([orc[s] for s in both], dtype=np.float64) / args.learners
    print(
        f"per practised skill and learner: adaptive {a.mean():.2f}, oracle {o.mean():.2f} "
        f"({len(both)} skills); skills where adaptive spends 2+ more: {int((a - o >= 2).sum())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
