"""``learngraph trace evaluate --cv K`` and ``tracing.crossval``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from api.cli import main
from tracing.crossval import cross_validate, cv_splits

BLOCK = "{k},{lid}\n{items}\n{skills}\n{labels}\n"


def fold_file(path: Path, learners: range, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    text = ""
    for k, u in enumerate(learners):
        items = rng.integers(0, 8, size=6)
        labels = (rng.random(6) < 0.3 + 0.08 * items).astype(int)
        text += BLOCK.format(
            k=k,
            lid=f"u{u}",
            items=",".join(f"q{i}" for i in items),
            skills=",".join(f"s{i % 3}" for i in items),
            labels=",".join(map(str, labels)),
        )
    path.write_text(text)
    return path


@pytest.fixture
def folds(tmp_path: Path) -> list[Path]:
    return [
        fold_file(tmp_path / f"fold{f}.csv", range(10 * f, 10 * f + 10), seed=f)
        for f in range(1, 4)
    ]


def test_published_folds_each_tested_once(folds: list[Path]) -> None:
    splits, how = cv_splits(folds, 3, "pid4")
    pairs = list(splits)
    assert "3 published folds" in how
    for i, (tr, te) in enumerate(pairs):
        assert set(te.learner_ids) == {f"u{u}" for u in range(10 * (i + 1), 10 * (i + 1) + 10)}
        assert len(tr.learner_ids) == 20 and not set(tr.learner_ids) & set(te.learner_ids)


def test_seeded_folds_partition_the_learners(folds: list[Path]) -> None:
    splits, how = cv_splits(folds[0], 5, "pid4", seed=3)
    tests = [set(te.learner_ids) for _, te in splits]
    assert "seeded" in how and sum(len(t) for t in tests) == 10
    assert set().union(*tests) == {f"u{u}" for u in range(10, 20)}


def test_cv_summary_is_mean_and_sample_sd_of_the_folds(folds: list[Path]) -> None:
    res = cross_validate("elo", folds, 3, fmt="pid4", params={"n_epochs": 1})
    aucs = [f.metrics["auc"] for f in res.folds]
    mean, sd = res.summary()["auc"]
    assert mean == pytest.approx(np.mean(aucs)) and sd == pytest.approx(np.std(aucs, ddof=1))
    assert [f.info["fold"] for f in res.folds] == [1, 2, 3]


def test_cli_cv_prints_mean_sd_per_metric(
    folds: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "trace",
        "evaluate",
        "--model",
        "bkt",
        "--train",
        *map(str, folds),
        "--cv",
        "3",
        "--format",
        "pid4",
        "--seed",
        "2",
    ]
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["cv"] == 3 and len(doc["folds"]) == 3 and doc["seed"] == 2
    aucs = [f["auc"] for f in doc["folds"]]
    assert doc["mean"]["auc"] == pytest.approx(np.mean(aucs), abs=1e-6)
    assert doc["sd"]["auc"] == pytest.approx(np.std(aucs, ddof=1), abs=1e-6)
    assert main(args) == 0
    out = capsys.readouterr().out
    auc_row = next(ln for ln in out.splitlines() if ln.startswith("AUC"))
    assert f"{doc['mean']['auc']:.4f} +- {doc['sd']['auc']:.4f}" in auc_row
    for name in ("accuracy", "RMSE", "ECE", "train seconds"):
        assert any(ln.startswith(name) for ln in out.splitlines())


def test_cli_cv_refuses_bad_combinations(
    folds: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["trace", "evaluate", "--model", "bkt", "--format", "pid4"]
    assert main([*base, "--train", *map(str, folds[:2]), "--cv", "3"]) == 2
    assert "--cv 3 with 2 --train files" in capsys.readouterr().err
    assert main([*base, "--train", str(folds[0]), "--test", str(folds[1]), "--cv", "2"]) == 2
    assert "--test cannot be combined with --cv" in capsys.readouterr().err
    assert main([*base, "--train", str(folds[0]), "--cv", "1"]) == 2
    assert "at least 2 folds" in capsys.readouterr().err


def test_models_listing_shows_the_validation_auc(
    folds: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = tmp_path / "models"
    assert (
        main(
            [
                "trace",
                "train",
                "--model",
                "elo",
                "--train",
                *map(str, folds),
                "--format",
                "pid4",
                "--registry",
                str(reg),
                "--json",
            ]
        )
        == 0
    )
    rec = json.loads(capsys.readouterr().out)
    valid = rec["metrics"]["valid_auc"]
    assert 0.0 <= valid <= 1.0 and rec["metrics"]["n_valid_learners"] == 3
    assert main(["trace", "models", "--registry", str(reg)]) == 0
    line = capsys.readouterr().out.strip()
    assert f"valid AUC {valid:.4f}" in line and "test AUC -" in line
