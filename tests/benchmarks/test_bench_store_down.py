"""Smoke test of benchmarks/bench_store_down.py: the store-up half on a few calls prints its
figures (the store-down half waits for the 10 s request timeout on purpose; not run here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_store_down as bench  # noqa: E402


async def test_benchmark_prints_the_store_up_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert await bench.main(["--calls", "3", "--down-calls", "0"]) == 0
    out = capsys.readouterr().out
    assert "breaker / baseline median:" in out
    assert "median ms" in out
    rows = [
        line.split() for line in out.splitlines() if line.startswith(("breaker   ", "baseline  "))
    ]
    assert [r[0] for r in rows] == ["breaker", "baseline"]
    assert all(float(r[1]) > 0 and float(r[2]) >= float(r[1]) for r in rows)
