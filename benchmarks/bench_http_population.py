"""Items to the goal for simulated learners driving a real ``learngraph serve`` over HTTP.

A new user's path, end to end: the Junyi Academy curriculum (``population_setting``: the
importer's checks drop the edge closing its one cycle, 776 linked skills, ``--items-per-skill``
exercises each, goals = the ``--goals`` deepest skills) is written as JSON and loaded with
``learngraph migrate`` and ``learngraph curriculum import`` into a fresh SQLite file; then
``learngraph serve`` runs as a subprocess on a free loopback port (its own token secret, an
empty model registry: the default BKT serves). The simulated learners come from
``--population`` (``seed``, ``bkt``, ``afm`` or ``kst``: ``population_setting``). One server
learner per simulated learner is created with ``createLearner`` (goals set), and each
answers what the server recommends: the first item from ``learner { recommendations(first:
1) }``, then, for every answer, one
``recordAttempts`` (the learner's own token, a timestamp on the learner's simulated clock:
one answer per ``population_setting.ITEM_SECONDS``) with ``recommendations(first: 1)`` in its
payload, which names the next item. A learner stops when the simulator says every goal is truly
mastered, or after ``--budget`` items. ``--lanes`` learners run at once (one HTTP client
each).

With ``--tracer gnn`` (or ``dkt``, ``elo``) a warm-up cohort of other learners from the same
population (``--warmup-learners``, up to ``--warmup-budget`` items each) answers first, under
the default BKT; then ``learngraph trace train --model gnn --db ... --activate`` trains that
model on the stored answers, rebuilds every learner's state under it and makes it the serving
model, which the running server picks up; the measured cohort then starts.

The same learners (same seed) also follow two client-side policies without the server: a fixed
topological order (``--topo-reps`` practices per skill per pass) and an oracle that reads the
simulator's true state (``population_setting``), each for up to ``--baseline-budget`` items a
learner (default: ``--budget``; set it higher so that the fixed order, which on Junyi reaches
the goal for few learners within a few thousand items, is not cut off where the server's cohort
is); ``--topo-reps-sweep R,R,...`` runs the fixed order again at each of those practices per
pass and prints the server cohort's ratio to each and to the best of them in hindsight (how
much a verdict owes to the fixed order's one setting). Printed per policy: items to the goal
(median, p90; a learner who never gets there counts as that policy's budget), the share
reaching it and the mean share of goal skills truly mastered when the learner stopped; for the
server's policy also the kinds of recommendation answered, immediate repeats of an item, the
ROC AUC of ``predictedSuccess`` against the answers (sklearn), and request latency. Every loop
is bounded (budget, request timeouts, server start timeout); the server is stopped at the end,
also on failure.

Usage::

    nice .venv/bin/python benchmarks/bench_http_population.py [--learners 10] [--budget 1500] \\
        [--baseline-budget 100000] [--lanes 2] [--seed 0] [--population seed|bkt|afm|kst] \\
        [--tracer bkt|gnn] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.auth import AuthConfig  # noqa: E402
from benchmarks.http_learners import log, over_http  # noqa: E402
from benchmarks.population_setting import (  # noqa: E402
    POPULATIONS,
    Population,
    load_curriculum,
    oracle,
    population,
    run_local,
    summary,
    topological,
)
from benchmarks.serve_process import run_cli, start_server  # noqa: E402
from seed.simulation.cli import BAR  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
if not DATASETS.exists():
    DATASETS = Path(os.environ.get("LEARNGRAPH_DATASETS", "/work/shared/datasets"))
JUNYI_TABLE = DATASETS / "junyi-prerequisites" / "junyi_Exercise_table.csv"


# -- the run ------------------------------------------------------------------------------------
def run(args: argparse.Namespace) -> dict[str, Any]:
    cur = load_curriculum(Path(args.table), items_per_skill=args.items_per_skill, goals=args.goals)
    log(
        f"curriculum: {len(cur.skills)} skills, {len(cur.edges)} edges, {len(cur.items)} items; "
        f"{cur.dropped_isolated} isolated exercises dropped; goal closure {len(cur.closure)} "
        f"skills; the importer left out {len(cur.skipped)} record(s):"
    )
    for line in cur.skipped:
        log(f"  {line}")
    res: dict[str, Any] = {
        "skills": len(cur.skills),
        "edges": len(cur.edges),
        "items": len(cur.items),
        "goals": len(cur.goals),
        "closure": len(cur.closure),
        "skipped": list(cur.skipped),
    }
    policies: dict[str, Any] = {}
    res["budgets"] = {
        "adaptive": args.budget,
        "topological": args.baseline_budget,
        "oracle": args.baseline_budget,
    }

    def cohort() -> tuple[Population, list[Any]]:
        pop = population(args.population, cur, args.seed)
        return pop, [pop.new_learner(f"sim-{k:03d}") for k in range(args.learners)]

    for name in ("topological", "oracle"):
        pop, learners = cohort()
        pick = topological(cur, args.topo_reps) if name == "topological" else oracle(cur, pop)
        t = time.perf_counter()
        outcomes = run_local(cur, pop, learners, pick, args.baseline_budget)
        policies[name] = {
            **summary(outcomes, args.baseline_budget),
            "budget": args.baseline_budget,
            "items_per_learner": [o.items if o.reached else None for o in outcomes],
        }
        log(f"{name}: {policies[name]} ({time.perf_counter() - t:.1f} s)")
    sweep: dict[int, dict[str, Any]] = {}
    for reps in args.topo_reps_sweep:
        pop, learners = cohort()
        t = time.perf_counter()
        outcomes = run_local(cur, pop, learners, topological(cur, reps), args.baseline_budget)
        sweep[reps] = summary(outcomes, args.baseline_budget)
        log(
            f"topological, {reps} practice(s) a pass: {sweep[reps]} "
            f"({time.perf_counter() - t:.1f} s)"
        )
    with tempfile.TemporaryDirectory(prefix="bench-http-pop-") as tmp_name:
        tmp = Path(tmp_name)
        secret = secrets.token_urlsafe(32)
        env = {
            **os.environ,
            "LEARNGRAPH_JWT_SECRET": secret,
            "OMP_NUM_THREADS": "1",
            "LEARNGRAPH_LIMIT_TIMEOUT_S": str(args.request_timeout),
            "LEARNGRAPH_MODELS": str(tmp / "models"),
            "PYTHONPATH": str(ROOT),
        }
        db_url = f"sqlite:///{tmp / 'learngraph.db'}"
        cur.to_json(tmp / "curriculum.json")
        run_cli(["migrate", "--db", db_url], env)
        log(
            "".join(
                run_cli(["curriculum", "import", str(tmp / "curriculum.json"), "--db", db_url], env)
            ).strip()
        )
        auth = AuthConfig("HS256", secret, secret)

        def train() -> dict[str, Any]:
            log(
                f"training {args.tracer} on the warm-up cohort's answers (learngraph trace "
                f"train --db ... --activate)"
            )
            epochs = ["--epochs", str(args.epochs)] if args.tracer in ("dkt", "gnn") else []
            done = run_cli(
                [
                    "trace",
                    "train",
                    "--model",
                    args.tracer,
                    "--db",
                    db_url,
                    *epochs,
                    "--activate",
                    "--json",
                ],
                env,
            )[0]
            rec: dict[str, Any] = json.loads(done.strip().splitlines()[-1])
            log(f"  trained {rec['key']}: {json.dumps(rec.get('metrics', {}))[:300]}")
            return {
                "key": rec["key"],
                "metrics": rec.get("metrics", {}),
                "data": rec.get("data", {}),
            }

        server = start_server(db_url, env, tmp, args.start_timeout)
        log(f"learngraph serve at {server.url}")
        try:
            http = asyncio.run(over_http(args, server, auth, cur, train))
        finally:
            server.stop()
    policies["adaptive"] = {**http.pop("adaptive"), "budget": args.budget}
    res.update(http)
    res["policies"] = policies
    for stat in ("median", "p90"):
        base = policies["topological"][f"{stat}_items"]
        mine = policies["adaptive"][f"{stat}_items"]
        res[f"ratio_{stat}_vs_topological"] = mine / base if base else None
    if sweep:
        res["topological_sweep"] = topo_sweep(policies["adaptive"], sweep)
    return res


def topo_sweep(adaptive: dict[str, Any], sweep: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The adaptive cohort against the fixed order at each practices-per-pass in ``sweep``
    (same learners, the baseline budget), and against the best of them in hindsight: the
    smallest median and the smallest p90 over the sweep, each picked on the very learners
    measured (which favours the baseline)."""
    rows = []
    for reps, s in sorted(sweep.items()):
        rows.append(
            {
                "reps": reps,
                **s,
                "ratio_median": adaptive["median_items"] / s["median_items"]
                if s["median_items"]
                else None,
                "ratio_p90": adaptive["p90_items"] / s["p90_items"] if s["p90_items"] else None,
            }
        )
    best_median = min(rows, key=lambda r: r["median_items"])
    best_p90 = min(rows, key=lambda r: r["p90_items"])
    return {
        "rows": rows,
        "best_median_reps": best_median["reps"],
        "best_p90_reps": best_p90["reps"],
        "ratio_median_vs_best": best_median["ratio_median"],
        "ratio_p90_vs_best": best_p90["ratio_p90"],
    }


