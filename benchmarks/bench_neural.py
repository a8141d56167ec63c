"""Benchmark the neural tracers (DKT, GNN) on a fixed train/test split, and their online speed.

Accuracy: trains on the train file (early stopping on 10% of its learners), then scores every
test interaction from the same learner's earlier test interactions, and prints AUC, accuracy,
RMSE, ECE, train (wall and process CPU) and predict seconds (one JSON line per model with
``--json``)::

    nice .venv/bin/python benchmarks/bench_neural.py --models dkt gnn \
        --train ../shared/datasets/assist2015/assist2015_train.csv \
        --test ../shared/datasets/assist2015/assist2015_test.csv

Online speed: ``--latency`` builds a random 1,000-skill curriculum (items, Q-matrix and
prerequisite edges), fits each model briefly on simulated answers, and times ``update`` and
``mastery`` for one learner (median / p99 over many calls), with ``predict_state`` on one item
as the in-process baseline. Both wall time and the calling thread's CPU time are reported: on
a shared, overloaded machine the wall-time p99 is mostly time spent descheduled::

    nice .venv/bin/python benchmarks/bench_neural.py --latency --models dkt gnn

Cold start: ``--cold`` simulates learners on the project's demo curriculum (``seed/``), removes
20% of the items from all training sequences, and reports the AUC on test learners' answers to
those never-seen items, next to the AUC on the others::

    nice .venv/bin/python benchmarks/bench_neural.py --cold --models dkt gnn gnn0

Training cost: ``--cost`` times the same training batches for each model in one process
(process CPU seconds and the ratio to the first model)::

    nice .venv/bin/python benchmarks/bench_neural.py --cost --models dkt gnn
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracing.base import Interaction, Vocabulary  # noqa: E402
from tracing.gnn_recurrent import RecurrentTracer  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "assist2015"


def progress(message: str, fraction: float) -> None:
    print(f"[{fraction:6.1%}] {message}", file=sys.stderr, flush=True)


def build(model: str, args: argparse.Namespace) -> RecurrentTracer:
    kw: dict[str, Any] = {"num_threads": args.threads}
    for name in ("hidden_size", "batch_size", "max_epochs", "lr", "window", "cell", "dropout"):
        value = getattr(args, name)
        if value is not None:
            kw[name] = value
    if model == "dkt":
        from tracing.dkt import DKTTracer

        return DKTTracer(**kw)
    from tracing.gnn import GNNTracer

    for name in ("gnn_layers", "recap"):
        if getattr(args, name) is not None:
            kw[name] = getattr(args, name)
    if model == "gnn0":
        kw["gnn_layers"] = 0
    if model == "gnnqa":  # the question-level layers on (tracing/gnn_attention.py)
        kw.update({"attention_window": 50, "irt": "2pl"})
    elif model == "gnn":  # the graph tracer without them
        kw.update({"attention_window": 0, "irt": "none"})
    return GNNTracer(**kw)


def accuracy(args: argparse.Namespace) -> None:
    from tracing.data import read_split
    from tracing.metrics import score

    train, test = read_split(args.train, args.test)
    seqs = train.sequences[: args.limit] if args.limit else train.sequences
    y = np.concatenate([[x.correct for x in s] for s in test.sequences]).astype(float)
    for model in args.models:
        tracer = build(model, args)
        t0, c0 = time.perf_counter(), time.process_time()
        tracer.fit(seqs, train.vocab, seed=args.seed, progress=progress)
        train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        p = np.concatenate(tracer.predict_sequences(test.sequences))
        predict_s = time.perf_counter() - t0
        row = {
            "model": model,
            **score(y, p),
            "n_train": sum(len(s) for s in seqs),
            "n_test": int(len(y)),
            "train_seconds": round(train_s, 1),
            "train_cpu_seconds": round(train_cpu, 1),
            "predict_seconds": round(predict_s, 2),
            "epochs_run": tracer.fit_info.get("epochs_run"),
            "best_epoch": tracer.fit_info.get("best_epoch"),
            "best_valid_auc": tracer.fit_info.get("best_valid_auc"),
            "hyperparameters": tracer.hyperparameters(),
            "seed": args.seed,
        }
        if args.save:
            tracer.save(Path(args.save) / f"{model}.pt", {"train": str(args.train)})
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            print(
                f"{model:4s} auc={row['auc']:.4f} acc={row['accuracy']:.4f} "
                f"rmse={row['rmse']:.4f} ece={row['ece']:.4f} train={train_s:.0f}s "
                f"predict={predict_s:.1f}s epochs={row['epochs_run']} "
                f"best={row['best_epoch']}",
                flush=True,
            )


def synthetic_curriculum(
    n_skills: int, items_per_skill: int, rng: np.random.Generator
) -> Vocabulary:
    """A random curriculum: each item assesses one or two skills; each skill after the first
    has up to two prerequisites among the earlier skills (a DAG)."""
    item_skills: list[tuple[int, ...]] = []
    for s in range(n_skills):
        for _ in range(items_per_skill):
            other = int(rng.integers(n_skills))
            item_skills.append((s,) if rng.random() < 0.7 or other == s else (s, other))
    prereq = {
        (int(rng.integers(s)), s) for s in range(1, n_skills) for _ in range(int(rng.integers(3)))
    }
    return Vocabulary(
        item_ids=tuple(f"i{i}" for i in range(len(item_skills))),
        skill_ids=tuple(f"s{s}" for s in range(n_skills)),
        item_skills=tuple(item_skills),
        prerequisites=tuple(sorted(prereq)),
    )


def simulated_sequences(
    vocab: Vocabulary, n_learners: int, length: int, rng: np.random.Generator
) -> list[list[Interaction]]:
    skill_p = rng.uniform(0.2, 0.9, size=vocab.n_skills)
    seqs = []
    for _ in range(n_learners):
        items = rng.integers(vocab.n_items, size=length)
        seq = []
        for i in items:
            sk = vocab.item_skills[i]
            seq.append(Interaction(int(i), sk, int(rng.random() < skill_p[sk[0]])))
        seqs.append(seq)
    return seqs


def latency(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    vocab = synthetic_curriculum(1000, 3, rng)
    seqs = simulated_sequences(vocab, 200, 50, rng)
    learner = simulated_sequences(vocab, 1, args.calls, rng)[0]
    for model in args.models:
        # one epoch, timing only; given to the constructor (the GNN resolves its schedule
        # from the data at fit time, so a later attribute would not reach it)
        tracer = build(model, argparse.Namespace(**{**vars(args), "max_epochs": 1}))
        tracer.fit(seqs, vocab, seed=args.seed)
        state = tracer.init_state()
        wall: dict[str, list[float]] = {"update": [], "mastery": [], "predict_one": []}
        cpu: dict[str, list[float]] = {"update": [], "mastery": [], "predict_one": []}
        for x in learner:
            for name in ("predict_one", "update", "mastery"):
                c0, w0 = time.thread_time(), time.perf_counter()
                if name == "predict_one":
                    tracer.predict_state(state, [x.item])
                elif name == "update":
                    state = tracer.update(state, x)
                else:
                    tracer.mastery(state)
                wall[name].append(time.perf_counter() - w0)
                cpu[name].append(time.thread_time() - c0)
        row: dict[str, Any] = {"model": model, "n_skills": vocab.n_skills,
                               "n_items": vocab.n_items, "calls": len(learner)}
        for name in wall:
            for kind, values in (("wall", wall[name]), ("cpu", cpu[name])):
                ms = np.array(values[10:]) * 1e3  # first calls warm the allocator
                row[f"{name}_{kind}_median_ms"] = round(float(np.median(ms)), 4)
                row[f"{name}_{kind}_p99_ms"] = round(float(np.percentile(ms, 99)), 4)
        row["updates_per_s_wall"] = round(1e3 / row["update_wall_median_ms"])
        print(json.dumps(row) if args.json else row, flush=True)


def cost(args: argparse.Namespace) -> None:
    """CPU seconds of the same training batches for each model, in one process (the ratio is
    what a loaded machine cannot distort)."""
    import torch

    from tracing.data import read_split
    from tracing.gnn_batch import batches_by_length, make_batch, windows

    torch.set_num_threads(args.threads)
    train, _ = read_split(args.train, args.test)
    pieces = windows(train.sequences, args.window or 200)
    order = batches_by_length(pieces, args.batch_size or 64, np.random.default_rng(args.seed))
    batches = [make_batch([pieces[i] for i in idx], train.vocab) for idx in order][: args.batches]
    base = None
    for model in args.models:
        tracer = build(model, args)
        torch.manual_seed(args.seed)
        net = tracer.build_net(train.vocab, train.sequences, {})
        opt = torch.optim.Adam(net.parameters())
        c0 = time.process_time()
        for b in batches:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(b)[b.mask], b.correct[b.mask]
            )
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
        cpu = time.process_time() - c0
        base = base or cpu
        row = {"model": model, "batches": len(batches), "cpu_seconds": round(cpu, 3),
               "ratio_vs_first": round(cpu / base, 2)}
        print(json.dumps(row) if args.json else row, flush=True)


def cold(args: argparse.Namespace) -> None:
    """Cold start on the demo curriculum: simulated learners (``seed/``), 20% of the items
    removed from every training sequence, AUC on the test learners' answers to those items."""
    from seed.curriculum import demo_curriculum
    from seed.population import simulate_population
    from tracing.data import from_store_attempts
    from tracing.metrics import score

    cur = demo_curriculum()
    pop = simulate_population(cur, n_learners=args.learners, seed=args.seed)
    data = from_store_attempts(pop.attempts, cur.items, cur.graph.edges)
    vocab, seqs = data.vocab, data.sequences
    rng = np.random.default_rng(args.seed)
    cold_items = set(rng.choice(vocab.n_items, size=vocab.n_items // 5, replace=False).tolist())
    order = rng.permutation(len(seqs))
    n_test = len(seqs) // 5
    test = [seqs[i] for i in order[:n_test]]
    train = [[x for x in seqs[i] if x.item not in cold_items] for i in order[n_test:]]
    y = np.concatenate([[x.correct for x in s] for s in test]).astype(float)
    is_cold = np.concatenate([[x.item in cold_items for x in s] for s in test])
    for model in args.models:
        tracer = build(model, args)
        t0 = time.perf_counter()
        tracer.fit(train, vocab, seed=args.seed, progress=progress)
        p = np.concatenate(tracer.predict_sequences(test))
        row = {
            "model": model,
            "learners": args.learners,
            "n_items": vocab.n_items,
            "n_cold_items": len(cold_items),
            "n_test": int(len(y)),
            "n_test_cold": int(is_cold.sum()),
            "auc_cold": score(y[is_cold], p[is_cold])["auc"],
            "auc_warm": score(y[~is_cold], p[~is_cold])["auc"],
            "auc_all": score(y, p)["auc"],
            "seconds": round(time.perf_counter() - t0, 1),
        }
        print(json.dumps(row) if args.json else row, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", default=["dkt", "gnn"],
                    choices=["dkt", "gnn", "gnn0", "gnnqa"],
                    help="gnn0: the GNN without GCN layers (cold items get no embedding); "
                         "gnnqa: with the question-level layers (attention, 2PL terms)")
    ap.add_argument("--train", default=str(DATA / "assist2015_train.csv"))
    ap.add_argument("--test", default=str(DATA / "assist2015_test.csv"))
    ap.add_argument("--limit", type=int, default=0, help="use only the first N train learners")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hidden-size", dest="hidden_size", type=int)
    ap.add_argument("--batch-size", dest="batch_size", type=int)
    ap.add_argument("--max-epochs", dest="max_epochs", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--window", type=int)
    ap.add_argument("--cell", choices=["lstm", "gru"])
    ap.add_argument("--dropout", type=float)
    ap.add_argument("--gnn-layers", dest="gnn_layers", type=int, help="gnn only (0: no graph)")
    ap.add_argument("--no-recap", dest="recap", action="store_false", default=None,
                    help="gnn only: no recap features")
    ap.add_argument("--save", help="folder to save the trained models in")
    ap.add_argument("--latency", action="store_true", help="time update/mastery instead")
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--cost", action="store_true",
                    help="CPU seconds of --batches training batches per model instead")
    ap.add_argument("--batches", type=int, default=30)
    ap.add_argument("--cold", action="store_true",
                    help="cold-start benchmark on simulated learners of the demo curriculum")
    ap.add_argument("--learners", type=int, default=600, help="--cold: simulated learners")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.latency:
        latency(args)
    elif args.cost:
        cost(args)
    elif args.cold:
        cold(args)
    else:
        accuracy(args)


if __name__ == "__main__":
    main()
