"""The migration runner: discovery, ordering, checksums, idempotence, ensure_migrated, CLI."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api.cli import main
from graph.sqlite_store import SqliteStore
from graph.store import GraphStoreError, MigrationError
from migrations.runner import (
    MIGRATIONS_ROOT,
    discover,
    ensure_migrated,
    migrate,
    pending,
    split_statements,
)


def write(root: Path, name: str, text: str) -> Path:
    folder = root / "sqlite"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
async def raw_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A store with no migrations applied."""
    store = await SqliteStore.open(str(tmp_path / "raw.db"))
    yield store
    await store.close()


def test_split_statements_at_semicolons_ending_a_line() -> None:
    text = (
        "-- a comment; not a statement\n"
        "CREATE TABLE t (x TEXT DEFAULT 'a;b');\n"
        "\n"
        "// cypher comment\n"
        "INSERT INTO t VALUES ('1'); \n"
        "CREATE INDEX i ON t (x)"
    )
    assert split_statements(text) == [
        "-- a comment; not a statement\nCREATE TABLE t (x TEXT DEFAULT 'a;b')",
        "// cypher comment\nINSERT INTO t VALUES ('1')",
        "CREATE INDEX i ON t (x)",
    ]
    assert split_statements("-- only a comment;\n\n") == []


def test_discover_orders_by_version_and_checksums_the_file(tmp_path: Path) -> None:
    write(tmp_path, "0002_more.sql", "CREATE TABLE b (x);\n")
    first = write(tmp_path, "0001_first.sql", "CREATE TABLE a (x);\nCREATE TABLE c (x);\n")
    found = discover("sqlite", tmp_path)
    assert [(m.version, m.name) for m in found] == [(1, "0001_first.sql"), (2, "0002_more.sql")]
    assert found[0].checksum == hashlib.sha256(first.read_bytes()).hexdigest()
    assert found[0].statements == ("CREATE TABLE a (x)", "CREATE TABLE c (x)")


@pytest.mark.parametrize("bad", ["1_short.sql", "0001-dash.sql", "0001_x.txt"])
def test_badly_named_file_is_refused_by_name(tmp_path: Path, bad: str) -> None:
    write(tmp_path, bad, "SELECT 1;\n")
    with pytest.raises(MigrationError, match=bad.replace(".", r"\.")):
        discover("sqlite", tmp_path)


def test_two_files_with_one_version_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "0001_a.sql", "SELECT 1;\n")
    write(tmp_path, "0001_b.sql", "SELECT 2;\n")
    with pytest.raises(MigrationError, match="share version 1"):
        discover("sqlite", tmp_path)


def test_unknown_store_kind_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="'mongo'"):
        discover("mongo", tmp_path)


async def test_migrate_applies_in_order_and_is_safe_to_rerun(
    raw_store: SqliteStore, tmp_path: Path
) -> None:
    write(tmp_path, "0002_fill.sql", "INSERT INTO t (x) VALUES ('from 2');\n")
    write(tmp_path, "0001_make.sql", "CREATE TABLE t (x TEXT);\n")
    assert await pending(raw_store, root=tmp_path) == ["0001_make.sql", "0002_fill.sql"]
    assert await migrate(raw_store, root=tmp_path) == ["0001_make.sql", "0002_fill.sql"]
    assert await migrate(raw_store, root=tmp_path) == []
    assert await pending(raw_store, root=tmp_path) == []
    applied = await raw_store.applied_migrations()
    assert sorted(applied) == [1, 2]
    write(tmp_path, "0003_again.sql", "INSERT INTO t (x) VALUES ('from 3');\n")
    assert await migrate(raw_store, root=tmp_path) == ["0003_again.sql"]


async def test_failing_migration_is_not_recorded_and_changes_nothing(
    raw_store: SqliteStore, tmp_path: Path
) -> None:
    write(tmp_path, "0001_ok.sql", "CREATE TABLE t (x TEXT);\n")
    write(tmp_path, "0002_broken.sql",
          "CREATE TABLE u (y TEXT);\nINSERT INTO nowhere VALUES (1);\n")
    with pytest.raises(GraphStoreError, match="nowhere"):
        await migrate(raw_store, root=tmp_path)
    assert sorted(await raw_store.applied_migrations()) == [1]
    write(tmp_path, "0002_broken.sql", "CREATE TABLE u (y TEXT);\n")
    # table u was rolled back with the failed migration, so the fixed one can create it
    assert await migrate(raw_store, root=tmp_path) == ["0002_broken.sql"]


