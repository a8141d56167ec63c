"""Catalogue recommendation strategies and automated skill tagging, compared on held-out data.

1. The seeded demo store (``learngraph seed --learners 500 --seed 7`` into a temporary SQLite
   file) and ASSISTments 2017 (``../shared/datasets/assist2017-pid``, all five folds: every
   learner's problems): 20% of the learners held out (seed 0), the last 20% of each held-out
   learner's items (in the order taken up) predicted from the first 80%; precision, recall and
   NDCG at 10 and catalogue coverage per strategy (``learngraph recommend evaluate``), with the
   ratio of each NDCG to popularity's (the baseline, run in the same process).
2. The embedding model's epochs (10 or 30) are chosen on a validation split cut from the
   *training* learners of the demo only (seed 1), never on the held-out learners.
3. Tagging: the tags of 20% of the demo items hidden, over seeds 0-4 (mean and range of
   precision@3 per variant; ``learngraph recommend tag-evaluate``).

Usage::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_catalogue.py \\
        [--learners 500] [--json benchmarks/results/catalogue.json] [--skip-assist]

Progress goes to stderr; the tables to stdout. Cluster pictures (PCA of the k-means clusters of
the training learners) go beside the JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.cli import main as cli  # noqa: E402
from recommender.catalogue import STRATEGIES, make_strategy  # noqa: E402
from recommender.catalogue.clusters import LearnerClusters, pca_picture  # noqa: E402
from recommender.catalogue.data import Catalogue, Interactions  # noqa: E402
from recommender.catalogue.embedding import EmbeddingBPR  # noqa: E402
from recommender.catalogue.evaluate import Result, evaluate, table  # noqa: E402
from recommender.catalogue.loaders import read_pid4, read_store  # noqa: E402
from recommender.catalogue.split import split_by_learner_then_time, training_only  # noqa: E402
from recommender.catalogue.tagging_eval import evaluate_tagging  # noqa: E402
from seed.curriculum import demo_curriculum  # noqa: E402
from tracing.train import StderrProgress  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
if not DATASETS.exists():
    DATASETS = Path("/work/shared/datasets")
K = 10


def progress(message: str, fraction: float) -> None:
    print(f"[{100 * fraction:3.0f}%] {message}", file=sys.stderr, flush=True)


def demo_data(learners: int, seed: int) -> tuple[Catalogue, Interactions]:
    from graph.open import open_store

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/demo.db"
        for argv in (
            ["migrate", "--db", url],
            ["seed", "--learners", str(learners), "--seed", str(seed), "--db", url],
        ):
            with contextlib.redirect_stdout(sys.stderr):  # the tables stay alone on stdout
                status = cli(argv)
            if status != 0:
                raise SystemExit(f"learngraph {' '.join(argv)} failed")

        async def read() -> tuple[Catalogue, Interactions]:
            store = await open_store(url)
            try:
                return await read_store(store, progress=progress)
            finally:
                await store.close()

        return asyncio.run(read())


def choose_epochs(catalogue: Catalogue, data: Interactions, options: list[int]) -> dict[int, float]:
    """NDCG@10 of the embedding model per epoch count on a validation split of the training
    learners (seed 1)."""
    outer = split_by_learner_then_time(data, seed=0)
    val = split_by_learner_then_time(training_only(data, outer), seed=1)
    out = {}
    for e in options:
        [r] = evaluate([EmbeddingBPR(epochs=e, seed=0)], val, catalogue, k=K)
        out[e] = r.metrics[f"ndcg@{K}"]
        progress(f"validation: embedding with {e} epochs, NDCG@{K} {out[e]:.3f}", 1.0)
    return out


def compare(
    name: str, catalogue: Catalogue, data: Interactions, epochs: int, picture: Path
) -> dict[str, Any]:
    split = split_by_learner_then_time(data, seed=0)
    strategies = [
        make_strategy(s, seed=0, epochs=epochs, progress=StderrProgress()) for s in STRATEGIES
    ]
    results = evaluate(strategies, split, catalogue, k=K, progress=progress)
    clusters = next(s for s in strategies if isinstance(s, LearnerClusters))
    pca_picture(clusters, picture, f"{name}: {len(split.train_learners)} training learners")
    base = next(r for r in results if r.strategy == "popularity").metrics[f"ndcg@{K}"]
    print(
        f"\n{name}: {data.n_learners} learners, {catalogue.n_items} items, "
        f"{len(data.rows)} distinct interactions, {len(split.test_learners)} held out"
    )
    print("\n".join(table(results, K)))
    print(markdown(results, base))
    return {
        "learners": data.n_learners,
        "items": catalogue.n_items,
        "interactions": len(data.rows),
        "test_learners": len(split.test_learners),
        "epochs": epochs,
        "picture": picture.name,
        "results": [
            r.to_dict() | {"ndcg_vs_popularity": r.metrics[f"ndcg@{K}"] / base} for r in results
        ],
    }


def markdown(results: list[Result], base: float) -> str:
    lines = [
        f"| strategy | P@{K} | R@{K} | NDCG@{K} | NDCG vs popularity | coverage | fit s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r.metrics
        lines.append(
            f"| {r.strategy} | {m[f'precision@{K}']:.3f} | {m[f'recall@{K}']:.3f} | "
            f"{m[f'ndcg@{K}']:.3f} | x{m[f'ndcg@{K}'] / base:.2f} | {m['coverage']:.1%} | "
            f"{r.fit_seconds:.1f} |"
        )
    return "\n".join(lines)


def tagging() -> dict[str, Any]:
    c = demo_curriculum()
    runs = [evaluate_tagging(c.items, c.skills, c.edges, hide=0.2, k=3, seed=s) for s in range(5)]
    out: dict[str, Any] = {
        "hidden_items": runs[0][0]["hidden_items"],
        "ceiling_precision@3": runs[0][0]["ceiling_precision@3"],
    }
    print(
        f"\ntagging: 20% of {len(c.items)} demo items hidden, seeds 0-4 "
        f"(ceiling of precision@3 {float(str(out['ceiling_precision@3'])):.3f})"
    )
    print("| variant | precision@3 (mean, min-max) | recall@3 | hit@1 |\n|---|---|---|---|")
    rows = []
    for v in range(len(runs[0])):
        name = runs[0][v]["variant"]
        p = [float(str(r[v]["precision@3"])) for r in runs]
        rec = [float(str(r[v]["recall@3"])) for r in runs]
        hit = [float(str(r[v]["hit@1"])) for r in runs]
        print(
            f"| {name} | {np.mean(p):.3f} ({min(p):.3f}-{max(p):.3f}) | "
            f"{np.mean(rec):.3f} | {np.mean(hit):.3f} |"
        )
        rows.append({"variant": name, "precision@3": p, "recall@3": rec, "hit@1": hit})
    out["rows"] = rows
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--learners", type=int, default=500)
    p.add_argument("--seed", type=int, default=7, help="seed of the demo learners")
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/catalogue.json")
    p.add_argument("--skip-assist", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "k": K,
        "split": "20% of learners held out (seed 0); the last 20% "
        "of each held-out learner's items predicted from the first 80%",
    }
    cat, data = demo_data(args.learners, args.seed)
    val = choose_epochs(cat, data, [10, 30])
    epochs = max(val, key=lambda e: val[e])
    doc["epoch_validation_ndcg"] = val
    doc["demo"] = compare(
        "demo store", cat, data, epochs, args.json.with_name("catalogue_clusters_demo.png")
    )
    if not args.skip_assist:
        files = sorted((DATASETS / "assist2017-pid").glob("fold*.csv"))
        cat2, data2 = read_pid4(files)
        doc["assist2017"] = compare(
            "ASSISTments 2017 (5 folds)",
            cat2,
            data2,
            epochs,
            args.json.with_name("catalogue_clusters_assist2017.png"),
        )
    doc["tagging"] = tagging()
    args.json.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
