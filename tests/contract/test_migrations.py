"""Contract: the store records migrations so that the runner sees it as up to date."""

from __future__ import annotations

from typing import Any

from migrations.runner import discover, ensure_migrated, migrate, pending


async def test_migrated_store_records_every_file_with_its_checksum(store: Any) -> None:
    files = discover(store.kind)
    assert await store.applied_migrations() == {m.version: m.checksum for m in files}
    assert await pending(store) == []
    assert await migrate(store) == []
    await ensure_migrated(store, "URL")
