"""The web tests' harness: a real ``learngraph serve`` subprocess over a seeded demo SQLite
store, and headless Chromium (Debian's ``chromium``) driven by Playwright for Python with
``executable_path`` (no browser download). Fixtures are in ``tests/web/conftest.py``.

Waits here only bound a hang (:data:`tests.patience.PATIENCE_S`); nothing is timed.
"""

from __future__ import annotations

import asyncio
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.patience import PATIENCE_S

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ENV = "LEARNGRAPH_CHROMIUM"
SCREENSHOTS_ENV = "LEARNGRAPH_SCREENSHOTS"
#: learners in the web tests' demo store: enough for a class, seeded in about a second
DEMO_LEARNERS = 8
_LISTENING = re.compile(r"Uvicorn running on (http://[\d.]+:\d+)")


def chromium_path() -> str:
    """The Chromium binary: ``LEARNGRAPH_CHROMIUM``, else ``chromium`` on PATH. Missing: skip,
    or fail under ``CI=true`` (``.ci/test`` installs it with apt-get)."""
    path = (
        os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if path:
        return path
    message = (
        "no Chromium for the web tests: `apt-get install chromium` (Debian), or set "
        f"{CHROMIUM_ENV}=/path/to/chromium"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (CI=true: the web tests must run in CI)")
    pytest.skip(message)


def seed_demo(db_path: Path, *, learners: int = DEMO_LEARNERS, seed: int = 7) -> str:
    """Migrate and seed a demo SQLite store at ``db_path``; returns its URL."""
    from graph.open import open_store
    from migrations.runner import migrate
    from seed.cli import Progress, seed_store

    url = f"sqlite:///{db_path}"

    async def run() -> None:
        store = await open_store(url)
        try:
            await migrate(store)
        finally:
            await store.close()
        status = await seed_store(
            url,
            n_learners=learners,
            seed=seed,
            truth=db_path.with_suffix(".truth.jsonl"),
            progress=Progress(quiet=True),
        )
        assert status == 0, f"seeding {url} failed with {status}"

    asyncio.run(run())
    return url


def copy_store(template: Path, target: Path) -> Path:
    """A private copy of a closed SQLite store (with its WAL files, if any)."""
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{template}{suffix}")
        if src.exists():
            shutil.copyfile(src, f"{target}{suffix}")
    return target


@dataclass
class LiveServer:
    """``learngraph serve`` on a free loopback port (``--port 0``; the port is read from
    uvicorn's start-up line). ``url`` is the base (``http://127.0.0.1:PORT``)."""

    db_url: str
    workdir: Path
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    process: subprocess.Popen[str] | None = None
    log: list[str] = field(default_factory=list)

    def start(self) -> LiveServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LEARNGRAPH_", "NEO4J_"))}
        env.update(
            PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            LEARNGRAPH_MODELS=str(self.workdir / "models"),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        cmd = [sys.executable, "-m", "api.cli", "serve", "--db", self.db_url, "--port", "0"]
        self.process = subprocess.Popen(
            [*cmd, *self.extra_args],
            cwd=self.workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:  # keep draining so the server never blocks on a full pipe
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self.log.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + PATIENCE_S
        while not self.url:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                line = ""
            if line is None:
                raise AssertionError(f"learngraph serve exited:\n{''.join(self.log)}")
            if match := _LISTENING.search(line or ""):
                self.url = match.group(1)
            elif time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"learngraph serve did not start:\n{''.join(self.log)}")
        self._wait_ready(deadline)
        return self

    def _wait_ready(self, deadline: float) -> None:
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=PATIENCE_S).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.url}/healthz not ready:\n{''.join(self.log)}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=PATIENCE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def token(self, sub: str, role: str) -> str:
        """A token from the server's own dev-token endpoint (the development secret)."""
        r = httpx.post(
            f"{self.url}/app/dev-token", json={"sub": sub, "role": role}, timeout=PATIENCE_S
        )
        r.raise_for_status()
        return str(r.json()["token"])

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """POST a query (for a test's own setup or checks beside the browser)."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        r = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=PATIENCE_S,
        )
        body: dict[str, Any] = r.json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


def open_page(page: Any, server: LiveServer, route: str, *, sub: str, role: str) -> Any:
    """Sign ``page`` in as ``sub`` with ``role`` (a token in localStorage, as the sign-in form
    keeps it) and open ``#/route``; returns once the page has rendered (``#page[data-ready]``)."""
    token = server.token(sub, role)
    page.goto(f"{server.url}/app/")
    page.evaluate("t => localStorage.setItem('learngraph.token', t)", token)
    # a new query string makes this a full load (a hash change alone would keep the page
    # that is on screen, drawn with the previous token)
    page.goto(f"{server.url}/app/?as={sub}#/{route}")
    page.wait_for_selector(f"#page[data-ready='{route.split('/')[0]}']")
    return page


def allow_console_error(page: Any, text: str) -> None:
    """Let ``page`` log a ``console.error`` containing ``text`` (an expected failed request)
    without failing the test (``web_page`` fails on any other)."""
    page.lg_allowed_console_errors.append(text)


def screenshot(page: Any, name: str, tmp_dir: Path) -> Path:
    """Save a full-page PNG as ``NAME.png`` in ``$LEARNGRAPH_SCREENSHOTS`` (e.g. ``docs/img``)
    when set, else in ``tmp_dir``."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
