"""Elo / 1PL IRT on tiny hand-made sequences."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracing.base import Interaction, TracingError, Vocabulary
from tracing.elo import EloTracer, k_factor

VOCAB = Vocabulary(("easy", "hard", "both", "new"), ("A", "B"), ((0,), (1,), (0, 1), (1,)))


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_k_factor_shrinks_with_evidence() -> None:
    assert k_factor(0, 1.0, 0.05) == pytest.approx(1.0)
    assert k_factor(20, 1.0, 0.05) == pytest.approx(0.5)


def test_one_update_by_hand() -> None:
    m = EloTracer(a_learner=1.0, b_learner=0.05, a_skill=0.8, b_skill=0.1).with_vocab(VOCAB)
    assert m.practice == 0.0  # untrained: no practice effect
    m.difficulty[:] = [-1.0, 1.0, 0.0, 1.0]
    s0 = m.init_state()
    p = sig(0.0 - (-1.0))
    assert m.predict_state(s0, [0])[0] == pytest.approx(p)
    s1 = m.update(s0, Interaction(0, (0,), 1))
    assert s1[0] == pytest.approx(1.0 * (1 - p))  # theta
    assert s1[1] == 1  # answers seen
    assert s1[2] == pytest.approx(0.8 * (1 - p))  # theta_A
    assert s1[3] == 0.0  # theta_B untouched
    # second answer: K shrinks with n
    p2 = sig(s1[0] + s1[2] + 1.0)
    s2 = m.update(s1, Interaction(0, (0,), 0))
    assert s2[0] == pytest.approx(s1[0] + (1 / 1.05) * (0 - p2))
    assert s2[2] == pytest.approx(s1[2] + (0.8 / 1.1) * (0 - p2))


def test_multi_skill_item_uses_mean_skill_ability_and_splits_update() -> None:
    m = EloTracer(a_skill=1.0).with_vocab(VOCAB)
    state = m.init_state()
    state[2:4] = [1.0, -1.0]
    assert m.predict_state(state, [2])[0] == pytest.approx(sig(0.0))
    s = m.update(state, Interaction(2, (0, 1), 1))
    assert s[2] - 1.0 == pytest.approx(0.5 * 0.5)  # K=1, error 0.5, split over 2 skills
    assert s[3] + 1.0 == pytest.approx(0.5 * 0.5)


def test_fit_orders_items_by_difficulty_and_cold_item_borrows_skill_mean() -> None:
    rng = np.random.default_rng(0)
    seqs = []
    for _ in range(300):
        seq = []
        for _ in range(10):
            item = int(rng.integers(0, 2))
            p = 0.9 if item == 0 else 0.3
            seq.append(Interaction(item, VOCAB.item_skills[item], int(rng.random() < p)))
        seqs.append(seq)
    seen: list[float] = []
    m = EloTracer().fit(seqs, VOCAB, progress=lambda _, f: seen.append(f))
    assert seen[-1] == 1.0
    assert m.difficulty[0] < m.difficulty[1]
    # item 3 ("new", skill B) was never answered: it borrows skill B's trained item (item 1)
    assert m.difficulty[3] == pytest.approx(m.difficulty[1])
    first = m.predict_state(m.init_state(), [0, 1])
    assert first[0] > 0.75 and first[1] < 0.5


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1)), max_size=10),
                min_size=1, max_size=5))
def test_batched_predictions_equal_online_updates(raw: list[list[tuple[int, int]]]) -> None:
    m = EloTracer().with_vocab(VOCAB)
    m.difficulty[:] = [-0.5, 0.7, 0.1, 1.2]
    m.practice = 0.3
    seqs = [[Interaction(i, VOCAB.item_skills[i], c) for i, c in r] for r in raw]
    for seq, pred in zip(seqs, m.predict_sequences(seqs), strict=True):
        state = m.init_state()
        online = []
        for x in seq:
            online.append(m.predict_state(state, [x.item])[0])
            state = m.update(state, x)
        assert pred == pytest.approx(np.array(online))
    assert m.difficulty.tolist() == [-0.5, 0.7, 0.1, 1.2]  # evaluation leaves items frozen


def test_mastery_and_save_load(tmp_path: Path) -> None:
    m = EloTracer().with_vocab(VOCAB)
    m.difficulty[:] = [-1.0, 1.0, 0.0, 1.0]
    m._derive()
    state = m.update(m.init_state(), Interaction(1, (1,), 1))
    mast = m.mastery(state)
    assert mast.shape == (2,)
    assert mast[1] > sig(-1.0)  # skill B's mean difficulty is (1+0+1)/3
    m.save(tmp_path / "elo.json", {"seed": 1})
    back = EloTracer.load(tmp_path / "elo.json")
    assert back.mastery(state) == pytest.approx(mast)
    with pytest.raises(TracingError, match="not 'elo'"):
        from tracing.bkt import BKTTracer

        BKTTracer().with_vocab(VOCAB).save(tmp_path / "b.json")
        EloTracer.load(tmp_path / "b.json")


def test_practice_effect_is_fitted_when_learners_improve() -> None:
    """Every learner starts at 20% correct and gains with practice on the one skill: the
    fitted practice effect is positive and late answers are predicted higher than first ones."""
    rng = np.random.default_rng(3)
    vocab = Vocabulary(("q",), ("A",), ((0,),))
    seqs = [[Interaction(0, (0,), int(rng.random() < min(0.95, 0.2 + 0.08 * t)))
             for t in range(15)] for _ in range(400)]
    # uncalibrated: the comparison is of the Elo dynamics themselves
    m = EloTracer(n_epochs=4, calibration=None).fit(seqs, vocab)
    assert m.practice > 0.1
    flat = EloTracer(n_epochs=4, learning=False, calibration=None).fit(seqs, vocab)
    assert flat.practice == 0.0
    y = np.array([x.correct for s in seqs for x in s], dtype=float)
    err_learn = np.abs(np.concatenate(m.predict_sequences(seqs)) - y).mean()
    err_flat = np.abs(np.concatenate(flat.predict_sequences(seqs)) - y).mean()
    assert err_learn < err_flat
