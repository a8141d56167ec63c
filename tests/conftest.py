"""Fixtures shared by the whole suite.

Stores: ``sqlite_store`` (a fresh migrated file per test), ``neo4j_store`` (the server named by
``LEARNGRAPH_TEST_NEO4J``, wiped and migrated per test) and ``store``, parametrized over both.
Without ``LEARNGRAPH_TEST_NEO4J`` the Neo4j cases are skipped with a reason; under ``CI=true``
they fail instead, so CI can never pass without having run them. The tests that need Redis
(several server processes) follow ``LEARNGRAPH_TEST_REDIS`` the same way (``redis_url()``).

At the end of the run the summary prints how many tests passed on each store.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

NEO4J_ENV = "LEARNGRAPH_TEST_NEO4J"
REDIS_ENV = "LEARNGRAPH_TEST_REDIS"
DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if not DATASETS.exists():  # a checkout that is not beside shared/
    DATASETS = Path(os.environ.get("LEARNGRAPH_DATASETS", "/work/shared/datasets"))


def neo4j_url() -> str:
    """The test server's bolt URL, or skip (fail under CI=true) when none is configured."""
    url = os.environ.get(NEO4J_ENV)
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{NEO4J_ENV} is not set under CI=true: the Neo4j tests must run in CI")
    pytest.skip(f"{NEO4J_ENV} not set: start one with `learngraph neo4j start` and export it")


def redis_url() -> str:
    """The test Redis server's URL (``LEARNGRAPH_TEST_REDIS``, started by ``.ci/test``), or
    skip (fail under CI=true) when none is configured."""
    url = os.environ.get(REDIS_ENV)
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{REDIS_ENV} is not set under CI=true: the multi-process tests must run")
    pytest.skip(
        f"{REDIS_ENV} not set: start `redis-server --port 6390` and export "
        f"{REDIS_ENV}=redis://127.0.0.1:6390/0"
    )


@pytest.fixture(autouse=True)
def _isolated_model_registry(tmp_path_factory: pytest.TempPathFactory,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests off the developer's ./models registry: a model trained there (by the README's
    serve command, say) would otherwise become the serving model inside tests."""
    monkeypatch.setenv("LEARNGRAPH_MODELS", str(tmp_path_factory.mktemp("models")))


@pytest.fixture
def datasets() -> Path:
    if not DATASETS.exists():
        pytest.fail(f"public datasets not found at {DATASETS}; set LEARNGRAPH_DATASETS")
    return DATASETS


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Any]:
    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate

    store = await SqliteStore.open(str(tmp_path / "test.db"))
    await migrate(store)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def neo4j_store() -> AsyncIterator[Any]:
    url = neo4j_url()  # skips (or fails under CI) before anything else when unset
    from graph.neo4j_store import Neo4jStore
    from graph.open import neo4j_target
    from migrations.runner import migrate

    uri, auth = neo4j_target(url)
    store = await Neo4jStore.open(uri, auth=auth)
    await store.wipe_all_data_for_tests()
    await migrate(store)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> Any:
    """A fresh, migrated, empty store of each kind (a plain fixture: it only picks one of the
    async fixtures above, which pytest-asyncio sets up)."""
    return request.getfixturevalue(f"{request.param}_store")


_passed_by_store: Counter[str] = Counter()
_STORE_PARAM = re.compile(r"[\[-](sqlite|neo4j)[\]-]")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        match = _STORE_PARAM.search(report.nodeid)
        if match:
            _passed_by_store[match.group(1)] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_sep("-", "tests passed per store")
    for kind in ("sqlite", "neo4j"):
        terminalreporter.write_line(f"{kind}: {_passed_by_store[kind]} passed")
