"""DKT: shapes, determinism, online == offline, learning a trivial pattern, save/load, errors.

Also covers the shared recurrent-tracer machinery in ``tracing/gnn_recurrent.py`` (split by
learner, windows, padding, exclusive counts)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tracing.base import Interaction, Tracer, TracingError, Vocabulary
from tracing.dkt import DKTTracer
from tracing.gnn_batch import make_batch, roc_auc, split_by_learner, windows
from tracing.gnn_recurrent import read_model_file

# 3 skills; items 0-2 assess one skill each, item 3 assesses skills 0 and 2.
VOCAB = Vocabulary(
    item_ids=("a", "b", "c", "ac"),
    skill_ids=("s0", "s1", "s2"),
    item_skills=((0,), (1,), (2,), (0, 2)),
)


def ix(item: int, correct: int) -> Interaction:
    return Interaction(item, VOCAB.item_skills[item], correct)


def pattern_sequences(n: int, length: int, seed: int) -> list[list[Interaction]]:
    """Skill 0 is always answered right, skill 1 always wrong, skill 2 alternates
    wrong/right within a learner: learnable from the inputs alone."""
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n):
        seq, k2 = [], 0
        for item in rng.integers(0, 3, size=length):
            if item == 0:
                seq.append(ix(0, 1))
            elif item == 1:
                seq.append(ix(1, 0))
            else:
                seq.append(ix(2, k2 % 2))
                k2 += 1
        seqs.append(seq)
    return seqs


def small(**kw: object) -> DKTTracer:
    args: dict[str, object] = {
        "hidden_size": 16, "embed_dim": 8, "max_epochs": 40, "patience": 40, "lr": 0.02,
        "batch_size": 16, "dropout": 0.0, "valid_fraction": 0.0,
    }
    args.update(kw)
    return DKTTracer(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained() -> DKTTracer:
    return small().fit(pattern_sequences(48, 24, seed=1), VOCAB, seed=0)


def test_is_a_tracer(trained: DKTTracer) -> None:
    assert isinstance(trained, Tracer)
    assert trained.name == "dkt"


def test_shapes(trained: DKTTracer) -> None:
    seqs = [[ix(0, 1), ix(3, 0), ix(1, 0)], [], [ix(2, 1)]]
    out = trained.predict_sequences(seqs)
    assert [p.shape for p in out] == [(3,), (0,), (1,)]
    assert all(((p > 0) & (p < 1)).all() for p in out)
    state = trained.init_state()
    assert trained.predict_state(state, [0, 1, 2, 3]).shape == (4,)
    assert trained.mastery(state).shape == (3,)


def test_learns_trivial_pattern_well_above_chance(trained: DKTTracer) -> None:
    test = pattern_sequences(20, 24, seed=99)
    y = np.concatenate([[x.correct for x in s] for s in test])
    p = np.concatenate(trained.predict_sequences(test))
    assert roc_auc(y, p) > 0.95
    state = trained.init_state()
    for x in (ix(0, 1), ix(1, 0), ix(2, 0)):
        state = trained.update(state, x)
    m = trained.mastery(state)
    assert m[0] > 0.8 > 0.2 > m[1]


def test_alternating_skill_follows_the_last_answer(trained: DKTTracer) -> None:
    state = trained.init_state()
    for x in (ix(0, 1), ix(2, 0), ix(1, 0), ix(2, 1), ix(0, 1)):
        state = trained.update(state, x)
    after_right = state  # skill 2 answers so far: wrong, right -> next is wrong
    after_wrong = trained.update(state, ix(2, 0))
    p_next_right = trained.predict_state(after_wrong, [2])[0]
    p_next_wrong = trained.predict_state(after_right, [2])[0]
    assert p_next_right > 0.5 > p_next_wrong
    assert p_next_right - p_next_wrong > 0.3


def test_multi_skill_item_is_one_prediction_from_the_mean_logit(trained: DKTTracer) -> None:
    state = trained.update(trained.init_state(), ix(2, 1))
    m = trained.mastery(state)
    logit = np.log(m / (1 - m))
    expected = 1 / (1 + np.exp(-(logit[0] + logit[2]) / 2))
    assert trained.predict_state(state, [3])[0] == pytest.approx(expected, rel=1e-5)


def test_same_seed_same_model_other_seed_differs() -> None:
    seqs = pattern_sequences(16, 12, seed=3)
    probe = pattern_sequences(3, 12, seed=4)
    a = small(max_epochs=2).fit(seqs, VOCAB, seed=7).predict_sequences(probe)
    b = small(max_epochs=2).fit(seqs, VOCAB, seed=7).predict_sequences(probe)
    c = small(max_epochs=2).fit(seqs, VOCAB, seed=8).predict_sequences(probe)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.allclose(x, y) for x, y in zip(a, c, strict=True))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1)), min_size=1, max_size=30))
def test_online_update_equals_batched_prediction(
    trained: DKTTracer, answers: list[tuple[int, int]]
) -> None:
    seq = [ix(i, c) for i, c in answers]
    offline = trained.predict_sequences([seq])[0]
    state, online = trained.init_state(), []
    for x in seq:
        online.append(trained.predict_state(state, [x.item])[0])
        state = trained.update(state, x)
    np.testing.assert_allclose(online, offline, atol=1e-5)
    assert state.n_seen == len(seq)


def test_update_does_not_modify_the_state_it_is_given(trained: DKTTracer) -> None:
    s0 = trained.init_state()
    before = [t.clone() for t in s0.rnn]
    trained.update(s0, ix(0, 1))
    assert all(torch.equal(a, b) for a, b in zip(before, s0.rnn, strict=True))


def test_save_load_round_trip(trained: DKTTracer, tmp_path: Path) -> None:
    path = tmp_path / "models" / "dkt.pt"
    trained.save(path, {"data": "pattern"})
    loaded = DKTTracer.load(path)
    probe = pattern_sequences(4, 15, seed=5)
    for a, b in zip(trained.predict_sequences(probe), loaded.predict_sequences(probe),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.vocab == VOCAB
    assert loaded.hyperparameters() == trained.hyperparameters()
    meta, _ = read_model_file(path)
    assert meta["model"] == "dkt" and meta["metadata"] == {"data": "pattern"}
    assert [p.name for p in path.parent.iterdir()] == ["dkt.pt"]  # no temp file left


def test_load_rejects_foreign_and_corrupt_files(trained: DKTTracer, tmp_path: Path) -> None:
    from tracing.gnn import GNNTracer

    path = tmp_path / "dkt.pt"
    trained.save(path)
    with pytest.raises(TracingError, match="holds a 'dkt' model"):
        GNNTracer.load(path)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(TracingError, match="not a learngraph neural tracer"):
        DKTTracer.load(bad)
    with pytest.raises(TracingError, match="does not exist"):
        DKTTracer.load(tmp_path / "missing.pt")


def test_bad_input_gets_a_typed_error_naming_the_value(trained: DKTTracer) -> None:
    with pytest.raises(TracingError, match="item index 9"):
        trained.update(trained.init_state(), Interaction(9, (0,), 1))
    with pytest.raises(TracingError, match="skill index 5"):
        trained.predict_sequences([[Interaction(0, (5,), 1)]])
    with pytest.raises(TracingError, match="correct=2"):
        trained.update(trained.init_state(), Interaction(0, (0,), 2))
    with pytest.raises(TracingError, match="item index -1"):
        trained.predict_state(trained.init_state(), [-1])
    with pytest.raises(TracingError, match="not fitted"):
        DKTTracer().init_state()
    with pytest.raises(TracingError, match="cell='rnn'"):
        DKTTracer(cell="rnn")
    with pytest.raises(TracingError, match="no interactions"):
        DKTTracer().fit([[]], VOCAB)


def test_fit_rejects_items_without_skills() -> None:
    vocab = Vocabulary(("x", "y"), ("s",), ((0,), ()))
    with pytest.raises(TracingError, match="item 'y'.*has no skill"):
        small(max_epochs=1).fit([[Interaction(0, (), 1), Interaction(1, (), 0)]] * 2, vocab)


def test_training_reports_progress_and_stops_early() -> None:
    seen: list[tuple[str, float]] = []
    t = small(max_epochs=30, patience=1, lr=0.05, valid_fraction=0.1).fit(
        pattern_sequences(30, 10, seed=2), VOCAB, seed=0,
        progress=lambda m, f: seen.append((m, f)),
    )
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1
    assert t.fit_info["n_valid_learners"] == 3 and t.fit_info["n_train_learners"] == 27
    assert t.fit_info["epochs_run"] < 30  # early stopping fired
    aucs = [h["valid_auc"] for h in t.history]
    best = t.fit_info["best_epoch"]
    assert aucs[best - 1] >= max(aucs) - 1e-5  # the best epoch's weights were kept
    assert t.fit_info["best_valid_auc"] == aucs[best - 1]


@given(st.integers(0, 200), st.floats(0.0, 0.9), st.integers(0, 2**32 - 1))
def test_split_by_learner_is_a_seeded_partition(n: int, frac: float, seed: int) -> None:
    tr, va = split_by_learner(n, frac, np.random.default_rng(seed))
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(n))
    assert n == 0 or len(tr) >= 1
    tr2, va2 = split_by_learner(n, frac, np.random.default_rng(seed))
    assert np.array_equal(tr, tr2) and np.array_equal(va, va2)


@given(st.lists(st.integers(0, 25), max_size=8), st.integers(2, 7))
def test_windows_cut_in_order_without_loss(lengths: list[int], size: int) -> None:
    seqs = [[ix(0, k % 2) for k in range(n)] for n in lengths]
    pieces = windows(seqs, size)
    assert all(0 < len(p) <= size for p in pieces)
    assert sum(len(p) for p in pieces) == sum(lengths)


def test_padding_by_hand() -> None:
    seqs = [[ix(3, 1), ix(0, 0), ix(2, 1)], [ix(1, 1)]]
    b = make_batch(seqs, VOCAB)
    assert b.items.tolist() == [[3, 0, 2], [1, 0, 0]]
    assert b.skills.shape == (2, 3, 2)
    assert b.skill_mask[0].tolist() == [[1, 1], [1, 0], [1, 0]]
    assert b.mask.tolist() == [[True, True, True], [True, False, False]]
    assert b.correct.tolist() == [[1, 0, 1], [1, 0, 0]]
