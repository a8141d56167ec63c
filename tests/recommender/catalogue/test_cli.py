"""``learngraph recommend`` commands end to end on tiny inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main


def write_pid4(path: Path) -> None:
    """Six learners; learners take problems 1, 2, 3, 4 in turn, so the next one is known."""
    blocks = []
    for n in range(6):
        problems = [1, 2, 3, 4] if n % 2 == 0 else [1, 2, 3, 4, 5][: 4 + n % 3 - 1]
        blocks += [
            f"{len(problems)},{100 + n}",
            ",".join(map(str, problems)),
            ",".join("7" for _ in problems),
            ",".join("1" for _ in problems),
        ]
    path.write_text("\n".join(blocks) + "\n")


def test_evaluate_on_a_log_prints_metrics_per_strategy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "tiny.csv"
    write_pid4(log)
    argv = [
        "recommend",
        "evaluate",
        "--log",
        str(log),
        "--quiet",
        "--json",
        "--strategy",
        "popularity",
        "--strategy",
        "item-knn",
        "--k",
        "1",
        "--test-share",
        "0.34",
        "--target-share",
        "0.25",
    ]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["learners"] == 6 and doc["test_learners"] == 2
    assert doc["split"].startswith("by learner, then by time")
    by = {r["strategy"]: r for r in doc["results"]}
    assert set(by) == {"popularity", "item-knn"}
    assert by["item-knn"]["precision@1"] == 1.0  # problem 3 was always followed by 4


def test_tag_evaluate_on_the_demo_curriculum(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", "tag-evaluate", "--json", "--seed", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["variant"]: r for r in doc["rows"]}
    assert rows["+ graph prior"]["precision@3"] > rows["most frequent tags"]["precision@3"]
    assert rows["+ graph prior"]["precision@3"] <= rows["+ graph prior"]["ceiling_precision@3"]


def test_evaluate_refuses_a_bad_share(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "tiny.csv"
    write_pid4(log)
    assert main(["recommend", "evaluate", "--log", str(log), "--quiet", "--test-share", "2"]) == 2
    assert "test_share=2.0" in capsys.readouterr().err
