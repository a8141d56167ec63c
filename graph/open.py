"""Open a store from one URL.

``sqlite:///relative/or/absolute/path.db`` (default ``sqlite:///./learngraph.db``) opens the
embedded store; ``bolt://``, ``bolt+s://``, ``neo4j://`` or ``neo4j+s://`` opens Neo4j, with
credentials from the URL (``bolt://user:pass@host:7687``) or from ``NEO4J_USER`` /
``NEO4J_PASSWORD``. The URL comes from ``--db``, else ``LEARNGRAPH_DB``, else the default.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

from graph.store import GraphStore, StoreUnavailableError

DEFAULT_DB_URL = "sqlite:///./learngraph.db"
NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def resolve_db_url(flag: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The store URL: the ``--db`` flag, else ``LEARNGRAPH_DB``, else the default."""
    env = os.environ if environ is None else environ
    return flag or env.get("LEARNGRAPH_DB") or DEFAULT_DB_URL


def add_db_argument(parser: argparse.ArgumentParser) -> None:
    """Add the shared ``--db URL`` option to a command."""
    parser.add_argument(
        "--db",
        default=None,
        metavar="URL",
        help=f"store URL (default: $LEARNGRAPH_DB or {DEFAULT_DB_URL}); "
        "sqlite:///path.db or bolt://host:7687",
    )


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///path`` URL (``sqlite:///./x.db`` -> ``./x.db``,
    ``sqlite:////abs/x.db`` -> ``/abs/x.db``, ``sqlite:///:memory:`` -> ``:memory:``)."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or len(rest) < 2:
        raise StoreUnavailableError(
            f"bad SQLite URL {url!r}: write sqlite:///relative/path.db or sqlite:////abs/path.db"
        )
    return unquote(rest[1:])


def neo4j_target(
    url: str, environ: Mapping[str, str] | None = None
) -> tuple[str, tuple[str, str] | None]:
    """Split a Neo4j URL into the driver URI (credentials removed) and the auth pair
    (None when no user is given anywhere: auth disabled on the server)."""
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    user = unquote(parts.username) if parts.username else env.get("NEO4J_USER")
    password = unquote(parts.password) if parts.password else env.get("NEO4J_PASSWORD", "")
    host = parts.hostname or "localhost"
    netloc = f"{host}:{parts.port}" if parts.port else host
    uri = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return uri, ((user, password) if user else None)


async def open_store(url: str, environ: Mapping[str, str] | None = None) -> GraphStore:
    """Open (and connect to) the store named by ``url``."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "sqlite":
        from graph.sqlite_store import SqliteStore

        return await SqliteStore.open(sqlite_path(url))
    if scheme in NEO4J_SCHEMES:
        from graph.neo4j_store import Neo4jStore

        uri, auth = neo4j_target(url, environ)
        return await Neo4jStore.open(uri, auth=auth)
    raise StoreUnavailableError(
        f"unsupported store URL {url!r}: use sqlite:///path/to/file.db or bolt://host:7687"
    )
