"""Contract: ``ping`` answers on an open store and says why on a closed one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.store import StoreUnavailableError


async def test_ping_answers_on_an_open_store(store: Any) -> None:
    await store.ping()


async def test_a_closed_sqlite_store_fails_its_ping(tmp_path: Path) -> None:
    from graph.sqlite_store import SqliteStore

    store = await SqliteStore.open(str(tmp_path / "x.db"))
    await store.close()
    with pytest.raises(StoreUnavailableError, match="closed"):
        await store.ping()


async def test_a_neo4j_store_on_a_closed_port_fails_its_ping() -> None:
    import socket

    from neo4j import AsyncGraphDatabase

    from graph.neo4j_store import Neo4jStore

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    store = Neo4jStore(AsyncGraphDatabase.driver(f"bolt://127.0.0.1:{port}"))
    try:
        with pytest.raises(StoreUnavailableError, match="unavailable"):
            await store.ping()
    finally:
        await store.close()
