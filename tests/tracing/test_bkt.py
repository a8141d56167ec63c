"""BKT: closed-form posteriors, EM parameter recovery, online/offline agreement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracing.base import Interaction, TracingError, Vocabulary
from tracing.bkt import BKTTracer, simulate

VOCAB = Vocabulary(("a", "b", "ab"), ("A", "B"), ((0,), (1,), (0, 1)))


def model(**kw: float) -> BKTTracer:
    m = BKTTracer().with_vocab(VOCAB)
    for name, value in kw.items():
        m.params[name][:] = value
    return m


def test_posterior_after_one_correct_answer_is_closed_form() -> None:
    m = model(prior=0.3, learn=0.2, guess=0.25, slip=0.1)
    s = m.update(m.init_state(), Interaction(0, (0,), 1))
    post = 0.3 * 0.9 / (0.3 * 0.9 + 0.7 * 0.25)
    assert s[0] == pytest.approx(post + (1 - post) * 0.2)
    assert s[1] == pytest.approx(0.3)  # skill B untouched


def test_posterior_after_one_wrong_answer_with_forgetting() -> None:
    m = model(prior=0.6, learn=0.1, guess=0.2, slip=0.15, forget=0.05)
    s = m.update(m.init_state(), Interaction(1, (1,), 0))
    post = 0.6 * 0.15 / (0.6 * 0.15 + 0.4 * 0.8)
    assert s[1] == pytest.approx(post * 0.95 + (1 - post) * 0.1)


def test_predict_state_and_multi_skill_combination() -> None:
    m = model(prior=0.5, guess=0.2, slip=0.1)
    state = np.array([0.9, 0.2])
    pa, pb = 0.9 * 0.9 + 0.1 * 0.2, 0.2 * 0.9 + 0.8 * 0.2
    assert m.predict_state(state, [0, 1, 2]) == pytest.approx([pa, pb, min(pa, pb)])
    m.combine = "product"
    assert m.predict_state(state, [2])[0] == pytest.approx(pa * pb)
    m.combine = "mean"
    assert m.predict_state(state, [2])[0] == pytest.approx((pa + pb) / 2)


def test_multi_skill_answer_updates_every_skill_and_is_one_prediction() -> None:
    m = model(prior=0.4, learn=0.1, guess=0.2, slip=0.1)
    seq = [Interaction(2, (0, 1), 1), Interaction(0, (0,), 1)]
    preds = m.predict_sequences([seq])
    assert preds[0].shape == (2,)
    s = m.update(m.init_state(), seq[0])
    assert s[0] == pytest.approx(s[1]) and s[0] > 0.4
    assert preds[0][1] == pytest.approx(m.predict_state(s, [0])[0])


def test_em_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(7)
    true = {"prior": np.array([0.3, 0.6]), "learn": np.array([0.15, 0.05]),
            "forget": np.zeros(2), "guess": np.array([0.2, 0.25]), "slip": np.array([0.1, 0.15])}
    skills = rng.integers(0, 2, size=(3000, 30))
    correct, _ = simulate(true, skills, rng)
    seqs = [[Interaction(int(s), (int(s),), int(c)) for s, c in zip(srow, crow, strict=True)]
            for srow, crow in zip(skills, correct, strict=True)]
    vocab = Vocabulary(("a", "b"), ("A", "B"), ((0,), (1,)))
    seen: list[float] = []
    m = BKTTracer(n_iter=100, tol=1e-7).fit(seqs, vocab, progress=lambda _, f: seen.append(f))
    for name in ("prior", "learn", "guess", "slip"):
        assert m.params[name] == pytest.approx(true[name], abs=0.03), name
    assert seen and seen == sorted(seen)
    ll = m.log_likelihood
    assert all(b >= a - 1e-6 * abs(a) for a, b in zip(ll, ll[1:], strict=False))  # EM ascends


def test_skill_without_data_keeps_population_defaults() -> None:
    seqs = [[Interaction(0, (0,), 1), Interaction(0, (0,), 0)]] * 20
    m = BKTTracer(prior=0.35).fit(seqs, VOCAB)
    assert m.params["prior"][1] == pytest.approx(0.35)
    assert m.params["prior"][0] != pytest.approx(0.35)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1)), max_size=12),
                min_size=1, max_size=5))
def test_batched_predictions_equal_online_updates(raw: list[list[tuple[int, int]]]) -> None:
    """predict_sequences (vectorised) and init_state/update/predict_state (online) agree, so
    the online path needs nothing but the state: no history is replayed."""
    m = model(prior=0.3, learn=0.15, guess=0.2, slip=0.1, forget=0.02)
    seqs = [[Interaction(i, VOCAB.item_skills[i], c) for i, c in r] for r in raw]
    batched = m.predict_sequences(seqs)
    for seq, pred in zip(seqs, batched, strict=True):
        state = m.init_state()
        online = []
        for x in seq:
            online.append(m.predict_state(state, [x.item])[0])
            state = m.update(state, x)
            assert state.shape == (VOCAB.n_skills,)
        assert pred == pytest.approx(np.array(online))


def test_save_load_round_trip(tmp_path: Path) -> None:
    m = model(prior=0.31, learn=0.07, guess=0.22, slip=0.12)
    m.save(tmp_path / "m.json", {"seed": 3})
    back = BKTTracer.load(tmp_path / "m.json")
    assert back.vocab == VOCAB
    for k in m.params:
        assert back.params[k] == pytest.approx(m.params[k])
    assert back.predict_state(back.init_state(), [2]) == pytest.approx(
        m.predict_state(m.init_state(), [2]))


def test_errors() -> None:
    with pytest.raises(TracingError, match="combine='max'"):
        BKTTracer(combine="max")  # type: ignore[arg-type]
    with pytest.raises(TracingError, match="call fit"):
        BKTTracer().init_state()
    with pytest.raises(TracingError, match="prior=1.5"):
        BKTTracer(prior=1.5)


def test_item_without_skills_gets_the_population_prediction() -> None:
    vocab = Vocabulary(("a", "none"), ("A",), ((0,), ()))
    m = BKTTracer(prior=0.4, guess=0.2, slip=0.1).with_vocab(vocab)
    expected = 0.4 * 0.9 + 0.6 * 0.2
    assert m.predict_state(m.init_state(), [1])[0] == pytest.approx(expected)
    preds = m.predict_sequences([[Interaction(1, (), 1), Interaction(0, (0,), 1)]])
    assert preds[0][0] == pytest.approx(expected)
    assert preds[0][1] == pytest.approx(expected)  # the skill-less answer taught nothing


def test_em_recovers_forgetting() -> None:
    rng = np.random.default_rng(11)
    true = {"prior": np.array([0.4]), "learn": np.array([0.2]), "forget": np.array([0.08]),
            "guess": np.array([0.15]), "slip": np.array([0.1])}
    skills = np.zeros((4000, 25), dtype=np.int64)
    correct, _ = simulate(true, skills, rng)
    seqs = [[Interaction(0, (0,), int(c)) for c in row] for row in correct]
    vocab = Vocabulary(("a",), ("A",), ((0,),))
    with_f = BKTTracer(forget=True, n_iter=200, tol=1e-8).fit(seqs, vocab)
    for name in ("prior", "learn", "forget", "guess", "slip"):
        assert with_f.params[name][0] == pytest.approx(true[name][0], abs=0.03), name
    without = BKTTracer(n_iter=200, tol=1e-8).fit(seqs, vocab)
    assert without.params["forget"][0] == 0.0
    assert with_f.log_likelihood[-1] > without.log_likelihood[-1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1)), max_size=30),
    st.lists(st.floats(0.01, 0.6), min_size=5, max_size=5),
)
def test_trajectory_is_exactly_the_online_updates(
    raw: list[tuple[int, int]], params: list[float]
) -> None:
    """The whole-history replay the timelines use gives bit-for-bit the mastery that
    init_state/update/mastery give after each answer (per-skill parameters differing)."""
    m = model()
    for k, name in enumerate(("prior", "learn", "forget", "guess", "slip")):
        m.params[name][:] = [params[k], params[(k + 1) % 5]]
    seq = [Interaction(i, VOCAB.item_skills[i], c) for i, c in raw]
    state = m.init_state()
    online = []
    for x in seq:
        state = m.update(state, x)
        online.append(m.mastery(state))
    got = m.trajectory(seq)
    assert got.shape == (len(seq), VOCAB.n_skills)
    assert np.array_equal(got, np.array(online).reshape(-1, VOCAB.n_skills))
