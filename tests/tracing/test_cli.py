"""``learngraph trace ...`` end to end on tiny files, plus the evaluation protocol."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from api.cli import main
from tracing.bkt import BKTTracer
from tracing.data import read_split
from tracing.evaluate import evaluate, load_split
from tracing.metrics import score

TRAIN = "".join(f"4\n1,1,2,2\n{a},1,{b},1\n" for a, b in [(0, 0), (1, 0), (0, 1), (1, 1)] * 5)
TEST = "3\n1,2,3\n0,1,1\n4\n2,2,1,3\n1,0,1,1\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    tr, te = tmp_path / "train.csv", tmp_path / "test.csv"
    tr.write_text(TRAIN)
    te.write_text(TEST)
    return tr, te


def test_evaluate_predicts_each_answer_from_earlier_ones(files: tuple[Path, Path]) -> None:
    train, test = read_split(*files)
    model = BKTTracer()
    result = evaluate(model, train, test, seed=3)
    # by hand: each test answer scored from the same learner's earlier test answers only
    y, p = [], []
    for seq in test.sequences:
        state = model.init_state()
        for x in seq:
            p.append(model.predict_state(state, [x.item])[0])
            y.append(x.correct)
            state = model.update(state, x)
    assert result.metrics == pytest.approx(score(np.array(y), np.array(p)), nan_ok=True)
    assert result.n_test == 7 and result.n_train == 80 and result.seed == 3
    # skill/item "3" never appears in training: two cold-start answers
    assert result.info["n_cold"] == 2


def test_cli_evaluate_json(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
                           tmp_path: Path) -> None:
    train, test = files
    code = main(["trace", "evaluate", "--model", "bkt", "--train", str(train), "--test",
                 str(test), "--json", "--seed", "5", "--plots", str(tmp_path / "plots")])
    assert code == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)  # exactly one JSON object on stdout
    for key in ("model", "auc", "accuracy", "rmse", "ece", "n_train", "n_test",
                "train_seconds", "predict_seconds", "seed"):
        assert key in doc
    assert doc["model"] == "bkt" and doc["seed"] == 5 and doc["n_test"] == 7
    assert "BKT EM iteration" in err  # progress on stderr
    pngs = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert pngs == ["bkt-test-calibration.png", "bkt-test-roc.png"]
    assert (tmp_path / "plots" / pngs[0]).read_bytes()[:4] == b"\x89PNG"


def test_cli_evaluate_table_and_param(files: tuple[Path, Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    train, test = files
    assert main(["trace", "evaluate", "--model", "elo", "--train", str(train), "--test",
                 str(test), "--format", "dkt3", "--param", "n_epochs=1"]) == 0
    out = capsys.readouterr().out
    assert "AUC" in out and "elo" in out and "cold-start AUC (2 answers)" in out
    assert main(["trace", "evaluate", "--model", "elo", "--train", str(train), "--test",
                 str(test), "--param", "nonsense=1"]) == 2
    assert "bad parameter for model 'elo'" in capsys.readouterr().err


def test_cli_bad_file_is_a_clear_error(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("2\n1,2\n1,7\n")
    assert main(["trace", "evaluate", "--model", "bkt", "--train", str(bad), "--format",
                 "dkt3"]) == 2
    assert "bad.csv:3: label '7' is not 0 or 1" in capsys.readouterr().err


def test_dktsyn_protocol_split(tmp_path: Path) -> None:
    f = tmp_path / "syn.csv"
    f.write_text("".join(f"{i % 2},1,0\n" for i in range(10)))
    tr, te, how = load_split(f, None)
    assert len(tr.sequences) == 5 and len(te.sequences) == 5
    assert te.learner_ids[0] == "6" and "rows 1-5 train, rows 6-10 test" in how


def test_train_register_list_activate(files: tuple[Path, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    train, test = files
    reg = tmp_path / "models"
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert main(["migrate", "--db", db]) == 0
    capsys.readouterr()
    assert main(["trace", "train", "--model", "bkt", "--train", str(train), "--test",
                 str(test), "--registry", str(reg), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["key"] == "bkt-v1" and first["data"]["train"] == str(train)
    assert first["metrics"]["n_test"] == 7
    assert main(["trace", "train", "--model", "elo", "--train", str(train), "--registry",
                 str(reg), "--name", "elo-quick"]) == 0
    capsys.readouterr()
    assert main(["trace", "models", "--registry", str(reg), "--json", "--db", db]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["active"] is None  # registered models serve no store until activated
    assert [m["key"] for m in listing["models"]] == ["bkt-v1", "elo-quick-v1"]
    assert main(["trace", "activate", "elo-quick-v1", "--no-rebuild", "--registry",
                 str(reg), "--db", db]) == 0
    capsys.readouterr()
    assert main(["trace", "models", "--registry", str(reg), "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)["active"] == "elo-quick-v1"
    # another store served from the same registry keeps its own serving model
    other = f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["migrate", "--db", other]) == 0
    capsys.readouterr()
    assert main(["trace", "models", "--registry", str(reg), "--json", "--db", other]) == 0
    assert json.loads(capsys.readouterr().out)["active"] is None
    assert main(["trace", "activate", "nope-v9", "--no-rebuild", "--registry", str(reg),
                 "--db", db]) == 2
    assert "no tracer model 'nope-v9'" in capsys.readouterr().err
    assert main(["trace", "train", "--model", "bkt", "--train", str(train), "--registry",
                 str(reg), "--activate"]) == 2
    assert "--activate needs --db" in capsys.readouterr().err


def test_real_dataset_evaluates(datasets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI on a real file (a validation fold: small enough for the suite)."""
    d = datasets / "assist2015"
    assert main(["trace", "evaluate", "--model", "bkt", "--train", str(d / "assist2015_valid2.csv"),
                 "--test", str(d / "assist2015_valid1.csv"), "--json", "--param",
                 "n_iter=5"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_test"] > 90_000 and 0.6 < doc["auc"] < 0.8


@pytest.mark.parametrize("fmt", ["pid4", "csv"])
def test_cli_evaluate_other_formats(fmt: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    paths = []
    for name, n in (("train", 30), ("test", 8)):
        rows = []
        for u in range(n):
            items = rng.integers(0, 6, size=5)
            labels = (rng.random(5) < 0.6).astype(int)
            rows.append((f"{name}{u}", items, labels))
        if fmt == "pid4":
            text = "".join(f"{k},{lid}\n" + ",".join(f"q{i}" for i in it) + "\n"
                           + ",".join(f"s{i % 3}_s{(i + 1) % 3}" for i in it) + "\n"
                           + ",".join(map(str, lab)) + "\n"
                           for k, (lid, it, lab) in enumerate(rows))
        else:
            text = "learner_id,item_id,skill_ids,correct,timestamp\n" + "".join(
                f"{lid},q{i},s{i % 3};s{(i + 1) % 3},{c},{t}\n"
                for lid, it, lab in rows for t, (i, c) in enumerate(zip(it, lab, strict=True)))
        p = tmp_path / f"{name}.{fmt}"
        p.write_text(text)
        paths.append(p)
    assert main(["trace", "evaluate", "--model", "bkt", "--train", str(paths[0]), "--test",
                 str(paths[1]), "--format", fmt, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_test"] == 40 and doc["n_train"] == 150 and doc["format"] == fmt


def test_cli_evaluate_published_pid_folds(datasets: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Two of the published assist2017-pid folds as they are (multi-skill answers written
    as a row per skill): one trains, one tests; Elo with a single pass keeps it quick."""
    d = datasets / "assist2017-pid"
    assert main(["trace", "evaluate", "--model", "elo", "--train", str(d / "fold2.csv"),
                 str(d / "fold3.csv"), "--test", str(d / "fold1.csv"), "--param",
                 "n_epochs=1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_test"] == 204_107 and doc["n_test_learners"] == 341
    assert doc["n_train_learners"] == 682
    assert doc["merged_rows"] == 4  # 3 in fold1, 1 in fold3
    assert doc["auc"] > 0.6
