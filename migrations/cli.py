"""``learngraph migrate [--db URL] [--status]``: apply (or list) pending schema migrations."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from graph.open import add_db_argument


def register(sub: Any) -> None:
    """Add ``migrate`` to the learngraph parser."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "migrate",
        help="apply pending schema migrations to the store",
        description="Apply the store's pending schema migrations in order and record them. "
        "Safe to run twice; refuses to run if an applied migration file was edited.",
    )
    add_db_argument(parser)
    parser.add_argument(
        "--status", action="store_true", help="only list applied and pending migrations"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args.db, status=args.status))


async def _run(flag: str | None, *, status: bool) -> int:
    from graph.open import open_store, resolve_db_url
    from migrations.runner import discover, migrate, pending

    url = resolve_db_url(flag)
    store = await open_store(url)
    try:
        if status:
            waiting = set(await pending(store))
            for m in discover(store.kind):
                print(f"{'pending' if m.name in waiting else 'applied'}  {m.name}")
            print(f"{url}: {len(waiting)} pending" if waiting else f"{url}: up to date")
            return 0
        applied = await migrate(store)
    finally:
        await store.close()
    for name in applied:
        print(f"applied  {name}")
    print(f"{url}: applied {len(applied)} migration(s)" if applied else f"{url}: up to date")
    return 0
