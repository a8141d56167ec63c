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


def small(**kw: object) -> GNNTracer:
    args: dict[str, object] = {
        "embed_dim": 8, "hidden_size": 16, "max_epochs": 3, "lr": 0.02, "batch_size": 16,
        "dropout": 0.0, "valid_fraction": 0.0, "min_count": 1,
    }
    args.update(kw)
    return GNNTracer(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pair() -> tuple[GNNTracer, GNNTracer]:
    torch.set_num_threads(1)
    seqs = learners(40, slip=0.25, guess=0.1, seed=6)
    return (small().fit(seqs, VOCAB, seed=0),
            small(mastery_readout="none").fit(seqs, VOCAB, seed=0))


def test_the_gnn_serves_its_readout_and_predicts_items_as_without_it(
    pair: tuple[GNNTracer, GNNTracer],
) -> None:
    with_ro, raw = pair
    assert with_ro.readout is not None and raw.readout is None
    probe = learners(3, slip=0.25, guess=0.1, seed=7)
    # item predictions (and so AUC) are the network's, untouched by the read-out
    for a, b in zip(with_ro.predict_sequences(probe), raw.predict_sequences(probe), strict=True):
        np.testing.assert_array_equal(a, b)
    s, t = with_ro.init_state(), raw.init_state()
    for x in probe[0]:
        s, t = with_ro.update(s, x), raw.update(t, x)
    np.testing.assert_allclose(with_ro.predict_state(s, [0, 1]), raw.predict_state(t, [0, 1]))
    np.testing.assert_allclose(with_ro.mastery(s), with_ro.readout.apply(raw.mastery(t)))
    np.testing.assert_allclose(with_ro.mastery_many([s, s])[1], with_ro.mastery(s), atol=1e-6)


def test_the_readout_is_saved_with_the_model(
    pair: tuple[GNNTracer, GNNTracer], tmp_path: Path
) -> None:
    with_ro, _ = pair
    path = tmp_path / "gnn.pt"
    with_ro.save(path)
    loaded = GNNTracer.load(path)
    assert loaded.readout == with_ro.readout
    s = loaded.init_state()
    s = loaded.update(s, Interaction(0, (0,), 1))
    t = with_ro.update(with_ro.init_state(), Interaction(0, (0,), 1))
    np.testing.assert_array_equal(loaded.mastery(s), with_ro.mastery(t))


async def test_the_serving_path_stores_the_readout_as_mastery(store: Any) -> None:
    """``MasteryService`` (what ``recordAttempt`` calls) writes the read-out's mastery."""
    skills = [Skill("add", "Addition"), Skill("mul", "Multiplication")]
    items = [Item("q1", ItemKind.EXERCISE, "1+1", (SkillWeight("add"),)),
             Item("q2", ItemKind.EXERCISE, "2*3", (SkillWeight("mul"),))]
    vocab = vocabulary_from_items(items)
    torch.set_num_threads(1)
    gnn = small().fit(learners(40, slip=0.25, guess=0.1, seed=8), vocab, seed=0)
    assert gnn.readout is not None
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
        raw = float(torch.sigmoid(gnn._require()[0].mastery_logits(s))[0])
    assert served["add"] == pytest.approx(float(gnn.readout.apply(np.array([raw, 0.5]))[0]))
    (stored,) = await store.mastery_of(["ann"])
    assert {m.skill_id: m.probability for m in stored}["add"] == pytest.approx(served["add"])
