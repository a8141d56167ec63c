"""Smoke test of benchmarks/bench_http_population.py: its whole path (importer, ``learngraph
migrate`` / ``curriculum import`` / ``serve`` subprocesses, learners over HTTP) on a tiny
Junyi-format table, for the ``seed`` and ``kst`` populations; every population pairs its
learners across policies; and the Junyi curriculum it builds (776 skills, 40 goals)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_http_population as bench  # noqa: E402
from benchmarks.population_setting import (  # noqa: E402
    POPULATIONS,
    Curriculum,
    load_curriculum,
    population,
)

CHAIN = 20


def tiny_table(path: Path) -> Path:
    """A chain s00 -> ... -> s19, a two-skill cycle hanging off it, one isolated exercise."""
    rows = ["name,prerequisites,pretty_display_name,topic,area"]
    rows += [f"s{k:02d},{f's{k - 1:02d}' if k else ''},S{k},t,x" for k in range(CHAIN)]
    rows += [f'cy1,"s{CHAIN - 1:02d},cy2",C1,t,x', "cy2,cy1,C2,t,x", "lonely,,L,t,x"]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_tiny_curriculum_keeps_linked_skills_and_names_the_cycle(tmp_path: Path) -> None:
    cur = load_curriculum(tiny_table(tmp_path / "t.csv"), items_per_skill=3, goals=2)
    assert len(cur.skills) == CHAIN + 2 and cur.dropped_isolated == 1
    assert len(cur.items) == 3 * (CHAIN + 2)
    assert [p for p in cur.skipped if "cycle" in p] and len(cur.edges) == CHAIN + 1
    assert set(cur.goals) <= {"cy1", "cy2", f"s{CHAIN - 1:02d}"} and len(cur.goals) == 2
    assert set(cur.goals) <= set(cur.closure)
    rank = {s: k for k, s in enumerate(cur.closure)}
    assert all(rank[e.source] < rank[e.target] for e in cur.edges if e.target in rank)


def fingerprint(cur: Curriculum, name: str, seed: int, learners: int = 6) -> list[object]:
    """What a cohort of ``name`` is: each learner's true state over every skill at t=0, then
    its answers to the same 40 items (the first four skills' exercises, cycled)."""
    pop = population(name, cur, seed)
    plan = [it.id for it in cur.items[:12]]
    out: list[object] = []
    for k in range(learners):
        learner = pop.new_learner(f"sim-{k:03d}")
        out.append(tuple(pop.mastered(learner, s.id, 0.0) for s in cur.skills))
        out.append(tuple(pop.answer(learner, plan[j % 12], 60.0 * j) for j in range(40)))
    return out


def test_the_four_populations_are_offered(tmp_path: Path) -> None:
    assert set(POPULATIONS) == {"seed", "bkt", "afm", "kst"}
    cur = load_curriculum(tiny_table(tmp_path / "t.csv"), items_per_skill=3, goals=2)
    with pytest.raises(SystemExit, match="unknown population 'irt'"):
        population("irt", cur, 0)


@pytest.mark.parametrize("name", POPULATIONS)
def test_each_population_gives_every_policy_the_same_learners(name: str, tmp_path: Path) -> None:
    """``run`` builds the population afresh per policy (topological, oracle, the server's
    cohort) from ``--seed``: the same seed must give the same learners (paired comparison),
    and another seed other learners."""
    cur = load_curriculum(tiny_table(tmp_path / "t.csv"), items_per_skill=3, goals=2)
    topological_cohort = fingerprint(cur, name, 4)
    oracle_cohort = fingerprint(cur, name, 4)
    assert topological_cohort == oracle_cohort
    assert fingerprint(cur, name, 5) != topological_cohort


def test_junyi_curriculum(datasets: Path) -> None:
    table = datasets / "junyi-prerequisites" / "junyi_Exercise_table.csv"
    cur = load_curriculum(table)
    assert (len(cur.skills), len(cur.items), len(cur.goals)) == (776, 4 * 776, 40)
    assert sum("cycle" in p for p in cur.skipped) == 1


@pytest.mark.parametrize("name", ["seed", "kst"])
def test_benchmark_drives_a_real_server(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "population.json"
    learners, budget = 2, 60
    code = bench.main(
        [
            "--table",
            str(tiny_table(tmp_path / "t.csv")),
            "--goals",
            "2",
            "--population",
            name,
            "--learners",
            str(learners),
            "--budget",
            str(budget),
            "--lanes",
            "2",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["args"]["population"] == name
    res = doc["result"]
    assert res["skills"] == CHAIN + 2
    pols = res["policies"]
    for policy in ("adaptive", "topological", "oracle"):
        s = pols[policy]
        assert s["learners"] == learners and 0 <= s["reached_share"] <= 1
        assert 0 <= s["median_items"] <= s["p90_items"] <= budget
    a = pols["adaptive"]
    assert a["requests"] == a["answers"] + learners  # one recordAttempts per answer
    assert a["answers"] <= learners * budget
    assert sum(a["kinds"].values()) == pytest.approx(1.0) if a["answers"] else a["kinds"] == {}
    table = capsys.readouterr().out
    assert "| adaptive (`learngraph serve`, HTTP) |" in table
    assert "| oracle (knows the true state) |" in table
    assert f"population {name}," in table


def test_a_model_trained_on_a_warm_up_cohort_serves_the_measured_one(tmp_path: Path) -> None:
    out = tmp_path / "elo.json"
    code = bench.main(
        [
            "--table",
            str(tiny_table(tmp_path / "t.csv")),
            "--goals",
            "2",
            "--learners",
            "2",
            "--budget",
            "30",
            "--tracer",
            "elo",
            "--warmup-learners",
            "3",
            "--warmup-budget",
            "30",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    res = json.loads(out.read_text())["result"]
    assert res["training"]["key"].startswith("elo-")
    assert res["served_model"] == res["training"]["key"]
    assert res["warmup"]["learners"] == 3 and res["warmup"]["answers"] > 0


def test_the_baseline_runs_to_its_own_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--baseline-budget``: the client-side policies (topological, oracle) run up to it, the
    server's cohort stops at ``--budget``; the JSON and the table say which is which."""
    out = tmp_path / "uncensored.json"
    table = tiny_table(tmp_path / "t.csv")
    common = ["--table", str(table), "--goals", "2", "--learners", "2", "--lanes", "2"]
    budget, baseline = 4, 5000
    code = bench.main(
        [*common, "--budget", str(budget), "--baseline-budget", str(baseline), "--json", str(out)]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["args"]["baseline_budget"] == baseline
    res = doc["result"]
    assert res["budgets"] == {"adaptive": budget, "topological": baseline, "oracle": baseline}
    pols = res["policies"]
    a, topo = pols["adaptive"], pols["topological"]
    assert a["budget"] == budget and a["answers"] <= 2 * budget and a["reached_share"] == 0
    # the 22-skill closure takes more than 4 items under the fixed order; with 5,000 every
    # learner gets there, and the counts are the learners' own, not a cap
    assert topo["budget"] == pols["oracle"]["budget"] == baseline
    assert topo["reached_share"] == 1 and budget < topo["median_items"] < baseline
    assert all(n is not None and budget < n < baseline for n in topo["items_per_learner"])
    printed = capsys.readouterr().out
    assert f"budget {budget} items (adaptive), {baseline} (topological, oracle)" in printed
    assert f"| fixed topological order | {baseline} |" in printed
    assert "lower bounds" in printed
    # without the flag every policy shares --budget: the fixed order is cut off at it
    code = bench.main([*common, "--budget", str(budget), "--json", str(out)])
    assert code == 0
    res = json.loads(out.read_text())["result"]
    assert set(res["budgets"].values()) == {budget}
    assert res["policies"]["topological"]["items_per_learner"] == [None, None]
    assert res["policies"]["topological"]["median_items"] == budget


def policies(adaptive: float, topological: float) -> dict[str, object]:
    return {
        "policies": {
            "adaptive": {"reached_share": adaptive},
            "topological": {"reached_share": topological},
        }
    }


def test_the_report_says_which_way_censoring_bends_the_ratio() -> None:
    assert bench.censoring(policies(1.0, 1.0)) == ""
    assert "lower bounds" in bench.censoring(policies(0.9, 1.0))
    assert "upper bounds" in bench.censoring(policies(1.0, 0.1))
    assert "neither bound" in bench.censoring(policies(0.5, 0.5))


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--learners"):
        bench.main(["--learners", "0"])
    with pytest.raises(SystemExit, match="--baseline-budget"):
        bench.main(["--baseline-budget", "0"])
    with pytest.raises(SystemExit, match="not found"):
        bench.main(["--table", str(tmp_path / "none.csv")])


def test_the_fixed_order_swept_over_practices_per_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--topo-reps-sweep``: the fixed order again at each R on the same learners; the row at
    the main ``--topo-reps`` repeats its counts, each ratio is the adaptive cohort's over that
    row, and the best in hindsight is the smallest median / p90 of the sweep."""
    out = tmp_path / "sweep.json"
    common = ["--table", str(tiny_table(tmp_path / "t.csv")), "--goals", "2", "--learners", "2"]
    code = bench.main(
        [*common, "--budget", "40", "--baseline-budget", "5000", "--topo-reps", "3"]
        + ["--topo-reps-sweep", "1,3,8", "--json", str(out)]
    )
    assert code == 0
    res = json.loads(out.read_text())["result"]
    sw, pols = res["topological_sweep"], res["policies"]
    rows = {r["reps"]: r for r in sw["rows"]}
    assert sorted(rows) == [1, 3, 8]
    assert rows[3]["median_items"] == pols["topological"]["median_items"]
    assert rows[3]["p90_items"] == pols["topological"]["p90_items"]
    assert rows[1]["median_items"] != rows[8]["median_items"]  # R changes the fixed order
    ada = pols["adaptive"]
    for r in rows.values():
        assert r["ratio_median"] == pytest.approx(ada["median_items"] / r["median_items"])
    best = min(rows.values(), key=lambda r: r["median_items"])
    assert sw["best_median_reps"] == best["reps"]
    assert sw["ratio_median_vs_best"] == pytest.approx(best["ratio_median"])
    printed = capsys.readouterr().out
    assert "| practices a pass | topological median |" in printed
    assert f"median at {best['reps']}" in printed
    with pytest.raises(SystemExit, match="topo-reps-sweep"):
        bench.main([*common, "--topo-reps-sweep", "3,0"])