def ratio(x: float | None) -> str:
    return "n/a" if x is None else f"x{x:.2f}"


def budgets(args: argparse.Namespace) -> str:
    """Which item budget applies to which policy, in words."""
    if args.baseline_budget == args.budget:
        return f"{args.budget} items (every policy)"
    return f"{args.budget} items (adaptive), {args.baseline_budget} (topological, oracle)"


def censoring(res: dict[str, Any]) -> str:
    """What the ratios are when a policy's learners stop at its budget short of the goal
    (each counts as that budget): a lower bound if only the server's cohort is cut off, an
    upper bound if only the fixed order is, neither if both are."""
    short = [p for p in ("adaptive", "topological") if res["policies"][p]["reached_share"] < 1]
    if short == ["adaptive"]:
        return "; adaptive learners short of the goal count as its budget: lower bounds"
    if short == ["topological"]:
        return "; topological learners short of the goal count as its budget: upper bounds"
    if short:
        return "; both policies have learners cut off at their budget: neither bound"
    return ""


def report(res: dict[str, Any], args: argparse.Namespace) -> str:
    out = [
        f"{res['skills']} skills, {res['edges']} edges, {res['items']} items; goals: the "
        f"{res['goals']} deepest skills (closure {res['closure']}); population {args.population}"
        f", {args.learners} learners, seed {args.seed}; budget {budgets(args)}; "
        f"topological: {args.topo_reps} practice(s) per skill per pass; served model "
        f"{res['served_model']}\n",
        "| policy | budget | median items | p90 items | reached | goals mastered at the end | "
        "median ÷ topological |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    topo = res["policies"]["topological"]["median_items"]
    for name, label in (
        ("adaptive", "adaptive (`learngraph serve`, HTTP)"),
        ("topological", "fixed topological order"),
        ("oracle", "oracle (knows the true state)"),
    ):
        s = res["policies"][name]
        out.append(
            f"| {label} | {s['budget']} | {s['median_items']:.0f} | {s['p90_items']:.0f} | "
            f"{s['reached_share']:.0%} | {s['goals_mastered_at_end']:.0%} | "
            f"{ratio(s['median_items'] / topo if topo else None)} |"
        )
    a = res["policies"]["adaptive"]
    auc = a["auc_predicted_success"]
    med = a["request_median_ms"] or 0.0
    p99 = a["request_p99_ms"] or 0.0
    kinds = ", ".join(f"{k} {v:.1%}" for k, v in a["kinds"].items())
    out.append(
        f"\nServer's answers: {a['answers']} ({kinds}); the same item twice in a row "
        f"{a['immediate_repeats']:.1%}; AUC of predictedSuccess vs the answers "
        f"{'n/a' if auc is None else f'{auc:.3f}'}; {a['empty_recommendations']} empty "
        f"recommendation(s). {a['requests']} requests, median {med:.1f} ms, p99 {p99:.1f} ms, "
        f"slowest {a['request_max_ms'] or 0.0:.0f} ms; "
        f"{a['wall_s']:.0f} s over HTTP.\n"
        f"adaptive ÷ topological: median {ratio(res['ratio_median_vs_topological'])}, "
        f"p90 {ratio(res['ratio_p90_vs_topological'])} (target: <= {BAR}){censoring(res)}."
    )
    if "topological_sweep" in res:
        sw = res["topological_sweep"]
        out.append(
            "\nThe fixed order at other practices per skill per pass (same learners, budget "
            "as above):\n\n| practices a pass | topological median | p90 | reached | adaptive ÷ "
            "it (median, p90) |\n|---:|---:|---:|---:|---|"
        )
        for r in sw["rows"]:
            out.append(
                f"| {r['reps']} | {r['median_items']:.0f} | {r['p90_items']:.0f} | "
                f"{r['reached_share']:.0%} | {ratio(r['ratio_median'])}, "
                f"{ratio(r['ratio_p90'])} |"
            )
        out.append(
            f"Against the best in hindsight (median at {sw['best_median_reps']}, p90 at "
            f"{sw['best_p90_reps']} practices a pass): median {ratio(sw['ratio_median_vs_best'])}"
            f", p90 {ratio(sw['ratio_p90_vs_best'])} (target: <= {BAR})."
        )
    if "warmup" in res:
        w, tr = res["warmup"], res["training"]
        out.append(
            f"Warm-up cohort (other learners, the same population): {w['learners']} learners, "
            f"{w['answers']} answers over HTTP ({w['wall_s']:.0f} s); {tr['key']} trained on "
            f"them and activated; its metrics: {json.dumps(tr['metrics'])[:400]}"
        )
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--table", default=str(JUNYI_TABLE), help="a Junyi-format exercise table")
    ap.add_argument("--items-per-skill", type=int, default=4)
    ap.add_argument("--goals", type=int, default=40, help="the N deepest skills are the goals")
    ap.add_argument("--population", default="seed", choices=POPULATIONS)
    ap.add_argument("--learners", type=int, default=10)
    ap.add_argument("--budget", type=int, default=1500, help="items per learner at most")
    ap.add_argument(
        "--baseline-budget",
        type=int,
        default=None,
        help="items per learner at most for the client-side policies (topological, "
        "oracle); default: --budget",
    )
    ap.add_argument("--topo-reps", type=int, default=3, help="fixed order: practices per skill")
    ap.add_argument(
        "--topo-reps-sweep",
        type=lambda v: [int(x) for x in v.split(",")],
        default=[],
        metavar="R[,R...]",
        help="also run the fixed order at each of these practices per pass (client-side, same "
        "learners, --baseline-budget) and print the adaptive cohort's ratio to each and to the "
        "best of them in hindsight",
    )
    ap.add_argument("--lanes", type=int, default=2, help="learners driven at once over HTTP")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--tracer",
        default="bkt",
        choices=("bkt", "gnn", "dkt", "elo"),
        help="bkt: the default BKT serves; otherwise a model of this kind is "
        "trained on a warm-up cohort's answers and activated first",
    )
    ap.add_argument("--warmup-learners", type=int, default=10)
    ap.add_argument("--warmup-budget", type=int, default=300, help="items per warm-up learner")
    ap.add_argument("--epochs", type=int, default=5, help="training epochs (dkt, gnn)")
    ap.add_argument("--start-timeout", type=float, default=120.0, help="seconds for serve")
    ap.add_argument(
        "--request-timeout",
        type=float,
        default=60.0,
        help="the server's request time limit (LEARNGRAPH_LIMIT_TIMEOUT_S; default "
        "60 s: the first request after a model switch loads the model)",
    )
    ap.add_argument("--json", default=None, metavar="PATH")
    args = ap.parse_args(argv)
    if args.baseline_budget is None:
        args.baseline_budget = args.budget
    if min(args.learners, args.budget, args.baseline_budget, args.topo_reps, args.lanes) < 1:
        raise SystemExit(
            "--learners, --budget, --baseline-budget, --topo-reps and --lanes must be at least 1"
        )
    if any(r < 1 for r in args.topo_reps_sweep):
        raise SystemExit(f"--topo-reps-sweep {args.topo_reps_sweep}: every value at least 1")
    if not Path(args.table).exists():
        raise SystemExit(f"exercise table not found: {args.table} (set LEARNGRAPH_DATASETS)")
    res = run(args)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print(report(res, args))
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "loadavg": load, "result": res}, indent=2)
        )
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
