"""``learngraph trace ...``: evaluate, train, and manage the model registry.

    learngraph trace evaluate --model {bkt,elo,dkt,gnn} --train PATH [PATH ...] [--test PATH]
        [--format {dkt3,pid4,csv,dktsyn}] [--prerequisites EDGES.csv] [--seed N]
        [--param KEY=VALUE ...] [--json] [--plots DIR] [--cv K]
    learngraph trace train --model M --train PATH [--test PATH] [--registry DIR]
        [--name NAME] ...
    learngraph trace train --model M --db URL [--epochs N] [--seed S] [--activate] ...
    learngraph trace rebuild --db URL [--key KEY] [--registry DIR]
    learngraph trace models [--db URL] [--registry DIR] [--json]
    learngraph trace activate KEY [--db URL] [--no-rebuild] [--registry DIR]

The serving model is each store's own (``--db``); the registry holds the model files.

Progress goes to stderr; with ``--json`` stdout holds exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tracing.base import TracingError

MODELS = ("bkt", "elo", "dkt", "gnn")
FORMATS = ("dkt3", "pid4", "csv", "dktsyn")


def _param(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--param {text!r}: expected KEY=VALUE, "
                                         "e.g. --param max_epochs=5")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def _common(p: argparse.ArgumentParser, *, train_required: bool = True) -> None:
    p.add_argument("--model", required=True, choices=MODELS, help="the tracer to train")
    p.add_argument("--train", required=train_required, type=Path, nargs="+", metavar="PATH",
                   help="training log file(s); several files of one format are read as one "
                        "data set (e.g. published folds)" + (
                            "" if train_required else
                            " (or --db: train on a store's attempts)"))
    p.add_argument("--test", type=Path, default=None,
                   help="test log file (omitted: dktsyn uses the DKT paper's split of the "
                        "train file, other formats a seeded 80/20 split by learner)")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="log format (default: detected from the content)")
    p.add_argument("--prerequisites", type=Path, default=None,
                   help="CSV of prerequisite edges `source,target` (skill ids)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--param", type=_param, action="append", default=[], metavar="KEY=VALUE",
                   help="model constructor argument, repeatable (value parsed as JSON)")


def register(sub: Any) -> None:
    """Add ``trace`` and its subcommands to the learngraph parser."""
    trace = sub.add_parser("trace", help="knowledge tracing: evaluate, train, registry",
                           description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    tsub = trace.add_subparsers(dest="trace_command", required=True, metavar="SUBCOMMAND")

    ev = tsub.add_parser("evaluate", help="train on one file, score on another")
    _common(ev)
    ev.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    ev.add_argument("--plots", type=Path, default=None, metavar="DIR",
                    help="write ROC and calibration PNGs into DIR")
    ev.add_argument("--cv", type=int, default=None, metavar="K",
                    help="K-fold cross-validation by learner, printing mean +- sd per metric: "
                         "K --train files are K published folds (each tested once, trained on "
                         "the others); one file is cut into K seeded folds")
    ev.set_defaults(func=cmd_evaluate)

    tr = tsub.add_parser("train", help="train a model and register it for serving")
    _common(tr, train_required=False)
    tr.add_argument("--db", default=None, metavar="URL",
                    help="train on every attempt stored in this store (sqlite:///path.db or "
                         "bolt://host:7687) instead of --train; with --activate, every "
                         "learner's state is rebuilt under the new model before it is served")
    tr.add_argument("--epochs", type=int, default=None, metavar="N",
                    help="training epochs of a neural model (dkt, gnn): sets max_epochs")
    tr.add_argument("--registry", type=Path, default=None,
                    help="registry directory (default $LEARNGRAPH_MODELS or ./models)")
    tr.add_argument("--name", default=None, help="registry name (default: the model kind)")
    tr.add_argument("--activate", action="store_true",
                    help="make it the serving model of the --db store (a store with none "
                         "adopts the first model trained on it anyway)")
    tr.add_argument("--json", action="store_true", help="print the record as JSON")
    tr.set_defaults(func=cmd_train)

    rb = tsub.add_parser(
        "rebuild", help="replay every learner's attempts into tracer state and mastery under "
                        "a model version (once per model switch)")
    rb.add_argument("--db", default=None, metavar="URL",
                    help="store URL (default: $LEARNGRAPH_DB or sqlite:///./learngraph.db)")
    rb.add_argument("--key", default=None, metavar="KEY",
                    help="model version, e.g. gnn-v2 (default: the model the server would "
                         "serve: the store's serving model, or BKT defaults)")
    rb.add_argument("--registry", type=Path, default=None)
    rb.set_defaults(func=cmd_rebuild)

    ls = tsub.add_parser("models", help="list registered models")
    ls.add_argument("--db", default=None, metavar="URL",
                    help="mark the serving model of this store (each store has its own)")
    ls.add_argument("--registry", type=Path, default=None)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_models)

    ac = tsub.add_parser(
        "activate", help="make a registered model the store's serving model, after "
                         "rebuilding every learner's state under it (with progress)")
    ac.add_argument("key", help="model version, e.g. gnn-v2 (bkt-default: BKT with "
                                "population defaults)")
    ac.add_argument("--db", default=None, metavar="URL",
                    help="the store switched: its learners are rebuilt under the model, then "
                         "it serves it (default: $LEARNGRAPH_DB or sqlite:///./learngraph.db)")
    ac.add_argument("--no-rebuild", action="store_true",
                    help="only make it the store's serving model; learners are served from "
                         "its prior until `learngraph trace rebuild`")
    ac.add_argument("--registry", type=Path, default=None)
    ac.set_defaults(func=cmd_activate)


def _registry(path: Path | None) -> Any:
    from tracing.registry import Registry

    return Registry(path) if path is not None else Registry.from_env()


def cmd_cross_validate(args: argparse.Namespace) -> int:
    from tracing.crossval import SUMMARY_METRICS, cross_validate
    from tracing.train import StderrProgress

    for flag, value in (("--test", args.test), ("--plots", args.plots)):
        if value is not None:
            raise TracingError(f"{flag} cannot be combined with --cv: every fold is tested "
                               "on its own learners; drop one of them")
    result = cross_validate(
        args.model, args.train, args.cv, fmt=args.format, prerequisites=args.prerequisites,
        seed=args.seed, params=dict(args.param), progress=StderrProgress())
    out = result.to_json()
    if args.json:
        print(json.dumps(out))
        return 0
    names = {"auc": "AUC", "accuracy": "accuracy", "rmse": "RMSE", "ece": "ECE",
             "train_seconds": "train seconds"}
    print(f"model  {out['model']}")
    print(f"split  {out['split']}; seed {out['seed']}")
    print(f"test answers per fold  {' / '.join(str(f['n_test']) for f in out['folds'])}")
    head = ["metric", "mean +- sd"] + [f"fold {f['fold']}" for f in out["folds"]]
    rows = [head]
    for m in SUMMARY_METRICS:
        digits = 1 if m == "train_seconds" else 4
        vals = result.values(m)
        rows.append([names[m], f"{out['mean'][m]:.{digits}f} +- {out['sd'][m]:.{digits}f}"]
                    + [f"{v:.{digits}f}" for v in vals])
    widths = [max(len(r[c]) for r in rows) for c in range(len(head))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    print("(sd: sample standard deviation over the folds)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from tracing.evaluate import evaluate_files
    from tracing.train import StderrProgress

    if args.cv is not None:
        return cmd_cross_validate(args)
    result = evaluate_files(
        args.model, args.train, args.test, fmt=args.format,
        prerequisites=args.prerequisites, seed=args.seed, params=dict(args.param),
        progress=StderrProgress(),
    )
    out = result.to_json()
    if args.plots is not None:
        from tracing.plots import plot_calibration, plot_roc

        curve = [(args.model, result.y_true, result.y_prob)]
        stem = f"{args.model}-{Path(args.test or args.train[0]).stem}"
        roc = plot_roc(curve, args.plots / f"{stem}-roc.png", f"ROC: {stem}")
        cal = plot_calibration(curve, args.plots / f"{stem}-calibration.png",
                               f"Calibration: {stem}")
        out["plots"] = [str(roc), str(cal)]
    if args.json:
        print(json.dumps(out))
        return 0
    rows = [("model", out["model"]), ("split", out.get("split", "")),
            ("train answers / learners", f"{out['n_train']} / {out['n_train_learners']}"),
            ("test answers / learners", f"{out['n_test']} / {out['n_test_learners']}")]
    if out.get("merged_rows"):
        rows.append(("multi-skill answers merged", f"{out['merged_rows']} rows folded into "
                     "the answer before them"))
    for k in ("auc", "accuracy", "rmse", "ece"):
        v = out[k]
        rows.append((k.upper() if k != "accuracy" else "accuracy",
                     "n/a" if v is None else f"{v:.4f}"))
    if out.get("n_cold"):
        cold = out.get("cold_auc")
        rows.append((f"cold-start AUC ({out['n_cold']} answers)",
                     "n/a" if cold is None else f"{cold:.4f}"))
    rows += [("train seconds", f"{out['train_seconds']:.2f}"),
             ("predict seconds", f"{out['predict_seconds']:.2f}"), ("seed", str(out["seed"]))]
    rows += [("plot", p) for p in out.get("plots", [])]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    return 0


def _train_params(args: argparse.Namespace) -> dict[str, Any]:
    params = dict(args.param)
    if args.epochs is not None:
        if args.model not in ("dkt", "gnn"):
            raise TracingError(f"--epochs applies to the neural models (dkt, gnn), not "
                               f"{args.model!r}; pass that model's own --param instead")
        if args.epochs < 1:
            raise TracingError(f"--epochs {args.epochs}: give at least 1")
        params["max_epochs"] = args.epochs
    return params


def _train_db(args: argparse.Namespace) -> int:
    import asyncio
    from dataclasses import asdict

    from graph.open import open_store
    from migrations.runner import ensure_migrated
    from tracing.store_train import public_url, train_from_store
    from tracing.train import StderrProgress

    for flag, value in (("--train", args.train), ("--test", args.test),
                        ("--format", args.format), ("--prerequisites", args.prerequisites)):
        if value is not None:
            raise TracingError(f"{flag} cannot be combined with --db: the store provides the "
                               "attempts and the prerequisite graph; drop one of them")
    params = _train_params(args)  # bad flags fail before the store is opened
    reg = _registry(args.registry)

    async def run() -> Any:
        store = await open_store(args.db)
        try:
            await ensure_migrated(store, args.db)
            return await train_from_store(
                store, args.db, args.model, seed=args.seed, params=params,
                registry=reg, name=args.name, activate=args.activate,
                progress=StderrProgress())
        finally:
            await store.close()

    rec, report = asyncio.run(run())
    if args.json:
        out = {"key": rec.key, **asdict(rec)}
        if report is not None:
            out["rebuild"] = asdict(report)
        print(json.dumps(out))
        return 0
    print(f"registered {rec.key} ({rec.model}) in {reg.root}: trained on "
          f"{rec.data['n_train']} answers of {rec.data['n_train_learners']} learners from "
          f"{public_url(args.db)} in {rec.metrics['train_seconds']:.1f} s")
    if report is not None:
        print(f"rebuilt {report.learners} learners' state and mastery under {report.model_version}"
              f" ({report.attempts} answers replayed, {report.seconds:.1f} s); "
              f"active model: {rec.key}")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    import asyncio

    from graph.open import open_store, resolve_db_url
    from migrations.runner import ensure_migrated
    from tracing.store_train import rebuild_for
    from tracing.train import StderrProgress

    url = resolve_db_url(args.db)

    async def run() -> Any:
        store = await open_store(url)
        try:
            await ensure_migrated(store, url)
            return await rebuild_for(store, registry=_registry(args.registry), key=args.key,
                                     progress=StderrProgress())
        finally:
            await store.close()

    report = asyncio.run(run())
    print(f"rebuilt {report.learners} learners' state and mastery under {report.model_version}"
          f" ({report.attempts} answers replayed, {report.mastery_rows} mastery rows, "
          f"{report.seconds:.1f} s)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from tracing.train import StderrProgress, train_and_register

    if args.db is not None:
        return _train_db(args)
    if args.train is None:
        raise TracingError("trace train needs --train PATH (a log file) or --db URL (a store's "
                           "attempts)")
    if args.activate:
        raise TracingError("--activate needs --db URL: each store has its own serving model; "
                           "train with --train, then `learngraph trace activate KEY --db URL`")
    rec = train_and_register(
        args.model, args.train, fmt=args.format, test=args.test,
        prerequisites=args.prerequisites, seed=args.seed, params=_train_params(args),
        registry=_registry(args.registry), name=args.name, progress=StderrProgress(),
    )
    if args.json:
        print(json.dumps({"key": rec.key, **asdict(rec)}))
    else:
        auc = rec.metrics.get("auc")
        print(f"registered {rec.key} ({rec.model}) in {_registry(args.registry).root}"
              + (f"; test AUC {auc:.4f}" if isinstance(auc, float) else ""))
    return 0


def _serving_model(db: str | None) -> str | None:
    """The serving model of the store at ``db`` (None: BKT defaults, or no ``db``)."""
    import asyncio

    from graph.open import open_store
    from migrations.runner import ensure_migrated

    if db is None:
        return None

    async def run() -> str | None:
        store = await open_store(db)
        try:
            await ensure_migrated(store, db)
            return await store.serving_model()
        finally:
            await store.close()

    return asyncio.run(run())


def cmd_models(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    reg = _registry(args.registry)
    active = _serving_model(args.db)
    recs = reg.list()
    if args.json:
        print(json.dumps({"active": active,
                          "models": [{"key": r.key, **asdict(r)} for r in recs]}))
        return 0
    if not recs:
        print(f"no models registered in {reg.root}", file=sys.stderr)
        return 0
    for r in recs:
        mark = "*" if r.key == active else " "
        auc, valid = r.metrics.get("auc"), r.metrics.get("valid_auc")
        print(f"{mark} {r.key:<20} {r.model:<4} {r.created_at}  "
              f"test AUC {_num(auc)}  valid AUC {_num(valid)}  {r.data.get('train', '')}")
    return 0


def _num(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, int | float) and v == v else "-"


def cmd_activate(args: argparse.Namespace) -> int:
    """The same switch as the ``activateTracerModel`` mutation (``tracing.switch``): validate
    the model against the store's curriculum, rebuild every learner's state, then activate.
    A failure leaves the old model active. Running servers notice the switch themselves."""
    import asyncio

    from graph.open import open_store, resolve_db_url
    from migrations.runner import ensure_migrated
    from tracing.switch import DEFAULT_KEY, UnknownModelError, switch_model
    from tracing.train import StderrProgress

    url = resolve_db_url(args.db)

    async def run() -> Any:
        store = await open_store(url)
        try:
            await ensure_migrated(store, url)
            reg = _registry(args.registry)
            if args.no_rebuild:
                known = [r.key for r in reg.list()]
                if args.key != DEFAULT_KEY and args.key not in known:
                    raise UnknownModelError(args.key, known)
                await store.set_serving_model(None if args.key == DEFAULT_KEY else args.key)
                return None
            return await switch_model(store, reg, args.key, progress=StderrProgress())
        finally:
            await store.close()

    done = asyncio.run(run())
    if done is None:
        print(f"active model: {args.key}")
        print(f"learners keep their {args.key} states as they are (none yet: the prior) until "
              f"`learngraph trace rebuild --db {url}`", file=sys.stderr)
        return 0
    if not done.changed:
        print(f"active model: {done.key} (already active; nothing rebuilt)")
        return 0
    report = done.report
    print(f"active model: {done.key} (was {done.previous}; rebuilt {report.learners} learners, "
          f"{report.attempts} answers replayed, {done.passes} pass(es))")
    if done.missed:
        print(f"{done.missed} answers arrived during the last pass; run `learngraph trace "
              "rebuild` when the store is quieter", file=sys.stderr)
    return 0


__all__ = ["register", "TracingError"]
