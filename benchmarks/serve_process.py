"""A ``learngraph serve`` subprocess for benchmarks: a free loopback port, a bounded wait for
``/healthz``, and a stop that terminates (then kills) it; ``learngraph`` CLI calls that stop the
benchmark when they fail."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx


def learngraph() -> list[str]:
    """The ``learngraph`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("learngraph")
    return [str(script)] if script.exists() else [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run_cli(args: Sequence[str], env: dict[str, str]) -> tuple[str, str]:
    """``learngraph ARGS``: its stdout and stderr (a failure stops the benchmark)."""
    done = subprocess.run(
        [*learngraph(), *args], env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"learngraph {' '.join(args)} failed ({done.returncode}):\n"
            f"{done.stdout}{done.stderr[-3000:]}"
        )
    return done.stdout, done.stderr


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log_path: Path

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_ready(self, timeout_s: float) -> None:
        """Until ``/healthz`` answers 200; stops the server and raises ``SystemExit`` with
        its log when it exits or is not ready within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(
                    f"learngraph serve exited ({self.proc.returncode}):\n{self.tail()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"learngraph serve not ready in {timeout_s:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)


def spawn_server(
    db_url: str,
    env: dict[str, str],
    tmp: Path,
    *,
    workers: int = 1,
    name: str = "serve",
) -> Server:
    """Start ``learngraph serve`` (``--workers`` processes) on a free loopback port without
    waiting for it (see :meth:`Server.wait_ready`); its output goes to ``tmp/<name>.log``."""
    port = free_port()
    log_path = tmp / f"{name}.log"
    out = log_path.open("wb")
    proc = subprocess.Popen(
        [
            *learngraph(),
            "serve",
            "--db",
            db_url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    return Server(proc, f"http://127.0.0.1:{port}", log_path)


def start_server(
    db_url: str, env: dict[str, str], tmp: Path, timeout_s: float, *, workers: int = 1
) -> Server:
    """:func:`spawn_server`, then :meth:`Server.wait_ready`."""
    server = spawn_server(db_url, env, tmp, workers=workers)
    server.wait_ready(timeout_s)
    return server
