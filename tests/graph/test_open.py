"""graph/open.py: which URL wins, how URLs are parsed, and how bad ones are refused."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from graph.open import (
    DEFAULT_DB_URL,
    add_db_argument,
    neo4j_target,
    open_store,
    resolve_db_url,
    sqlite_path,
)
from graph.sqlite_store import SqliteStore
from graph.store import StoreUnavailableError


@pytest.mark.parametrize(
    ("flag", "env", "expected"),
    [
        ("sqlite:///flag.db", {"LEARNGRAPH_DB": "sqlite:///env.db"}, "sqlite:///flag.db"),
        (None, {"LEARNGRAPH_DB": "bolt://h:7687"}, "bolt://h:7687"),
        (None, {}, DEFAULT_DB_URL),
        (None, {"LEARNGRAPH_DB": ""}, DEFAULT_DB_URL),
    ],
)
def test_flag_beats_env_beats_default(flag: str | None, env: dict[str, str],
                                      expected: str) -> None:
    assert resolve_db_url(flag, env) == expected


def test_process_environment_is_the_default_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEARNGRAPH_DB", "sqlite:///from-env.db")
    assert resolve_db_url(None) == "sqlite:///from-env.db"
    monkeypatch.delenv("LEARNGRAPH_DB")
    assert resolve_db_url(None) == DEFAULT_DB_URL


def test_db_argument_is_optional_and_named_url() -> None:
    parser = argparse.ArgumentParser()
    add_db_argument(parser)
    assert parser.parse_args([]).db is None
    assert parser.parse_args(["--db", "bolt://x"]).db == "bolt://x"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///./learngraph.db", "./learngraph.db"),
        ("sqlite:///data/x.db", "data/x.db"),
        ("sqlite:////abs/dir/x.db", "/abs/dir/x.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite:///with%20space.db", "with space.db"),
    ],
)
def test_sqlite_paths(url: str, path: str) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize("url", ["sqlite://x.db", "sqlite://", "sqlite:///"])
def test_bad_sqlite_urls_say_how_to_write_one(url: str) -> None:
    with pytest.raises(StoreUnavailableError, match="sqlite:///relative/path.db"):
        sqlite_path(url)


def test_neo4j_credentials_from_the_url_win_over_env() -> None:
    env = {"NEO4J_USER": "envuser", "NEO4J_PASSWORD": "envpass"}
    uri, auth = neo4j_target("bolt://ann:s%40cret@db.example:7697", env)
    assert uri == "bolt://db.example:7697" and auth == ("ann", "s@cret")


def test_neo4j_credentials_from_env_and_no_auth_without_a_user() -> None:
    uri, auth = neo4j_target("neo4j+s://graph.example", {"NEO4J_USER": "u",
                                                        "NEO4J_PASSWORD": "p"})
    assert uri == "neo4j+s://graph.example" and auth == ("u", "p")
    assert neo4j_target("bolt://localhost:7687", {}) == ("bolt://localhost:7687", None)
    assert neo4j_target("bolt://u@h:1", {}) == ("bolt://h:1", ("u", ""))


@pytest.mark.parametrize("url", ["mysql://h/db", "learngraph.db", "http://localhost:7474"])
async def test_unsupported_urls_name_the_supported_schemes(url: str) -> None:
    with pytest.raises(StoreUnavailableError, match="bolt://host:7687") as err:
        await open_store(url)
    assert repr(url) in str(err.value)


async def test_sqlite_url_opens_the_embedded_store(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path}/opened.db")
    try:
        assert isinstance(store, SqliteStore) and store.kind == "sqlite"
        assert (tmp_path / "opened.db").exists()
    finally:
        await store.close()


async def test_sqlite_in_a_missing_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError, match="no-such-dir"):
        await open_store(f"sqlite:///{tmp_path}/no-such-dir/x.db")