async def test_changed_applied_migration_stops_everything(
    raw_store: SqliteStore, tmp_path: Path
) -> None:
    path = write(tmp_path, "0001_make.sql", "CREATE TABLE t (x TEXT);\n")
    await migrate(raw_store, root=tmp_path)
    path.write_text("CREATE TABLE t (x TEXT, y TEXT);\n")
    write(tmp_path, "0002_next.sql", "CREATE TABLE v (z TEXT);\n")
    for call in (migrate, pending, ensure_migrated):
        with pytest.raises(MigrationError, match="0001_make.sql.*changed"):
            await call(raw_store, root=tmp_path)
    assert sorted(await raw_store.applied_migrations()) == [1]


async def test_recorded_version_without_a_file_is_refused(
    raw_store: SqliteStore, tmp_path: Path
) -> None:
    path = write(tmp_path, "0001_make.sql", "CREATE TABLE t (x TEXT);\n")
    await migrate(raw_store, root=tmp_path)
    path.unlink()
    write(tmp_path, "0002_x.sql", "SELECT 1;\n")
    with pytest.raises(MigrationError, match="version 1"):
        await migrate(raw_store, root=tmp_path)


async def test_ensure_migrated_names_the_command(raw_store: SqliteStore) -> None:
    with pytest.raises(MigrationError, match=r"learngraph migrate --db sqlite:///x\.db"):
        await ensure_migrated(raw_store, "sqlite:///x.db")
    await migrate(raw_store)
    await ensure_migrated(raw_store, "sqlite:///x.db")


async def test_unmigrated_store_reads_say_to_migrate(raw_store: SqliteStore) -> None:
    with pytest.raises(MigrationError, match="learngraph migrate"):
        await raw_store.get_skills(["a"])


@pytest.mark.parametrize("kind", ["sqlite", "neo4j"])
def test_shipped_migrations_are_numbered_from_one_without_gaps(kind: str) -> None:
    found = discover(kind, MIGRATIONS_ROOT)
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert all(m.statements for m in found)
    assert all(not s.rstrip().endswith(";") for m in found for s in m.statements)


def test_cli_migrate_then_up_to_date_then_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["migrate", "--db", url, "--status"]) == 0
    assert "pending  0001_initial.sql" in capsys.readouterr().out
    assert main(["migrate", "--db", url]) == 0
    assert "applied  0001_initial.sql" in capsys.readouterr().out
    assert main(["migrate", "--db", url]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["migrate", "--db", url, "--status"]) == 0
    out = capsys.readouterr().out
    assert "applied  0001_initial.sql" in out and "up to date" in out


def test_cli_migrate_reports_a_changed_file_as_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "m"
    path = write(root, "0001_make.sql", "CREATE TABLE t (x TEXT);\n")
    monkeypatch.setattr("migrations.runner.MIGRATIONS_ROOT", root)
    url = f"sqlite:///{tmp_path}/cli.db"
    assert main(["migrate", "--db", url]) == 0
    path.write_text("CREATE TABLE t (y TEXT);\n")
    assert main(["migrate", "--db", url]) == 2
    assert "0001_make.sql" in capsys.readouterr().err


async def test_attempts_survive_the_without_rowid_rebuild(
    raw_store: SqliteStore, tmp_path: Path
) -> None:
    from tests.contract.helpers import attempt

    first_only = tmp_path / "first"
    write(first_only, "0001_initial.sql",
          (MIGRATIONS_ROOT / "sqlite" / "0001_initial.sql").read_text())
    assert await migrate(raw_store, root=first_only) == ["0001_initial.sql"]
    # the curriculum and the learner as 0001 stores them (the store's own upserts write
    # columns of later migrations: the change log's batch, the items' content, ...)
    with sqlite3.connect(tmp_path / "raw.db") as conn:
        conn.execute("INSERT INTO skills (id, name) VALUES ('s1', 'Skill s1')")
        conn.execute("INSERT INTO items (id, kind, title, difficulty, expected_seconds)"
                     " VALUES ('i1', 'exercise', 'i1', 0.5, 60)")
        conn.execute("INSERT INTO item_skills (item_id, skill_id, weight, position)"
                     " VALUES ('i1', 's1', 1.0, 0)")
        conn.execute("INSERT INTO learners (id, display_name) VALUES ('l1', 'Learner l1')")
    conn.close()
    await raw_store.record_attempts([attempt("a1", minute=1, hints_used=2), attempt("a2")])
    assert "0002_attempts_without_rowid.sql" in await migrate(raw_store)
    page = await raw_store.attempts_of("l1")
    assert page.attempts == (attempt("a1", minute=1, hints_used=2), attempt("a2"))
    assert (await raw_store.record_attempts([attempt("a1", minute=1, hints_used=2)])
            ).duplicates == ("a1",)
