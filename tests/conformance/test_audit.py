"""The graphql-http server audit against a running ``learngraph serve``: 0 errors, 0 warnings.

Needs node and npm (``npm ci`` runs once, into tests/conformance/node_modules, ignored by git).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.patience import PATIENCE_S

HERE = Path(__file__).resolve().parent
LEARNGRAPH = [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_node_modules() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the graphql-http audit")
    if not (HERE / "node_modules" / "graphql-http").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, capture_output=True
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    db = f"sqlite:///{tmp_path / 'audit.db'}"
    subprocess.run([*LEARNGRAPH, "migrate", "--db", db], check=True, capture_output=True)
    port = free_port()
    # a generous request timeout: the audit checks the protocol, not the machine's speed
    env = {**os.environ, "LEARNGRAPH_LIMIT_TIMEOUT_S": str(PATIENCE_S)}
    server = subprocess.Popen(
        [*LEARNGRAPH, "serve", "--db", db, "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + PATIENCE_S
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                log = server.stderr.read() if server.stderr else ""
                pytest.fail(f"learngraph serve did not start: {log}")
            time.sleep(0.2)
        yield f"{url}/graphql"
    finally:
        server.terminate()
        server.wait(PATIENCE_S)
        if server.stderr is not None:
            server.stderr.close()


def test_graphql_http_audit_passes_without_warnings(served: str) -> None:
    ensure_node_modules()
    run = subprocess.run(
        ["node", str(HERE / "audit.mjs"), served],
        capture_output=True,
        text=True,
        timeout=5 * PATIENCE_S,
    )
    lines = run.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["error"] == 0 and summary["warn"] == 0, run.stdout
    assert summary["ok"] == summary["audits"] >= 50, run.stdout
    assert run.returncode == 0
