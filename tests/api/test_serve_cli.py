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
