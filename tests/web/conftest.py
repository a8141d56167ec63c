"""Fixtures for the web app's tests (headless Chromium against a real ``learngraph serve``).

- ``demo_store`` (session): a migrated SQLite file seeded with the demo curriculum and
  :data:`~tests.web.harness.DEMO_LEARNERS` learners (``learner-0001`` ..., ``teacher-01``,
  ``designer-01``, ``admin-01``); copy it, never write to it.
- ``web_server`` (session): a server over a copy of it, shared by the tests that only add
  their own learners' answers. A test that edits the curriculum or the rosters takes
  ``start_web_server()`` instead: a server of its own over a fresh copy, stopped after it.
- ``browser`` (module) and ``web_page`` (each test: a new context, 1280x900). A JavaScript
  error or a failed ``console.error`` on the page fails the test at teardown.

A page test::

    from tests.web.harness import open_page, screenshot

    @pytest.mark.web
    def test_something(web_server, web_page, tmp_path):
        page = open_page(web_page, web_server, "learner", sub="learner-0003", role="learner")
        page.click("#answer-correct")
        page.wait_for_selector("#feedback")
        screenshot(page, "learner-page", tmp_path)  # docs/img/ with LEARNGRAPH_SCREENSHOTS
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.patience import PATIENCE_S
from tests.web.harness import LiveServer, chromium_path, copy_store, seed_demo


@pytest.fixture(scope="session", autouse=True)
def _chromium() -> str:
    """Skip (fail under CI=true) before seeding or starting anything when there is no
    Chromium."""
    return chromium_path()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-demo") / "demo.db"
    seed_demo(path)
    return path


@pytest.fixture(scope="session")
def start_web_server_session(
    demo_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def start(*extra_args: str, env: dict[str, str] | None = None) -> LiveServer:
        workdir = tmp_path_factory.mktemp("web-server")
        db = copy_store(demo_store, workdir / "store.db")
        server = LiveServer(f"sqlite:///{db}", workdir, tuple(extra_args), dict(env or {}))
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def web_server(start_web_server_session: Callable[..., LiveServer]) -> LiveServer:
    return start_web_server_session()


@pytest.fixture
def start_web_server(
    start_web_server_session: Callable[..., LiveServer],
) -> Iterator[Callable[..., LiveServer]]:
    """``start_web_server(*serve_args, env={})``: a private server, stopped after the test."""
    mine: list[LiveServer] = []

    def start(*extra_args: str, env: dict[str, str] | None = None) -> LiveServer:
        server = start_web_server_session(*extra_args, env=env)
        mine.append(server)
        return server

    yield start
    for server in mine:
        server.stop()


@pytest.fixture(scope="module")
def browser(_chromium: str) -> Iterator[Any]:
    executable = _chromium
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def web_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(PATIENCE_S * 1000)
    page = context.new_page()
    problems: list[str] = []
    page.lg_allowed_console_errors = []  # harness.allow_console_error adds to it

    def on_console(msg: Any) -> None:
        if msg.type == "error" and not any(t in msg.text for t in page.lg_allowed_console_errors):
            problems.append(f"console.error: {msg.text}")

    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", on_console)
    try:
        yield page
    finally:
        context.close()
    assert not problems, "\n".join(problems)
