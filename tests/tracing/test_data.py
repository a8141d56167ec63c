"""Readers, vocabulary sharing and learner splits of ``tracing.data``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.models import Attempt, Item, ItemKind, Prerequisite, SkillWeight
from tracing.base import Interaction
from tracing.data import (
    DataFormatError,
    detect_format,
    from_store_attempts,
    kfold_learners,
    pad_sequences,
    read_log,
    read_logs,
    read_prerequisites,
    read_split,
    split_learners,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_dkt3_with_length_header_and_trailing_commas(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "3\n10,2,10,\n1,0,1,\n1\n2\n0\n")
    data = read_log(p)
    assert data.format == "dkt3"
    assert data.vocab.item_ids == ("2", "10")  # numeric ids sort as numbers
    assert data.vocab.skill_ids == ("2", "10")
    assert data.vocab.item_skills == ((0,), (1,))
    assert [(x.item, x.skills, x.correct) for x in data.sequences[0]] == [
        (1, (1,), 1), (0, (0,), 0), (1, (1,), 1)]
    assert [(x.item, x.correct) for x in data.sequences[1]] == [(0, 0)]
    assert data.learner_ids == ["1", "2"]


def test_dkt3_with_index_learner_header(tmp_path: Path) -> None:
    p = write(tmp_path, "a.txt", "0,alice\n5,6\n0,1\n1,bob\n6\n1\n")
    data = read_log(p, "dkt3")
    assert data.learner_ids == ["alice", "bob"]
    assert data.n_interactions == 3


def test_pid4_multi_skill_items(tmp_path: Path) -> None:
    p = write(tmp_path, "p.txt", "0,u1\n100,200\n1_2,3\n1,0\n1,u2\n200\n3\n1\n")
    data = read_log(p)
    assert data.format == "pid4"
    v = data.vocab
    assert v.item_ids == ("100", "200")
    assert v.skill_ids == ("1", "2", "3")
    assert v.item_skills == ((0, 1), (2,))
    assert data.sequences[0][0].skills == (0, 1)


def test_pid4_multi_skill_answer_rows_are_one_answer(tmp_path: Path) -> None:
    # AKT / pyKT write a problem on skills 7 and 9 as two rows with the same problem id and
    # label: one answer. A repeat of the same problem (skill already in the answer) or a
    # different label starts a new answer.
    p = write(tmp_path, "p.txt",
              "0,u1\n1366,1366,5,5,1366,1366,1366,1366,8,8\n7,9,3,3,7,9,9,7,7,9\n"
              "1,1,0,1,1,1,0,0,1,0\n")
    data = read_log(p)
    v = data.vocab
    seq = data.sequences[0]
    got = [(v.item_ids[x.item], tuple(v.skill_ids[s] for s in x.skills), x.correct)
           for x in seq]
    assert got == [("1366", ("7", "9"), 1), ("5", ("3",), 0), ("5", ("3",), 1),
                   ("1366", ("7", "9"), 1), ("1366", ("9", "7"), 0), ("8", ("7",), 1),
                   ("8", ("9",), 0)]
    assert data.merged_rows == 3
    assert [x.timestamp for x in seq] == [float(k) for k in range(7)]
    assert {v.skill_ids[s] for s in v.item_skills[v.item_ids.index("8")]} == {"7", "9"}


def test_pid4_item_tagged_differently_by_learners_keeps_each_answers_tags(
    tmp_path: Path,
) -> None:
    # assist2017-pid tags some problems with one skill for one learner and another for the
    # next: each answer keeps its own tags; the item's Q-matrix row is the union.
    p = write(tmp_path, "p.txt", "0,u1\n100\n1\n1\n1,u2\n100,200\n2,1\n0,1\n")
    data = read_log(p, "pid4")
    v = data.vocab
    assert v.item_skills[v.item_ids.index("100")] == (v.skill_ids.index("1"),
                                                      v.skill_ids.index("2"))
    assert [v.skill_ids[s] for s in data.sequences[1][0].skills] == ["2"]
    assert data.multi_tagged_items == 1


def test_test_file_keeps_the_train_q_matrix(tmp_path: Path) -> None:
    tr = write(tmp_path, "tr.txt", "0,u1\n100\n1\n1\n")
    te = write(tmp_path, "te.txt", "0,u2\n100\n2\n0\n")
    train, test = read_split(tr, te, "pid4")
    v = test.vocab
    assert v.item_skills[v.item_ids.index("100")] == (v.skill_ids.index("1"),)
    assert [v.skill_ids[s] for s in test.sequences[0][0].skills] == ["2"]


def test_published_assist2017_pid_folds_read_as_published(datasets: Path) -> None:
    fold1 = datasets / "assist2017-pid" / "fold1.csv"
    assert detect_format(fold1) == "pid4"
    data = read_log(fold1)
    assert len(data.learner_ids) == 341
    # 204,110 rows; three multi-skill answers written as two rows each
    assert data.n_interactions == 204_107 and data.merged_rows == 3
    assert data.multi_tagged_items > 500


def test_several_files_read_as_one(tmp_path: Path) -> None:
    a = write(tmp_path, "a.txt", "0,u1\n100\n1\n1\n")
    b = write(tmp_path, "b.txt", "0,u2\n200\n2\n0\n")
    data = read_logs([a, b], "pid4")
    assert data.learner_ids == ["u1", "u2"]
    assert data.vocab.item_ids == ("100", "200")
    with pytest.raises(DataFormatError, match="learner 'u1' is in both"):
        read_logs([a, a], "pid4")


def test_csv_multi_skill_rows_merged_and_bom_tolerated(tmp_path: Path) -> None:
    p = tmp_path / "log.csv"
    p.write_text("\ufefflearner_id,item_id,skill_ids,correct,timestamp\n"
                 "u1,q1,s1,1,10\nu1,q1,s2,1,10\nu1,q1,s1,1,20\n", encoding="utf-8")
    data = read_log(p)
    assert data.format == "csv"
    v = data.vocab
    assert [[v.skill_ids[s] for s in x.skills] for x in data.sequences[0]] == [
        ["s1", "s2"], ["s1"]]
    assert data.merged_rows == 1


def test_csv_sorted_by_time_and_scores_thresholded(tmp_path: Path) -> None:
    p = write(tmp_path, "log.csv",
              "learner_id,item_id,skill_ids,correct,timestamp\n"
              "u1,q2,s1;s2,0.7,2024-01-01T00:00:10Z\n"
              "u1,q1,s1,0,2024-01-01T00:00:00Z\n"
              "u2,q1,s1,1,5\n")
    data = read_log(p)
    assert data.format == "csv"
    assert data.learner_ids == ["u1", "u2"]
    v = data.vocab
    first, second = data.sequences[0]
    assert v.item_ids[first.item] == "q1" and first.correct == 0
    assert v.item_ids[second.item] == "q2" and second.correct == 1
    assert {v.skill_ids[s] for s in second.skills} == {"s1", "s2"}


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, "log.csv",
              "learner_id,item_id,skill_ids,correct,timestamp\nu1,q1,s1,1,0\nu1,q2,s1,yes,1\n")
    with pytest.raises(DataFormatError, match=r"log.csv:3: correct='yes'"):
        read_log(p)
    q = write(tmp_path, "bad.csv", "learner_id,item_id,correct\nu,q,1\n")
    with pytest.raises(DataFormatError, match=r"missing column\(s\) \['skill_ids', 'timestamp'\]"):
        read_log(q, "csv")


def test_dkt3_errors(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "2\n1,2\n1\n")
    with pytest.raises(DataFormatError, match="different lengths"):
        read_log(p, "dkt3")
    q = write(tmp_path, "b.csv", "2\n1,2\n1,2\n")
    with pytest.raises(DataFormatError, match=r"b.csv:3: label '2' is not 0 or 1"):
        read_log(q, "dkt3")
    r = write(tmp_path, "c.csv", "2\n1,2\n")
    with pytest.raises(DataFormatError, match="not a multiple of 3"):
        read_log(r, "dkt3")
    with pytest.raises(DataFormatError, match="no such file"):
        read_log(tmp_path / "missing.csv")


def test_dktsyn(tmp_path: Path) -> None:
    p = write(tmp_path, "syn.csv", "0,1,1\n1,1,0\n")
    data = read_log(p)
    assert data.format == "dktsyn"
    assert data.vocab.item_ids == ("1", "2", "3")
    assert [x.correct for x in data.sequences[1]] == [1, 1, 0]
    assert [x.item for x in data.sequences[1]] == [0, 1, 2]


def test_read_split_shares_vocab_and_appends_test_only_items(tmp_path: Path) -> None:
    tr = write(tmp_path, "tr.csv", "2\n3,1\n1,0\n")
    te = write(tmp_path, "te.csv", "2\n7,1\n1,1\n")
    train, test = read_split(tr, te)
    assert train.vocab == test.vocab
    assert test.vocab.item_ids == ("1", "3", "7")
    assert [x.item for x in test.sequences[0]] == [2, 0]
    assert [x.item for x in train.sequences[0]] == [1, 0]


def test_prerequisites_csv(tmp_path: Path) -> None:
    data = read_log(write(tmp_path, "a.csv", "3\n1,2,3\n1,0,1\n"))
    edges = write(tmp_path, "e.csv", "source,target\n1,2\n2,3\n9,1\n")
    vocab, dropped = read_prerequisites(edges, data.vocab)
    assert vocab.prerequisites == ((0, 1), (1, 2))
    assert dropped == 1


def test_real_files_detected(datasets: Path) -> None:
    assert detect_format(datasets / "assist2015" / "assist2015_valid1.csv") == "dkt3"
    assert detect_format(datasets / "synthetic-dkt" / "naive_c5_q50_s4000_v0.csv") == "dktsyn"


def test_from_store_attempts_orders_by_time_and_skips_ungraded() -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    items = [
        Item("i1", ItemKind.EXERCISE, "one", (SkillWeight("a"),)),
        Item("i2", ItemKind.EXERCISE, "two", (SkillWeight("a"), SkillWeight("b"))),
        Item("l1", ItemKind.LESSON, "lesson"),
    ]
    attempts = [
        Attempt("x2", "L", "i2", 1.0, t0 + timedelta(seconds=5)),
        Attempt("x1", "L", "i1", 0.0, t0),
        Attempt("x3", "L", "l1", 1.0, t0 + timedelta(seconds=9)),
        Attempt("x4", "M", "gone", 1.0, t0),
    ]
    data = from_store_attempts(attempts, items, [Prerequisite("a", "b")])
    assert data.learner_ids == ["L"]
    assert data.skipped == 2
    v = data.vocab
    assert v.item_ids == ("i1", "i2") and v.prerequisites == ((0, 1),)
    assert [(v.item_ids[x.item], x.correct) for x in data.sequences[0]] == [("i1", 0), ("i2", 1)]
    assert data.attempt_ids == [["x1", "x2"]]
    assert data.subset([0]).attempt_ids == [["x1", "x2"]]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 60), frac=st.floats(0.05, 0.95), seed=st.integers(0, 10_000))
def test_split_is_by_learner_and_seeded(n: int, frac: float, seed: int) -> None:
    from tracing.base import Vocabulary
    from tracing.data import TraceData

    seqs = [[Interaction(0, (0,), i % 2, 0.0)] for i in range(n)]
    data = TraceData(seqs, [f"u{i}" for i in range(n)], Vocabulary(("q",), ("s",), ((0,),)))
    train, test = split_learners(data, frac, seed=seed)
    assert set(train.learner_ids).isdisjoint(test.learner_ids)
    assert sorted(train.learner_ids + test.learner_ids) == sorted(data.learner_ids)
    assert split_learners(data, frac, seed=seed)[1].learner_ids == test.learner_ids
    if n >= 3:
        folds = kfold_learners(data, 3, seed=seed)
        val = [lid for _, v in folds for lid in v.learner_ids]
        assert sorted(val) == sorted(data.learner_ids)


def test_pad_sequences_shapes() -> None:
    seqs = [[Interaction(1, (0, 2), 1), Interaction(0, (1,), 0)], [Interaction(2, (2,), 1)]]
    b = pad_sequences(seqs)
    assert b.items.shape == (2, 2) and b.skills.shape == (2, 2, 2)
    assert b.mask.tolist() == [[True, True], [True, False]]
    assert b.skills[0, 1].tolist() == [1, -1]
    assert b.correct.tolist() == [[1, 0], [1, 0]]
