"""Smoke test of benchmarks/bench_load.py on a tiny setting (two seeded learners, a ramp of
1 -> 2 virtual learners, three-second steps, one server process), and its pure parts."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_load as bench  # noqa: E402


def step(vus: int, p99: float, errors: int = 0, requests: int = 10) -> dict[str, object]:
    return {"vus": vus, "p99_ms": p99, "errors": errors, "requests": requests}


def test_the_concurrency_holding_the_target_is_the_largest_step_under_it() -> None:
    steps = [step(1, 40), step(2, 60), step(4, 99.9), step(8, 140), step(16, 90)]
    # a later step back under the target (noise) still counts: it held there
    assert bench.holding(steps, 100) == 16
    assert bench.holding([step(1, 40), step(2, 50, errors=1)], 100) == 1  # errors do not hold
    assert bench.holding([step(1, 150)], 100) is None
    assert bench.holding([step(1, float("nan"), requests=0)], 100) is None


def test_cpu_time_of_a_process_tree_is_read_from_proc() -> None:
    before = bench.cpu_seconds([os.getpid()])
    sum(i * i for i in range(300_000))
    assert bench.cpu_seconds([os.getpid()]) > before > 0
    assert bench.cpu_seconds([2**22 + 12345]) == 0.0  # gone: nothing, no error


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        bench.parse(["--stores", "mysql"])
    with pytest.raises(SystemExit):
        bench.parse(["--stores", "neo4j"])  # needs --neo4j (whose data it wipes)
    with pytest.raises(SystemExit):
        bench.parse(["--workers", "two"])
    with pytest.raises(SystemExit):
        bench.parse(["--max-vus", "0"])


def test_a_tiny_ramp_against_a_real_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "load.json"
    args = ["--learners", "2", "--max-vus", "2", "--step-s", "3", "--think-ms", "50"]
    args += ["--warmup-rounds", "1"]
    assert bench.main([*args, "--warmup-s", "0", "--json", str(out)]) == 0
    (config,) = json.loads(out.read_text())["result"]["configs"]
    assert (config["store"], config["workers"]) == ("sqlite", 1)
    assert [s["vus"] for s in config["steps"]] <= [1, 2] and config["steps"]
    for s in config["steps"]:
        assert s["errors"] == 0
        if s["requests"]:  # a step on a very busy machine may see none complete
            assert s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"]
        assert sum(s["by_kind"].values()) == s["requests"]
        assert s["server_cpu_ms_per_request"] >= 0
    assert sum(s["requests"] for s in config["steps"]) > 0
    printed = capsys.readouterr().out
    assert "| sqlite | 1 | 1 |" in printed and "sqlite, 1 process(es): p99 < 100 ms" in printed
