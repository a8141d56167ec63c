"""``learngraph recommend``: compare catalogue strategies, and suggest skills for content.

learngraph recommend evaluate [--db URL | --log FILE ...] [--strategy NAME ...] [--k 10]
learngraph recommend tag (--item ID | --text TEXT) [--db URL] [--first 3]
learngraph recommend tag-evaluate [--db URL] [--hide 0.2] [--k 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any

from graph.open import add_db_argument

STRATEGY_NAMES = (
    "popularity",
    "content",
    "user-knn",
    "item-knn",
    "nmf",
    "embedding",
    "clusters",
    "hybrid",
)


def register(sub: Any) -> None:
    """Add ``recommend`` (evaluate, tag, tag-evaluate) to the learngraph parser."""
    p: argparse.ArgumentParser = sub.add_parser(
        "recommend", help="catalogue recommender strategies and automated skill tagging"
    )
    cmds = p.add_subparsers(dest="recommend_command", required=True, metavar="COMMAND")
    ev = cmds.add_parser(
        "evaluate",
        help="precision/recall/NDCG@k and coverage per strategy on a held-out split",
        description="Hold out --test-share of the learners (seeded); cut each held-out "
        "learner's items by time (the first 1 - --target-share are the history the strategy "
        "sees, the rest are the targets); fit every strategy on the other learners and score "
        "the top k of the items outside each history.",
    )
    add_db_argument(ev)
    ev.add_argument(
        "--log",
        nargs="+",
        default=None,
        metavar="FILE",
        help="evaluate on AKT pid-format logs (index,learner / problems / skills / labels) "
        "instead of a store, e.g. ../shared/datasets/assist2017-pid/fold*.csv",
    )
    ev.add_argument(
        "--strategy",
        action="append",
        choices=STRATEGY_NAMES,
        help="strategy to run (repeatable; default: all)",
    )
    ev.add_argument("--k", type=int, default=10, help="list length (default 10)")
    ev.add_argument("--seed", type=int, default=0, help="split and model seed (default 0)")
    ev.add_argument("--test-share", type=float, default=0.2, help="learners held out (0.2)")
    ev.add_argument(
        "--target-share",
        type=float,
        default=0.2,
        help="share of each held-out learner's items to predict (0.2)",
    )
    ev.add_argument("--epochs", type=int, default=30, help="embedding model epochs (30)")
    ev.add_argument(
        "--plot",
        default=None,
        metavar="PNG",
        help="save the k-means clusters of the training learners (PCA 2-D)",
    )
    ev.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ev.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ev.set_defaults(func=cmd_evaluate)

    tg = cmds.add_parser("tag", help="suggest skills for an item or a text (designers)")
    add_db_argument(tg)
    what = tg.add_mutually_exclusive_group(required=True)
    what.add_argument("--item", default=None, metavar="ID", help="a stored item's id")
    what.add_argument("--text", default=None, help="title and body of a new item")
    tg.add_argument("--first", type=int, default=3, help="suggestions (default 3)")
    tg.add_argument("--json", action="store_true", help="print JSON")
    tg.set_defaults(func=cmd_tag)

    te = cmds.add_parser(
        "tag-evaluate",
        help="hide the tags of a share of the items and score the suggestions (precision@k)",
    )
    te.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help="a store's curriculum (default: the built-in demo curriculum)",
    )
    te.add_argument("--hide", type=float, default=0.2, help="share of items hidden (0.2)")
    te.add_argument("--k", type=int, default=3, help="suggestions scored (default 3)")
    te.add_argument("--seed", type=int, default=0, help="which items are hidden (default 0)")
    te.add_argument("--json", action="store_true", help="print JSON")
    te.set_defaults(func=cmd_tag_evaluate)


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def cmd_evaluate(args: argparse.Namespace) -> int:
    import asyncio

    from recommender.catalogue import make_strategy
    from recommender.catalogue.clusters import LearnerClusters, pca_picture
    from recommender.catalogue.evaluate import evaluate, table
    from recommender.catalogue.loaders import read_pid4
    from recommender.catalogue.split import split_by_learner_then_time
    from recommender.errors import RecommenderError
    from tracing.train import StderrProgress

    # the embedding strategy's trainer; without torch that strategy says what to install
    with contextlib.suppress(ImportError):
        import torch

        torch.set_num_threads(1)
    progress = None if args.quiet else StderrProgress()
    try:
        if args.log:
            catalogue, data = read_pid4(args.log)
            source = ", ".join(args.log)
        else:
            catalogue, data = asyncio.run(_read_store(args.db, progress))
            source = "store"
        split = split_by_learner_then_time(
            data, test_share=args.test_share, target_share=args.target_share, seed=args.seed
        )
        names = args.strategy or list(STRATEGY_NAMES)
        strategies = [
            make_strategy(n, seed=args.seed, epochs=args.epochs, progress=progress) for n in names
        ]
        results = evaluate(strategies, split, catalogue, k=args.k, progress=progress)
    except RecommenderError as exc:
        return _fail(exc)
    if args.plot:
        clusters = next((s for s in strategies if isinstance(s, LearnerClusters)), None)
        if clusters is None:
            clusters = LearnerClusters(seed=args.seed)
            clusters.fit(split.train, catalogue)
        pca_picture(clusters, args.plot, f"{len(split.train_learners)} training learners")
    doc = {
        "source": source,
        "learners": data.n_learners,
        "items": catalogue.n_items,
        "interactions": len(data.rows),
        "split": "by learner, then by time within each held-out learner",
        "test_learners": len(split.test_learners),
        "test_share": args.test_share,
        "target_share": args.target_share,
        "seed": args.seed,
        "k": args.k,
        "results": [r.to_dict() for r in results],
    }
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(
        f"{source}: {data.n_learners} learners, {catalogue.n_items} items, {len(data.rows)} "
        f"distinct interactions; {len(split.test_learners)} learners held out (seed "
        f"{args.seed}), the last {args.target_share:.0%} of each one's items predicted"
    )
    print("\n".join(table(results, args.k)))
    return 0


async def _read_store(url: str | None, progress: Any) -> Any:
    from graph.open import open_store, resolve_db_url
    from migrations.runner import ensure_migrated
    from recommender.catalogue.loaders import read_store

    db = resolve_db_url(url)
    store = await open_store(db)
    try:
        await ensure_migrated(store, db)
        return await read_store(store, progress=progress)
    finally:
        await store.close()


async def _read_curriculum(url: str | None) -> Any:
    from graph.open import open_store, resolve_db_url
    from migrations.runner import ensure_migrated
    from recommender.catalogue.loaders import read_items

    db = resolve_db_url(url)
    store = await open_store(db)
    try:
        await ensure_migrated(store, db)
        graph = await store.prerequisite_graph()
        return graph, await read_items(store)
    finally:
        await store.close()


def cmd_tag(args: argparse.Namespace) -> int:
    import asyncio

    from recommender.catalogue.tagging import SkillTagger, item_document
    from recommender.errors import RecommenderError

    graph, items = asyncio.run(_read_curriculum(args.db))
    try:
        text, exclude = args.text, None
        if args.item is not None:
            found = next((i for i in items if i.id == args.item), None)
            if found is None:
                return _fail(ValueError(f"no item {args.item!r} in the store; check the id"))
            text, exclude = item_document(found), found.id
        tagger = SkillTagger().fit(items, graph.skills, graph.edges)
        out = tagger.suggest(text, first=args.first, exclude_item=exclude)
    except RecommenderError as exc:
        return _fail(exc)
    if args.json:
        print(
            json.dumps(
                [
                    {"skill": s.skill_id, "score": s.score, "evidence": list(s.evidence)}
                    for s in out
                ],
                indent=2,
            )
        )
        return 0
    for s in out:
        print(f"{s.skill_id:<32} {s.score:6.3f}  like {', '.join(s.evidence) or '-'}")
    return 0


def cmd_tag_evaluate(args: argparse.Namespace) -> int:
    import asyncio

    from recommender.catalogue.tagging_eval import evaluate_tagging
    from recommender.errors import RecommenderError

    if args.db is None:
        from seed.curriculum import demo_curriculum

        c = demo_curriculum()
        skills, edges, items, source = c.skills, c.edges, c.items, "the demo curriculum"
    else:
        graph, items = asyncio.run(_read_curriculum(args.db))
        skills, edges, source = graph.skills, graph.edges, "the store's curriculum"
    try:
        rows = evaluate_tagging(items, skills, edges, hide=args.hide, k=args.k, seed=args.seed)
    except RecommenderError as exc:
        return _fail(exc)
    if args.json:
        print(
            json.dumps(
                {"source": source, "hide": args.hide, "seed": args.seed, "k": args.k, "rows": rows},
                indent=2,
            )
        )
        return 0
    k = args.k
    print(
        f"{source}: tags of {rows[0]['hidden_items']} items hidden ({args.hide:.0%}, seed "
        f"{args.seed}); ceiling of precision@{k}: {rows[0][f'ceiling_precision@{k}']:.3f}"
    )
    print(f"{'variant':<20} {'P@' + str(k):>7} {'R@' + str(k):>7} {'hit@1':>7}")
    for r in rows:
        print(
            f"{r['variant']:<20} {r[f'precision@{k}']:>7.3f} {r[f'recall@{k}']:>7.3f} "
            f"{r['hit@1']:>7.3f}"
        )
    return 0
