"""The mastery read-out of the neural tracers: BKT's observation model inverted per skill,
fitted on hand-built answers; the GNN serves it, saves it, and its item predictions are the
same with or without it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.models import Attempt, Item, ItemKind, Learner, Skill, SkillWeight
from tracing.base import Interaction, TracingError, Vocabulary
from tracing.data import vocabulary_from_items
from tracing.gnn import GNNTracer
from tracing.mastery_readout import (
    DEFAULT_GUESS,
    DEFAULT_SLIP,
    MasteryReadout,
    fit_readout,
    readout,
    skill_answer_counts,
)
from tracing.serving import MasteryService

# skill 0 is practised; skill 1 never appears in training
VOCAB = Vocabulary(("a", "b"), ("s0", "s1"), ((0,), (1,)))


def learners(n: int, *, slip: float, guess: float, seed: int) -> list[list[Interaction]]:
    """Learners of skill 0 who lack it for 4-8 answers (right with ``guess``), then have it
    (right with ``1 - slip``) for 20 more."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        before = int(rng.integers(4, 9))
        rates = [guess] * before + [1.0 - slip] * 20
        out.append([Interaction(0, (0,), int(rng.random() < r)) for r in rates])
    return out


def test_readout_by_hand() -> None:
    g, s = np.array([0.2, 0.1]), np.array([0.1, 0.25])
    np.testing.assert_allclose(readout(np.array([0.2, 0.1]), g, s), [0.0, 0.0])
    np.testing.assert_allclose(readout(np.array([0.9, 0.75]), g, s), [1.0, 1.0])
    # halfway between guess and 1 - slip is P(mastered) 0.5; below the guess clips at 0
    np.testing.assert_allclose(readout(np.array([0.55, 0.05]), g, s), [0.5, 0.0])
    # a batch of states keeps its shape
    assert readout(np.full((3, 2), 0.5), g, s).shape == (3, 2)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=2, max_size=2),
    st.floats(0.0, 0.45),
    st.floats(0.0, 0.45),
)
def test_readout_is_monotone_and_bounded(p: list[float], g: float, s: float) -> None:
    lo, hi = sorted(p)
    out = readout(np.array([lo, hi]), np.array([g, g]), np.array([s, s]))
    assert 0.0 <= out[0] <= out[1] <= 1.0


def test_a_skill_whose_right_rate_tops_out_at_075_can_be_mastered() -> None:
    seqs = learners(200, slip=0.25, guess=0.1, seed=3)
    ro = fit_readout(seqs, VOCAB)
    assert ro.slip[0] == pytest.approx(0.25, abs=0.05)
    assert ro.guess[0] == pytest.approx(0.1, abs=0.05)
    # a tracer predicting 0.75 (all such a learner shows) reads as mastered at the
    # recommender's 0.8; served raw it would never reach it
    p = np.array([0.75, 0.5])
    assert ro.apply(p)[0] >= 0.8 > p[0]
    # the guess rate is no mastery
    assert ro.apply(np.array([0.12, 0.5]))[0] < 0.1


def test_a_skill_never_seen_in_training_falls_back_to_the_defaults() -> None:
    seqs = learners(50, slip=0.25, guess=0.1, seed=4)
    ro = fit_readout(seqs, VOCAB)
    assert ro.answers == (int(skill_answer_counts(seqs, VOCAB)[0]), 0)
    assert (ro.guess[1], ro.slip[1]) == (DEFAULT_GUESS, DEFAULT_SLIP)


def test_few_answers_are_pulled_toward_the_defaults() -> None:
    few_seqs = [seq[-6:] for seq in learners(2, slip=0.3, guess=0.1, seed=5)]
    few = fit_readout(few_seqs, VOCAB)
    free = fit_readout(few_seqs, VOCAB, prior_answers=0.0)
    assert few.answers[0] == 12
    # 12 answers against a pseudo-count of 20 answers at the defaults
    w = 12 / 32
    assert few.slip[0] == pytest.approx(w * free.slip[0] + (1 - w) * DEFAULT_SLIP)
    assert few.guess[0] == pytest.approx(w * free.guess[0] + (1 - w) * DEFAULT_GUESS)
    assert free.slip[0] != pytest.approx(DEFAULT_SLIP)  # the data did move the fit


