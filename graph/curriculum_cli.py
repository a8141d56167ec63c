"""``learngraph curriculum import|export``: move a curriculum between files and a store."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from graph.open import add_db_argument, open_store, resolve_db_url
from graph.store import GraphStore, ValidationError


def register(sub: Any) -> None:
    """Add ``curriculum import`` and ``curriculum export`` to the learngraph parser."""
    cur = sub.add_parser("curriculum", help="import or export a curriculum (CSV or JSON)")
    cmds = cur.add_subparsers(dest="curriculum_command", required=True, metavar="ACTION")

    imp = cmds.add_parser(
        "import",
        help="validate a curriculum file and write it to the store",
        description="Validate everything first: malformed rows, duplicate ids, self-loops, "
        "unknown skills, prerequisite cycles. Any problem refuses the whole import "
        "(nothing is written) unless --skip-invalid is given.",
    )
    imp.add_argument("file", type=Path, help="a .json file, a .csv file or a directory of CSVs")
    add_db_argument(imp)
    imp.add_argument("--skip-invalid", action="store_true",
                     help="import the valid records and print what was skipped and why")
    imp.add_argument("--column", action="append", default=[], metavar="OURS=THEIRS",
                     help="read our field OURS from the file's column THEIRS (repeatable), "
                     "e.g. --column id=name")
    imp.add_argument("--actor", default="cli", help="user id recorded in the change log")
    imp.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    imp.set_defaults(func=_import)

    exp = cmds.add_parser("export", help="write the store's curriculum to a file")
    exp.add_argument("file", type=Path,
                     help="x.json for JSON, else a directory that gets skills.csv, "
                     "prerequisites.csv and items.csv")
    add_db_argument(exp)
    exp.set_defaults(func=_export)


def parse_column_map(pairs: list[str]) -> dict[str, str]:
    """``["id=name"]`` -> ``{"id": "name"}``; a malformed pair is a ValidationError."""
    mapping = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise ValidationError("--column", f"{pair!r} is not OURS=THEIRS (e.g. id=name)")
        mapping[ours.strip()] = theirs.strip()
    return mapping


async def _opened(db: str | None) -> GraphStore:
    from migrations.runner import ensure_migrated

    store = await open_store(resolve_db_url(db))
    try:
        await ensure_migrated(store)
    except BaseException:
        await store.close()
        raise
    return store


def _import(args: argparse.Namespace) -> int:
    from graph.curriculum import existing_graph, import_bundle, validate
    from graph.curriculum_io import read_curriculum

    if not args.file.exists():
        raise ValidationError("FILE", f"{args.file} does not exist")
    bundle = read_curriculum(args.file, parse_column_map(args.column))
    print(f"read {len(bundle.skills)} skills, {len(bundle.edges)} prerequisite edges, "
          f"{len(bundle.items)} items from {args.file}", file=sys.stderr)

    async def run() -> int:
        store = await _opened(args.db)
        try:
            if args.dry_run:
                checked = validate(bundle, await existing_graph(store))
                for problem in checked.problems:
                    print(f"problem: {problem}")
                print(f"dry run: {len(checked.problems)} problem(s); nothing written")
                return 1 if checked.problems else 0
            report = await import_bundle(store, bundle, actor=args.actor,
                                         skip_invalid=args.skip_invalid)
        finally:
            await store.close()
        for problem in report.skipped:
            print(f"skipped: {problem}")
        print(f"imported {report.skills} skills, {report.edges} prerequisite edges, "
              f"{report.items} items; skipped {len(report.skipped)} record(s)")
        return 0

    return asyncio.run(run())


def _export(args: argparse.Namespace) -> int:
    from graph.curriculum_io import write_curriculum
    from graph.models import Item

    async def run() -> int:
        store = await _opened(args.db)
        try:
            graph = await store.prerequisite_graph()
            items: list[Item] = []
            after: str | None = None
            while page := await store.list_items(after=after, limit=1000):
                items.extend(page)
                after = page[-1].id
        finally:
            await store.close()
        for path in write_curriculum(args.file, graph, items):
            print(f"wrote {path}")
        print(f"exported {len(graph.skills)} skills, {len(graph.edges)} prerequisite edges, "
              f"{len(items)} items")
        return 0

    return asyncio.run(run())
