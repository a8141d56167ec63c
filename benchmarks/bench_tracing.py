"""Knowledge-tracing benchmark: accuracy on public and simulated data, cold start, online speed.

Every model runs through the same code as ``learngraph trace evaluate`` (``tracing.evaluate``):
fit on the training learners, predict each test answer from the same learner's earlier test
answers, score all test answers once each.

Sections (``--sections``, default all):

``assist``     ASSISTments 2015 fixed split: AUC, accuracy, RMSE, ECE, train/predict seconds for
               each model and for pyBKT (the reference BKT library) on the same split, in this
               process. Published on this split (DKVMN paper, Zhang et al., WWW 2017):
               DKT 0.725, DKVMN 0.727.
``synthetic``  DKT synthetic data (Piech et al. 2015), the paper's protocol: rows 1-2000 train,
               rows 2001-4000 test, for each of the files v0..v4.
``simulated``  learners simulated by ``seed/`` on the demo curriculum (80/20 split by learner):
               AUC of each model against the AUC of the simulator's own true P(correct) (the
               ceiling), and the error of each model's mastery against the true mastery at each
               test learner's last answer.
``coldstart``  the simulated data with 20% of the exercises removed from training: AUC on the
               test answers to those never-seen items, next to the AUC on the other answers.
``speed``      online latency of ``update`` (one attempt) and ``mastery`` (every skill), median
               and p99, on a trained ASSISTments model (100 skills) and on a random 1,000-skill
               curriculum; the baseline is replaying a 200-answer history (what a design
               without stored state would pay per attempt).

Run (2 shared cores; neural models are the slow part)::

    nice .venv/bin/python benchmarks/bench_tracing.py --plots benchmarks/results/tracing \\
        --json benchmarks/results/tracing/bench.json

Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracing.base import Interaction, Tracer, Vocabulary  # noqa: E402
from tracing.data import TraceData, read_split  # noqa: E402
from tracing.evaluate import EvalResult, evaluate, load_split, make_tracer  # noqa: E402
from tracing.metrics import auc, score  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets"
if not DATA.exists():
    DATA = Path("/work/shared/datasets")
PUBLISHED_ASSIST = {"DKT (DKVMN paper)": 0.725, "DKVMN (DKVMN paper)": 0.727}
SECTIONS = ("assist", "synthetic", "simulated", "coldstart", "speed")


def progress(message: str, fraction: float) -> None:
    print(f"  [{fraction:6.1%}] {message}", file=sys.stderr, flush=True)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def neural_available(kind: str) -> bool:
    module = {"dkt": "tracing.dkt", "gnn": "tracing.gnn"}.get(kind)
    if module is None:
        return True
    import importlib.util

    return importlib.util.find_spec(module) is not None


def model_params(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    if kind in ("dkt", "gnn") and args.neural_epochs is not None:
        return {"max_epochs": args.neural_epochs}
    return {}


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "n/a" if v != v else f"{v:.4f}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)

    cells = [[fmt(v) for v in r] for r in rows]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in cells]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# pyBKT, run on the same split


def import_pybkt() -> Any:
    """Import pyBKT 1.4.x under the installed scikit-learn / numpy.

    Two shims, no pyBKT code copied: its import-time metric discovery calls every
    ``sklearn.metrics._classification.*_loss`` with lists and only expects TypeError (recent
    scikit-learn raises AttributeError in ``_log_loss``), so that one function refuses with
    TypeError during the import; and its EM loop stores a 1-element array into a float slot,
    which numpy 2 rejects, so ``EM_fit.run``'s log-likelihood is turned into a float.
    """
    import sklearn.metrics._classification as skc

    original = skc._log_loss

    def refuse(*_: Any, **__: Any) -> Any:
        raise TypeError("not offered to pyBKT")

    skc._log_loss = refuse
    try:
        from pyBKT.models import Model
    finally:
        skc._log_loss = original
    from pyBKT.fit import EM_fit

    run = EM_fit.run

    def run_float(*a: Any, **kw: Any) -> Any:
        result = run(*a, **kw)
        result["total_loglike"] = float(np.asarray(result["total_loglike"]).sum())
        return result

    EM_fit.run = run_float
    return Model


def pybkt_frame(data: TraceData, offset: int) -> Any:
    import pandas as pd

    rows = []
    order = 0
    for n, seq in enumerate(data.sequences):
        for x in seq:
            rows.append((offset + n, data.vocab.skill_ids[x.skills[0]], x.correct, order))
            order += 1
    return pd.DataFrame(rows, columns=["user_id", "skill_name", "correct", "order_id"])


def run_pybkt(train: TraceData, test: TraceData, seed: int,
              parallel: bool = False) -> dict[str, Any]:
    """pyBKT's standard BKT (one EM fit per skill, its defaults) on the same split.

    ``parallel`` is pyBKT's own switch: its E-step spreads sequences over a process pool
    the size of the machine's cores.
    """
    model_cls = import_pybkt()
    if any(len(x.skills) != 1 for s in train.sequences + test.sequences for x in s):
        raise RuntimeError("this pyBKT run expects one skill per answer")
    ftr, fte = pybkt_frame(train, 0), pybkt_frame(test, 10**7)
    model = model_cls(seed=seed, num_fits=1, parallel=parallel)
    start = time.perf_counter()
    model.fit(data=ftr)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    pred = model.predict(data=fte).sort_values("order_id")
    predict_s = time.perf_counter() - start
    y = pred["correct"].to_numpy(dtype=float)
    p = np.clip(pred["correct_predictions"].to_numpy(dtype=float), 0.0, 1.0)
    return {"model": "pyBKT", **score(y, p), "train_seconds": train_s,
            "predict_seconds": predict_s, "n_test": len(y), "y": y, "p": p}


# --------------------------------------------------------------------------------------------
# sections


def section_assist(args: argparse.Namespace, out: dict[str, Any],
                   fitted: dict[str, Tracer]) -> None:
    say("== ASSISTments 2015, fixed split")
    d = DATA / "assist2015"
    train, test = read_split(d / "assist2015_train.csv", d / "assist2015_test.csv")
    rows: list[list[Any]] = []
    curves = []
    results = []
    for kind in args.models:
        if not neural_available(kind):
            say(f"  {kind}: tracing/{kind}.py not present, skipped")
            continue
        say(f"  {kind}: fitting on {train.n_interactions} answers")
        tracer = make_tracer(kind, model_params(kind, args))
        r = evaluate(tracer, train, test, seed=args.seed, progress=progress)
        fitted[kind] = tracer
        results.append(r)
        rows.append([kind, r.metrics["auc"], r.metrics["accuracy"], r.metrics["rmse"],
                     r.metrics["ece"], r.train_seconds, r.predict_seconds])
        curves.append((kind, r.y_true, r.y_prob))
    if args.bkt_forget:
        say("  bkt with forgetting")
        r = evaluate(make_tracer("bkt", {"forget": True}), train, test, seed=args.seed,
                     progress=progress)
        results.append(r)
        rows.append(["bkt, forget=True", r.metrics["auc"], r.metrics["accuracy"],
                     r.metrics["rmse"], r.metrics["ece"], r.train_seconds, r.predict_seconds])
    if args.pybkt:
        # pyBKT installs from PyPI without its C++ extension here (pure-Python EM, about an
        # hour on the full train file on 2 shared cores), so pyBKT and our BKT are also both
        # fitted on the first --pybkt-learners training learners and scored on the full test.
        n = min(args.pybkt_learners, len(train.sequences))
        sub = train.subset(range(n))
        say(f"  pyBKT and bkt on the first {n} training learners ({sub.n_interactions} answers)")
        ours = evaluate(make_tracer("bkt"), sub, test, seed=args.seed, progress=progress)
        rows.append([f"bkt, first {n} train learners", ours.metrics["auc"],
                     ours.metrics["accuracy"], ours.metrics["rmse"], ours.metrics["ece"],
                     ours.train_seconds, ours.predict_seconds])
        try:
            pb = run_pybkt(sub, test, args.seed, parallel=args.pybkt_parallel)
            rows.append([f"pyBKT 1.4.3, first {n} train learners", pb["auc"], pb["accuracy"],
                         pb["rmse"], pb["ece"], pb["train_seconds"], pb["predict_seconds"]])
            curves.append(("pyBKT", pb["y"], pb["p"]))
            out["assist_pybkt"] = {k: v for k, v in pb.items() if k not in ("y", "p")}
            out["assist_pybkt"]["train_learners"] = n
            out["assist_bkt_same_subset"] = ours.to_json()
        except Exception as exc:  # report why the peer could not run, keep the rest
            say(f"  pyBKT failed: {exc!r}")
            out["assist_pybkt"] = {"error": repr(exc)}
    for name, value in PUBLISHED_ASSIST.items():
        rows.append([f"{name}, published", value, float("nan"), float("nan"), float("nan"),
                     float("nan"), float("nan")])
    out["assist"] = [r.to_json() for r in results]
    print(f"\n### ASSISTments 2015 ({train.n_interactions} train / {test.n_interactions} test "
          f"answers, {len(train.sequences)} / {len(test.sequences)} learners)\n")
    print(table(["model", "AUC", "accuracy", "RMSE", "ECE", "train s", "predict s"], rows))
    if args.plots is not None and curves:
        from tracing.plots import plot_calibration, plot_roc

        plot_roc(curves, args.plots / "assist2015-roc.png", "ASSISTments 2015 test: ROC")
        plot_calibration(curves, args.plots / "assist2015-calibration.png",
                         "ASSISTments 2015 test: calibration")


def section_synthetic(args: argparse.Namespace, out: dict[str, Any]) -> None:
    say("== DKT synthetic data (rows 1-2000 train, 2001-4000 test)")
    per_model: dict[str, list[float]] = {}
    for v in args.synthetic_versions:
        path = DATA / "synthetic-dkt" / f"naive_c5_q50_s4000_v{v}.csv"
        train, test, _ = load_split(path, None)
        for kind in args.models:
            if not neural_available(kind):
                continue
            say(f"  v{v} {kind}")
            r = evaluate(make_tracer(kind, model_params(kind, args)), train, test,
                         seed=args.seed, progress=progress)
            per_model.setdefault(kind, []).append(r.metrics["auc"])
    rows = []
    for kind, aucs in per_model.items():
        sd = statistics.stdev(aucs) if len(aucs) > 1 else 0.0
        rows.append([kind, len(aucs), statistics.mean(aucs), sd, min(aucs), max(aucs)])
    out["synthetic"] = {k: v for k, v in per_model.items()}
    print(f"\n### DKT synthetic data, files v{','.join(map(str, args.synthetic_versions))}\n")
    print(table(["model", "files", "mean AUC", "sd", "min", "max"], rows))


def simulated_data(args: argparse.Namespace) -> tuple[TraceData, dict[str, float], Any]:
    from seed.curriculum import demo_curriculum
    from seed.population import simulate_population
    from tracing.data import from_store_attempts

    curriculum = demo_curriculum()
    say(f"  simulating {args.sim_learners} learners (seed {args.seed + 7})")
    pop = simulate_population(curriculum, n_learners=args.sim_learners, seed=args.seed + 7)
    data = from_store_attempts(pop.attempts, curriculum.items, curriculum.edges)
    return data, pop.truth.p_correct_by_attempt(), pop.truth


def mastery_error(tracer: Tracer, test: TraceData, truth: Any, limit: int) -> dict[str, float]:
    """Mastery after each test learner's last answer vs the true mastery then, over the
    skills the learner practised: mean absolute error, Brier score, AUC."""
    epoch = truth.epoch.timestamp()
    est: list[float] = []
    real: list[float] = []
    for lid, seq in list(zip(test.learner_ids, test.sequences, strict=True))[:limit]:
        state = tracer.init_state()
        for x in seq:
            state = tracer.update(state, x)
        m = np.asarray(tracer.mastery(state), dtype=float)
        truly = truth.mastery_at(lid, seq[-1].timestamp - epoch)
        for k in sorted({s for x in seq for s in x.skills}):
            est.append(float(m[k]))
            real.append(1.0 if truly[test.vocab.skill_ids[k]] else 0.0)
    e, r = np.array(est), np.array(real)
    return {"mastery_mae": float(np.abs(e - r).mean()), "mastery_brier": float(((e - r) ** 2)
            .mean()), "mastery_auc": auc(r, e), "mastery_pairs": len(e)}


def section_simulated(args: argparse.Namespace, out: dict[str, Any],
                      sim: tuple[TraceData, dict[str, float], Any]) -> None:
    from tracing.data import split_learners

    say("== simulated learners (seed/ demo curriculum)")
    data, p_true, truth = sim
    train, test = split_learners(data, 0.2, seed=args.seed)
    assert test.attempt_ids is not None
    y = np.fromiter((x.correct for s in test.sequences for x in s), dtype=float)
    ceiling_p = np.array([p_true[a] for ids in test.attempt_ids for a in ids])
    ceiling = auc(y, ceiling_p)
    rows: list[list[Any]] = [["simulator truth (ceiling)", ceiling, 0.0,
                              score(y, ceiling_p)["ece"], float("nan"), float("nan"),
                              float("nan")]]
    res = []
    for kind in args.models:
        if not neural_available(kind):
            continue
        say(f"  {kind}")
        tracer = make_tracer(kind, model_params(kind, args))
        r = evaluate(tracer, train, test, seed=args.seed, progress=progress)
        me = mastery_error(tracer, test, truth, args.mastery_learners)
        rows.append([kind, r.metrics["auc"], ceiling - r.metrics["auc"], r.metrics["ece"],
                     me["mastery_mae"], me["mastery_brier"], me["mastery_auc"]])
        res.append({**r.to_json(), **me, "ceiling_auc": ceiling})
    out["simulated"] = res
    print(f"\n### Simulated learners ({len(data.sequences)} learners, {data.n_interactions} "
          f"answers, {data.vocab.n_skills} skills, {data.vocab.n_items} items; 80/20 split by "
          f"learner)\n")
    print(table(["model", "AUC", "gap to ceiling", "ECE", "mastery MAE", "mastery Brier",
                 "mastery AUC"], rows))


def section_coldstart(args: argparse.Namespace, out: dict[str, Any],
                      sim: tuple[TraceData, dict[str, float], Any]) -> None:
    from tracing.data import split_learners

    say("== cold start: 20% of the exercises never seen in training")
    data, _, _ = sim
    train, test = split_learners(data, 0.2, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    answered = sorted({x.item for s in data.sequences for x in s})
    cold = set(rng.choice(answered, size=len(answered) // 5, replace=False).tolist())
    kept = [[x for x in s if x.item not in cold] for s in train.sequences]
    keep_idx = [i for i, s in enumerate(kept) if s]
    train_warm = TraceData([kept[i] for i in keep_idx], [train.learner_ids[i] for i in keep_idx],
                           train.vocab, train.source, train.format)
    is_cold = np.fromiter((x.item in cold for s in test.sequences for x in s), dtype=bool)
    rows = []
    res = []
    for kind in args.models:
        if not neural_available(kind):
            continue
        say(f"  {kind}")
        r = evaluate(make_tracer(kind, model_params(kind, args)), train_warm, test,
                     seed=args.seed, progress=progress)
        warm_auc = auc(r.y_true[~is_cold], r.y_prob[~is_cold])
        cold_auc = auc(r.y_true[is_cold], r.y_prob[is_cold])
        rows.append([kind, cold_auc, warm_auc, int(is_cold.sum()), int((~is_cold).sum())])
        res.append({"model": kind, "cold_auc": cold_auc, "warm_auc": warm_auc,
                    "n_cold": int(is_cold.sum()), "n_warm": int((~is_cold).sum())})
    out["coldstart"] = res
    print(f"\n### Cold start ({len(cold)} of {len(answered)} answered exercises held out of "
          "training)\n")
    print(table(["model", "AUC on never-seen items", "AUC on seen items", "cold answers",
                 "warm answers"], rows))


def time_calls(fn: Callable[[], Any], calls: int) -> tuple[float, float]:
    """Median and p99 latency of ``fn()`` in microseconds."""
    t = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter_ns()
        fn()
        t[i] = time.perf_counter_ns() - start
    return float(np.median(t) / 1e3), float(np.percentile(t, 99) / 1e3)


def random_curriculum(n_skills: int, n_items: int, seed: int) -> Vocabulary:
    rng = np.random.default_rng(seed)
    edges = set()
    for target in range(1, n_skills):
        for source in rng.choice(target, size=min(target, 2), replace=False):
            edges.add((int(source), target))
    q = []
    for _ in range(n_items):
        k = int(rng.integers(0, n_skills))
        q.append((k,) if rng.random() < 0.7 else tuple(sorted({k, int(rng.integers(0,
                                                                                      n_skills))})))
    return Vocabulary(tuple(f"i{i}" for i in range(n_items)),
                      tuple(f"s{k}" for k in range(n_skills)), tuple(q), tuple(sorted(edges)))


def random_sequences(vocab: Vocabulary, n: int, length: int, seed: int
                     ) -> list[list[Interaction]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        items = rng.integers(0, vocab.n_items, size=length)
        out.append([Interaction(int(i), vocab.item_skills[int(i)], int(rng.random() < 0.7),
                                float(t)) for t, i in enumerate(items)])
    return out


def speed_rows(name: str, tracer: Tracer, seq: Sequence[Interaction], calls: int
               ) -> list[Any]:
    state = tracer.init_state()
    history = list(seq)
    for x in history[:20]:
        state = tracer.update(state, x)
    xs = history[20:] or history
    it = iter(range(10**9))
    upd = time_calls(lambda: tracer.update(state, xs[next(it) % len(xs)]), calls)
    mas = time_calls(lambda: tracer.mastery(state), calls)
    replay_hist = [history[: 200]] if len(history) >= 200 else [(history * 200)[:200]]
    rep = time_calls(lambda: tracer.predict_sequences(replay_hist), max(20, calls // 50))
    return [name, upd[0], upd[1], mas[0], mas[1], rep[0], rep[0] / upd[0]]


def section_speed(args: argparse.Namespace, out: dict[str, Any],
                  fitted: dict[str, Tracer]) -> None:
    say("== online speed")
    rows = []
    d = DATA / "assist2015"
    train, test = read_split(d / "assist2015_train.csv", d / "assist2015_test.csv")
    long_seq = max(test.sequences, key=len)
    for kind in args.models:
        if not neural_available(kind):
            continue
        tracer = fitted.get(kind)
        if tracer is None:
            say(f"  fitting {kind} on ASSISTments for timing")
            params = model_params(kind, args)
            if kind in ("dkt", "gnn"):
                params = {**params, "max_epochs": 1}
            tracer = make_tracer(kind, params)
            sub = train.subset(range(min(2000, len(train.sequences))))
            tracer.fit(sub.sequences, sub.vocab, seed=args.seed)
        say(f"  timing {kind} (100 skills)")
        rows.append(speed_rows(f"{kind}, ASSISTments (100 skills)", tracer, long_seq,
                               args.calls))
    vocab = random_curriculum(1000, 3000, args.seed)
    seqs = random_sequences(vocab, 300, 60, args.seed)
    for kind in args.models:
        if not neural_available(kind):
            continue
        say(f"  timing {kind} (1,000 skills)")
        params = {"max_epochs": 1} if kind in ("dkt", "gnn") else {}
        tracer = make_tracer(kind, params)
        if kind in ("dkt", "gnn"):
            tracer.fit(seqs, vocab, seed=args.seed)
        else:
            tracer.fit(seqs, vocab, seed=args.seed)
        rows.append(speed_rows(f"{kind}, random 1,000-skill graph", tracer, seqs[0] * 4,
                               args.calls))
    out["speed"] = [dict(zip(["model", "update_median_us", "update_p99_us",
                              "mastery_median_us", "mastery_p99_us",
                              "replay200_median_us", "replay_over_update"], r, strict=True))
                    for r in rows]
    print(f"\n### Online speed (µs; {args.calls} calls each; one learner, one attempt)\n")
    print(table(["model", "update median", "update p99", "mastery (all skills) median",
                 "mastery p99", "baseline: replay 200 answers", "replay / update"], rows))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", nargs="+", default=list(SECTIONS), choices=SECTIONS)
    ap.add_argument("--models", nargs="+", default=["bkt", "elo", "dkt", "gnn"],
                    choices=["bkt", "elo", "dkt", "gnn"])
    ap.add_argument("--no-pybkt", dest="pybkt", action="store_false")
    ap.add_argument("--bkt-forget", action="store_true",
                    help="ASSISTments section: also BKT with a fitted forgetting probability")
    ap.add_argument("--pybkt-parallel", action="store_true",
                    help="let pyBKT use a process pool over all cores")
    ap.add_argument("--pybkt-learners", type=int, default=2000,
                    help="training learners for the pyBKT comparison (default 2000)")
    ap.add_argument("--neural-epochs", type=int, default=None,
                    help="cap on DKT/GNN training epochs (default: the models' own)")
    ap.add_argument("--synthetic-versions", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--sim-learners", type=int, default=600)
    ap.add_argument("--mastery-learners", type=int, default=120)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plots", type=Path, default=None, help="folder for PNG plots")
    ap.add_argument("--json", type=Path, default=None, help="write all figures as JSON")
    args = ap.parse_args(argv)
    out: dict[str, Any] = {"argv": sys.argv[1:] if argv is None else list(argv)}
    fitted: dict[str, Tracer] = {}
    start = time.perf_counter()
    if "assist" in args.sections:
        section_assist(args, out, fitted)
    if "synthetic" in args.sections:
        section_synthetic(args, out)
    if "simulated" in args.sections or "coldstart" in args.sections:
        sim = simulated_data(args)
        if "simulated" in args.sections:
            section_simulated(args, out, sim)
        if "coldstart" in args.sections:
            section_coldstart(args, out, sim)
    if "speed" in args.sections:
        section_speed(args, out, fitted)
    out["wall_seconds"] = time.perf_counter() - start
    print(f"\n(total {out['wall_seconds']:.0f} s)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["EvalResult"]
