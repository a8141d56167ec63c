"""benchmarks/bench_populations.py's --topo-reps: it reaches the fixed curriculum (the plan
practises each skill that many times per pass) and is refused below 1."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import benchmarks.bench_populations as bench  # noqa: E402
from seed.simulation import harness  # noqa: E402
from seed.simulation.policies import TopologicalPolicy  # noqa: E402


@pytest.mark.parametrize("reps", [1, 3])
def test_topo_reps_sets_the_fixed_curriculums_pass(
    reps: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans: list[list[str]] = []
    real = TopologicalPolicy.__init__

    def spy(self: TopologicalPolicy, setting: Any, r: int) -> None:
        real(self, setting, r)
        plans.append(list(self.plan))

    monkeypatch.setattr(TopologicalPolicy, "__init__", spy)
    out = tmp_path / "out.json"
    argv = ["--curriculum", "demo", "--population", "kst", "--policy", "topological"]
    argv += ["--learners", "1", "--budget", "5", "--topo-reps", str(reps), "--quiet"]
    assert bench.main([*argv, "--json-out", str(out)]) == 0
    setting = harness.demo_setting()
    assert len(plans) == 1
    # every closure skill in syllabus order, `reps` of its items in a row, once per pass
    assert len(plans[0]) == reps * len(setting.closure)
    first = plans[0][:reps]
    idx = setting.index
    skill0 = idx.skill_pos[setting.closure[0]]
    assert {idx.item_pos[i] for i in first} <= set(idx.items_of(skill0).tolist())
    assert json.loads(out.read_text())["topo_reps"] == reps


def test_topo_reps_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        bench.main(["--curriculum", "demo", "--topo-reps", "0"])
    assert exc.value.code == 2
    assert "0 must be at least 1" in capsys.readouterr().err
