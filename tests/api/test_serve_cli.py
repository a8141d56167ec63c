"""``learngraph serve`` refuses an unmigrated store, naming the command to run."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main


def test_serve_refuses_an_unmigrated_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["serve", "--db", url]) == 2
    err = capsys.readouterr().err
    assert f"learngraph migrate --db {url}" in err


def test_serve_refuses_bad_limits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEARNGRAPH_LIMIT_MAX_COST", "cheap")
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert "LEARNGRAPH_LIMIT_MAX_COST='cheap' is not a number" in capsys.readouterr().err


def test_serve_refuses_several_workers_without_redis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEARNGRAPH_REDIS_URL", raising=False)
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--workers", "2"]) == 2
    assert "--workers 2 needs LEARNGRAPH_REDIS_URL" in capsys.readouterr().err
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--workers", "0"]) == 2
    assert "--workers 0: give 1 or more processes" in capsys.readouterr().err


def test_serve_refuses_an_unreachable_redis_before_binding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["migrate", "--db", url]) == 0
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LEARNGRAPH_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    assert main(["serve", "--db", url, "--workers", "2"]) == 2
    assert f"LEARNGRAPH_REDIS_URL='redis://127.0.0.1:{port}/0' does not answer" in (
        capsys.readouterr().err
    )
