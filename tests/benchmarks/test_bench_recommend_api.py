"""Smoke test of benchmarks/bench_recommend_api.py: its whole path on a tiny synthetic graph
(SQLite only, 3 calls per figure), checking the JSON holds every figure and that they are
plausible (positive, p99 >= median, GraphQL answered on every call)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_recommend_api as bench  # noqa: E402

SEQUENTIAL = (
    "recommend", "service", "service_formula", "graphql", "typename", "learner_key",
    "after_edit", "after_edit_next",
)
CONCURRENT = ("service_concurrent", "graphql_concurrent")


def test_benchmark_main_path_writes_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "recommend_api.json"
    code = bench.main(
        ["--graphs", "synthetic", "--skills", "40", "--items-per-skill", "2", "--calls", "3",
         "--warmup", "1", "--concurrency", "2", "--edits", "2", "--profile-calls", "2",
         "--json", str(out), "--plot", str(tmp_path / "plot.png")]
    )
    assert code == 0
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    doc = json.loads(out.read_text())
    [run] = doc["results"]
    assert (run["graph"], run["store"]) == ("synthetic 40/80", "sqlite")
    assert (run["skills"], run["items"]) == (40, 80)
    assert run["edges"] > 0
    figs = run["figures"]
    for name in SEQUENTIAL:
        f = figs[name]
        assert f["median_ms"] > 0 and f["p99_ms"] >= f["median_ms"], (name, f)
        assert f["cpu_median_ms"] >= 0
    for name in ("recommend", "service", "service_formula", "graphql", "typename", "learner_key"):
        assert figs[name]["n"] == 3 and figs[name]["rps"] > 0
    assert figs["after_edit"]["n"] == 2
    for name in CONCURRENT:
        f = figs[name]
        assert f["n"] == 3 and f["clients"] == 2 and f["rps"] > 0 and f["median_ms"] > 0
    assert figs["first_call_ms"] > 0
    assert run["ratio_graphql_vs_service"] == pytest.approx(
        figs["graphql"]["median_ms"] / figs["service"]["median_ms"]
    )
    shares = [p["share"] for p in run["profile"]]
    assert sum(shares) == pytest.approx(1.0) and all(s >= 0 for s in shares)
    assert "ncalls" in run["profile_top"]
    table = capsys.readouterr().out
    assert "### synthetic 40/80 on sqlite" in table
    assert "| GraphQL `recommendations(first: 5)`, sequential |" in table


def test_unknown_graph_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown graph 'nope'"):
        bench.main(["--graphs", "nope", "--calls", "1"])