def test_bad_readouts_are_typed_errors() -> None:
    with pytest.raises(TracingError, match="one of each per skill"):
        MasteryReadout((0.2,), (0.1, 0.1), (3,))
    with pytest.raises(TracingError, match="2 skills"):
        MasteryReadout((0.2, 0.2), (0.1, 0.1), (3, 0)).apply(np.zeros(3))
    with pytest.raises(TracingError, match="malformed"):
        MasteryReadout.from_dict({"guess": [0.2]})
    with pytest.raises(TracingError, match="prior_answers"):
        fit_readout([], VOCAB, prior_answers=-1.0)
    with pytest.raises(TracingError, match="mastery_readout"):
        GNNTracer(mastery_readout="platt")
    with pytest.raises(TracingError, match="fallback has 1 priors"):
        MasteryReadout((0.2, 0.2), (0.1, 0.1), (3, 0), (0.4,), (0.1,))
    with pytest.raises(TracingError, match="no fallback"):
        MasteryReadout((0.2,), (0.1,), (3,)).fallback_tracer(VOCAB)


def small(**kw: object) -> GNNTracer:
    args: dict[str, object] = {
        "embed_dim": 8, "hidden_size": 16, "max_epochs": 3, "lr": 0.02, "batch_size": 16,
        "dropout": 0.0, "valid_fraction": 0.0, "min_count": 1,
    }
    args.update(kw)
    return GNNTracer(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trio() -> tuple[GNNTracer, GNNTracer, GNNTracer]:
    """The same network with the default read-out (and fallback), the plain read-out, none."""
    torch.set_num_threads(1)
    seqs = learners(40, slip=0.25, guess=0.1, seed=6)
    return (small().fit(seqs, VOCAB, seed=0),
            small(mastery_readout="bkt").fit(seqs, VOCAB, seed=0),
            small(mastery_readout="none").fit(seqs, VOCAB, seed=0))


def test_the_gnn_serves_its_readout_and_predicts_items_as_without_it(
    trio: tuple[GNNTracer, GNNTracer, GNNTracer],
) -> None:
    full, plain, raw = trio
    assert full.readout is not None and full.fallback is not None
    assert plain.readout is not None and plain.fallback is None and raw.readout is None
    probe = learners(3, slip=0.25, guess=0.1, seed=7)
    # item predictions (and so AUC) are the network's, untouched by the read-out
    for a, b, c in zip(full.predict_sequences(probe), plain.predict_sequences(probe),
                       raw.predict_sequences(probe), strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)
    s, u, t = full.init_state(), plain.init_state(), raw.init_state()
    for x in probe[0]:
        s, u, t = full.update(s, x), plain.update(u, x), raw.update(t, x)
    np.testing.assert_allclose(full.predict_state(s, [0, 1]), raw.predict_state(t, [0, 1]))
    np.testing.assert_allclose(plain.mastery(u), plain.readout.apply(raw.mastery(t)))
    # the fallback: the read-out and the BKT state's P(L), weighted by training answers
    w = full.readout.trust()
    assert w[1] == 0.0 and w[0] == pytest.approx(full.readout.answers[0]
                                                 / (full.readout.answers[0] + 20))
    np.testing.assert_allclose(
        full.mastery(s), w * plain.mastery(u) + (1 - w) * s.aux[-1])
    np.testing.assert_allclose(full.mastery_many([s, s])[1], full.mastery(s), atol=1e-6)


def test_a_skill_the_network_never_saw_is_served_by_the_fallback(
    trio: tuple[GNNTracer, GNNTracer, GNNTracer],
) -> None:
    full, plain, _ = trio
    assert full.fallback is not None
    bkt = full.fallback
    s, u, b = full.init_state(), plain.init_state(), bkt.init_state()
    for _ in range(2):  # two right answers on skill 1, which training never showed
        x = Interaction(1, (1,), 1)
        s, u, b = full.update(s, x), plain.update(u, x), bkt.update(b, x)
    assert full.mastery(s)[1] == pytest.approx(b[1])
    # BKT's defaults (prior 0.4, guess 0.2, slip 0.1, learn 0.1): 0.775 then 0.9455
    assert full.mastery(s)[1] == pytest.approx(0.9455, abs=1e-4)
    assert full.mastery(s)[1] >= 0.8


def test_replay_and_update_agree_with_the_fallback(
    trio: tuple[GNNTracer, GNNTracer, GNNTracer],
) -> None:
    full, _, _ = trio
    histories = [learners(1, slip=0.25, guess=0.1, seed=k)[0][:n] for k, n in ((9, 7), (10, 0))]
    replayed = full.replay(histories)
    for h, state in zip(histories, replayed, strict=True):
        s = full.init_state()
        for x in h:
            s = full.update(s, x)
        np.testing.assert_allclose(state.aux[-1], s.aux[-1])
        np.testing.assert_allclose(full.mastery(state), full.mastery(s), atol=1e-5)
    np.testing.assert_allclose(full.mastery_many(replayed)[0], full.mastery(replayed[0]),
                               atol=1e-6)


def test_the_readout_is_saved_with_the_model(
    trio: tuple[GNNTracer, GNNTracer, GNNTracer], tmp_path: Path
) -> None:
    full, _, _ = trio
    path = tmp_path / "gnn.pt"
    full.save(path)
    loaded = GNNTracer.load(path)
    assert loaded.readout == full.readout and loaded.fallback is not None
    s = loaded.update(loaded.init_state(), Interaction(1, (1,), 1))
    t = full.update(full.init_state(), Interaction(1, (1,), 1))
    np.testing.assert_array_equal(loaded.mastery(s), full.mastery(t))


async def test_the_serving_path_stores_the_readout_as_mastery(store: Any) -> None:
    """``MasteryService`` (what ``recordAttempt`` calls) writes the read-out's mastery."""
    skills = [Skill("add", "Addition"), Skill("mul", "Multiplication")]
    items = [Item("q1", ItemKind.EXERCISE, "1+1", (SkillWeight("add"),)),
             Item("q2", ItemKind.EXERCISE, "2*3", (SkillWeight("mul"),))]
    vocab = vocabulary_from_items(items)
    torch.set_num_threads(1)
    gnn = small().fit(learners(40, slip=0.25, guess=0.1, seed=8), vocab, seed=0)
    assert gnn.readout is not None and gnn.readout.answers[1] == 0
    await store.upsert_skills(skills, actor="designer-1")
    await store.upsert_items(items, actor="designer-1")
    await store.upsert_learners([Learner("ann", "ann")])
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    answers = [Attempt(f"a{k}", "ann", "q1", 1.0, t0 + timedelta(minutes=k)) for k in range(4)]
    await store.record_attempts(answers)
    out = await MasteryService(gnn, "gnn-readout").apply(store, answers)
    s = gnn.init_state()
    for _ in answers:
        s = gnn.update(s, Interaction(0, (0,), 1))
    served = {m.skill_id: m.probability for m in out["ann"]}
    assert served["add"] == pytest.approx(float(gnn.mastery(s)[0]))
    with torch.inference_mode():
        raw = torch.sigmoid(gnn._require()[0].mastery_logits(s)).double().numpy()
    assert served["add"] == pytest.approx(float(gnn.readout.apply(raw, s.aux[-1])[0]))
    (stored,) = await store.mastery_of(["ann"])
    assert {m.skill_id: m.probability for m in stored}["add"] == pytest.approx(served["add"])
    # a later batch continues from the stored state, fallback included: "mul", never in
    # training, is served BKT's P(L) after two right answers
    later = [Attempt(f"b{k}", "ann", "q2", 1.0, t0 + timedelta(minutes=10 + k)) for k in range(2)]
    await store.record_attempts(later)
    out = await MasteryService(gnn, "gnn-readout").apply(store, later)
    for _ in later:
        s = gnn.update(s, Interaction(1, (1,), 1))
    served = {m.skill_id: m.probability for m in out["ann"]}
    assert served["mul"] == pytest.approx(float(gnn.mastery(s)[1]))
    assert served["mul"] == pytest.approx(0.9455, abs=1e-4)
    (stored,) = await store.mastery_of(["ann"])
    assert {m.skill_id: m.probability for m in stored}["mul"] == pytest.approx(served["mul"])
