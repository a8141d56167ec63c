"""At-risk prediction on simulated cohorts: AUC split by learner, on four learner populations.

For each population (``seed``, ``bkt``, ``afm``, ``kst``; :mod:`seed.simulation.populations`),
:func:`seed.simulation.risk_cohorts.cohort` simulates timestamped answers (the frontier policy,
sessions with gaps, drop-out more likely after a bad session). Every learner's answers are
replayed through the BKT serving tracer with population defaults (what a store without a
trained model serves) into a timeline (:mod:`analytics.timeline`); features and labels are
taken at weekly cutoffs (:mod:`analytics.features`: label 1 = less than 0.25 skills of
expected mastery gained in the next 7 days).

Printed per population (5-fold cross-validation grouped by learner, so no learner is in both a
training and a test fold; mean +- sd of the folds' AUC):

* ``logreg``: :func:`analytics.risk.fit`'s logistic regression (the served model);
* ``gbt``: scikit-learn's HistGradientBoostingClassifier on the same features;
* ``inactive``, ``accuracy``, ``slope``: one feature as the score (days inactive; 1 - recent
  accuracy; minus the mastery slope), the baselines a rule of thumb would use;
* ``active-only``: logreg AUC on the cutoffs where the learner answered in the past 7 days
  (inactivity cannot give those away);
* ``from-seed``: logreg trained on the whole ``seed`` cohort, tested on this population's.

``--plot PNG`` draws the out-of-fold ROC curves of logreg per population. ``--store URL``
instead fits the served model on a store's own history, as ``learngraph serve`` does
(``analytics.service.ClassAnalytics``), and prints its rows, fit time and held-out AUC
(``--serving-model``: replay under a neural serving model too, as the server does not).

    nice -n 10 python benchmarks/bench_risk.py --learners 300 --seed 7 --plot docs/img/risk_roc.png
    nice -n 10 python benchmarks/bench_risk.py --store sqlite:///./learngraph.db
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from analytics import risk  # noqa: E402
from analytics.features import FEATURES, LabelledRows, labelled_rows  # noqa: E402
from analytics.timeline import replay  # noqa: E402
from seed.simulation.harness import demo_setting  # noqa: E402
from seed.simulation.populations import POPULATIONS  # noqa: E402
from seed.simulation.risk_cohorts import cohort  # noqa: E402
from tracing.serving import MasteryService  # noqa: E402


def rows_of(population: str, learners: int, seed: int) -> LabelledRows:
    setting = demo_setting()
    service = MasteryService.for_curriculum(setting.graph, setting.items)
    answers = cohort(setting, population, learners=learners, seed=seed)
    by: dict[str, list] = defaultdict(list)
    for a in answers:
        by[a.learner_id].append(a)
    timelines = [replay(lid, got, service) for lid, got in by.items()]
    return labelled_rows(timelines, max(a.timestamp for a in answers))


def cv(rows: LabelledRows, folds: int, seed: int) -> dict[str, object]:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold

    aucs: dict[str, list[float]] = defaultdict(list)
    oof = np.zeros(len(rows))
    groups = np.array(rows.learners)
    x, y = rows.x, rows.y
    col = {name: j for j, name in enumerate(FEATURES)}
    for train, test in GroupKFold(n_splits=folds).split(x, y, groups):
        if len(set(y[test])) < 2:
            continue
        sub = LabelledRows(x[train], y[train], tuple(groups[train]))
        model = risk.fit(sub, seed=seed)
        p = model.probability(x[test])
        oof[test] = p
        aucs["logreg"].append(roc_auc_score(y[test], p))
        gbt = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=seed)
        gbt.fit(x[train], y[train])
        aucs["gbt"].append(roc_auc_score(y[test], gbt.predict_proba(x[test])[:, 1]))
        aucs["inactive"].append(roc_auc_score(y[test], x[test, col["days_inactive"]]))
        aucs["accuracy"].append(roc_auc_score(y[test], 1 - x[test, col["accuracy_10"]]))
        aucs["slope"].append(roc_auc_score(y[test], -x[test, col["mastery_slope"]]))
        active = x[test, col["days_inactive"]] < 7
        if len(set(y[test][active])) == 2:
            aucs["active-only"].append(roc_auc_score(y[test][active], p[active]))
    return {"aucs": aucs, "oof": oof}


async def on_store(url: str, serving: bool) -> None:
    from analytics.service import ClassAnalytics
    from api.services import MasteryUpdater
    from graph.open import open_store
    from recommender.service import IndexCache

    store = await open_store(url)
    try:
        index = IndexCache()
        updater = MasteryUpdater(store)
        replay_with = updater.service if serving else updater.history_service
        analytics = ClassAnalytics(store, replay_with, lambda: index.get(store))
        started = time.perf_counter()
        model = await analytics.model()
        print(
            f"{url}: trained={model.trained} rows={model.rows} at-risk={model.positives} "
            f"held-out AUC={model.validation_auc} fit {time.perf_counter() - started:.1f} s "
            f"({analytics.max_train_learners} learners at most)"
        )
    finally:
        await store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--learners", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--populations", nargs="+", default=list(POPULATIONS))
    ap.add_argument("--plot", type=Path, default=None)
    ap.add_argument("--store", default=None, help="fit on this store's history instead")
    ap.add_argument(
        "--serving-model",
        action="store_true",
        help="with --store: replay under the serving model even when it is neural",
    )
    args = ap.parse_args()
    if args.store:
        import asyncio

        asyncio.run(on_store(args.store, args.serving_model))
        return
    from sklearn.metrics import roc_auc_score, roc_curve

    started = time.perf_counter()
    data = {p: rows_of(p, args.learners, args.seed) for p in args.populations}
    seed_model = risk.fit(data["seed"], seed=args.seed) if "seed" in data else None
    names = ["logreg", "gbt", "inactive", "accuracy", "slope", "active-only"]
    print(
        f"{'population':<11}{'rows':>6}{'pos':>6}"
        + "".join(f"{n:>16}" for n in names)
        + f"{'from-seed':>11}"
    )
    curves = {}
    for pop, rows in data.items():
        got = cv(rows, args.folds, args.seed)
        aucs = got["aucs"]
        assert isinstance(aucs, dict)
        cells = "".join(
            f"{np.mean(aucs[n]):>9.3f} +-{np.std(aucs[n], ddof=1):.3f}" if aucs[n] else f"{'-':>16}"
            for n in names
        )
        transfer = "-"
        if seed_model is not None and pop != "seed":
            transfer = f"{roc_auc_score(rows.y, seed_model.probability(rows.x)):.3f}"
        print(f"{pop:<11}{len(rows):>6}{rows.y.mean():>6.2f}{cells}{transfer:>11}")
        curves[pop] = roc_curve(rows.y, got["oof"])
    print(
        f"({args.learners} learners per population, seed {args.seed}, {args.folds} folds "
        f"grouped by learner; {time.perf_counter() - started:.0f} s)"
    )
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 5))
        for pop, (fpr, tpr, _) in curves.items():
            ax.plot(fpr, tpr, label=f"{pop} (AUC {np.trapezoid(tpr, fpr):.3f})")
        ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.set_title("At-risk model, out-of-fold ROC (split by learner)")
        ax.legend(loc="lower right")
        fig.tight_layout()
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot, dpi=110)
        print(f"wrote {args.plot}")


if __name__ == "__main__":
    main()
