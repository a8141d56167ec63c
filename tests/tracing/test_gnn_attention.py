"""The GNN's question-level layers (``tracing.gnn_attention``): the recent-answer attention
by hand on a tiny batch, its online form, the item (IRT) terms, and the GNN with both on:
online == offline, batched replay == the update loop, save/load."""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tracing.base import Interaction, TracingError, Vocabulary
from tracing.gnn import QUESTION_LEVEL_SCHEDULE, SKILL_LEVEL_SCHEDULE, GNNTracer
from tracing.gnn_attention import (
    ItemTerms,
    items_are_skills,
    push_recent,
    recent_attention,
    recent_attention_online,
    recent_from_history,
    resolve_irt,
)

from .test_gnn import VOCAB, ix, pattern_sequences, small


def test_recent_attention_by_hand() -> None:
    # one learner, three answers, D = 1; queries, keys, values chosen so the maths is short
    q = torch.tensor([[[1.0], [1.0], [2.0]]])
    k = torch.tensor([[[1.0], [0.0], [0.0]]])
    v = torch.tensor([[[10.0], [20.0], [30.0]]])
    mask = torch.tensor([[True, True, True]])
    out = recent_attention(q, k, v, mask, window=2, decay=torch.tensor(0.5))
    assert out[0, 0, 0] == 0.0  # nothing before the first answer
    assert out[0, 1, 0] == pytest.approx(10.0)  # only answer 0 before answer 1
    # answer 2 sees answer 1 (score 2*0 - 0.5*1) and answer 0 (score 2*1 - 0.5*2)
    s1, s0 = -0.5, 2.0 - 1.0
    w0 = math.exp(s0) / (math.exp(s0) + math.exp(s1))
    assert out[0, 2, 0].item() == pytest.approx(w0 * 10.0 + (1 - w0) * 20.0, rel=1e-6)
    # a window of one answer: only the previous answer
    one = recent_attention(q, k, v, mask, window=1, decay=torch.tensor(0.5))
    assert one[0, 2, 0].item() == pytest.approx(20.0)
    # a padded (unreal) earlier answer is never attended to
    masked = recent_attention(q, k, v, torch.tensor([[False, True, True]]), 2,
                              torch.tensor(0.5))
    assert masked[0, 1, 0] == 0.0 and masked[0, 2, 0].item() == pytest.approx(20.0)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 9), st.integers(1, 4), st.integers(0, 1000))
def test_online_attention_equals_the_batched_one(t: int, window: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(1, t, 3, generator=g) for _ in range(3))
    decay = torch.tensor(0.3)
    batched = recent_attention(q, k, v, torch.ones(1, t, dtype=torch.bool), window, decay)
    for pos in range(t):
        back = list(range(pos - 1, max(pos - window, 0) - 1, -1))  # most recent first
        keys = k[0, back] if back else torch.zeros(0, 3)
        vals = v[0, back] if back else torch.zeros(0, 3)
        got = recent_attention_online(q[0, pos : pos + 1], keys, vals, len(back), decay)
        torch.testing.assert_close(got[0], batched[0, pos], atol=1e-5, rtol=1e-5)


def test_recent_buffers_keep_the_last_answers_most_recent_first() -> None:
    it, co = recent_from_history(np.zeros(0, np.int64), np.zeros(0, np.float32), 3)
    assert it.tolist() == [-1, -1, -1]
    for item, label in [(4, 1), (2, 0), (7, 1), (5, 0)]:
        it, co = push_recent(it, co, item, label)
    assert it.tolist() == [5, 7, 2] and co.tolist() == [0.0, 1.0, 0.0]
    again = recent_from_history(np.array([4, 2, 7, 5]), np.array([1, 0, 1, 0], np.float32), 3)
    assert again[0].tolist() == it.tolist() and again[1].tolist() == co.tolist()


def test_item_terms_shift_and_scale_and_leave_cold_items_alone() -> None:
    terms = ItemTerms(3, "2pl")
    with torch.no_grad():
        terms.alpha.copy_(torch.tensor([math.log(2.0), 0.0, 5.0]))
        terms.beta.copy_(torch.tensor([1.0, -1.0, 5.0]))
    alpha, beta = terms.terms(torch.tensor([[1.0], [1.0], [0.0]]))  # item 2 never seen
    out = terms.shift_scale(torch.tensor([0.5, 0.5, 0.5]), alpha, beta)
    torch.testing.assert_close(out, torch.tensor([2 * 0.5 - 1.0, 0.5 + 1.0, 0.5]))
    rasch = ItemTerms(3, "1pl")
    with torch.no_grad():
        rasch.alpha.fill_(3.0)
    a1, _ = rasch.terms(torch.ones(3, 1))
    assert a1.abs().sum() == 0.0  # 1PL: no discrimination
    assert terms.penalty().item() == pytest.approx(math.log(2.0) ** 2 + 2 * 25 + 2)


@pytest.fixture(scope="module")
def question_level() -> GNNTracer:
    return small(attention_window=3, irt="2pl", max_epochs=8).fit(
        pattern_sequences(30, 12, seed=1), VOCAB, seed=0)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1)), min_size=1, max_size=12))
def test_attention_gnn_online_equals_offline(question_level: GNNTracer,
                                             answers: list[tuple[int, int]]) -> None:
    seq = [ix(i, c) for i, c in answers]
    offline = question_level.predict_sequences([seq])[0]
    state, online = question_level.init_state(), []
    for x in seq:
        online.append(question_level.predict_state(state, [x.item])[0])
        state = question_level.update(state, x)
    np.testing.assert_allclose(online, offline, atol=1e-5)
    replayed = question_level.replay([seq])[0]
    for a, b in zip(replayed.aux, state.aux, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(question_level.mastery_many([state])[0],
                               question_level.mastery(state), atol=1e-6)


def test_attention_gnn_learns_and_round_trips(question_level: GNNTracer,
                                              tmp_path: Path) -> None:
    assert question_level.net is not None
    probe = pattern_sequences(20, 12, seed=7)
    y = np.concatenate([[x.correct for x in s] for s in probe])
    p = np.concatenate(question_level.predict_sequences(probe))
    from tracing.gnn_batch import roc_auc

    assert roc_auc(y, p) > 0.8  # skill-0 items right, skill-1 items wrong
    assert question_level.mastery(question_level.init_state()).shape == (2,)
    question_level.save(tmp_path / "gnn.pt")
    back = GNNTracer.load(tmp_path / "gnn.pt")
    for a, b in zip(back.predict_sequences(probe), question_level.predict_sequences(probe),
                    strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_question_level_settings_are_typed_errors() -> None:
    with pytest.raises(TracingError, match="attention_window=-1"):
        GNNTracer(attention_window=-1)
    with pytest.raises(TracingError, match="irt='3pl'"):
        GNNTracer(irt="3pl")
    with pytest.raises(TracingError, match="lr_decay=0"):
        GNNTracer(lr_decay=0)


def test_blocked_attention_equals_one_block() -> None:
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(2, 23, 4, generator=g) for _ in range(3))
    mask = torch.ones(2, 23, dtype=torch.bool)
    mask[1, 17:] = False
    whole = recent_attention(q, k, v, mask, 5, torch.tensor(0.2), block=64)
    blocks = recent_attention(q, k, v, mask, 5, torch.tensor(0.2), block=4)
    torch.testing.assert_close(blocks, whole)


SKILL_LEVEL = Vocabulary(("q0", "q1", "q2"), ("s0", "s1", "s2"), ((0,), (1,), (2,)))
SHARED_SKILL = Vocabulary(("q0", "q1", "q2"), ("s0", "s1"), ((0,), (0,), (1,)))


def test_auto_item_terms_only_where_items_are_not_their_own_skills() -> None:
    assert items_are_skills(SKILL_LEVEL)
    assert not items_are_skills(VOCAB)  # item "ab" has two skills
    assert not items_are_skills(SHARED_SKILL)  # q0 and q1 share s0
    # an item without a skill is not skill-level either
    assert not items_are_skills(Vocabulary(("q0", "q1"), ("s0",), ((0,), ())))
    assert resolve_irt("auto", SKILL_LEVEL) == "none"
    assert resolve_irt("auto", VOCAB) == "2pl"
    assert resolve_irt("auto", SHARED_SKILL) == "2pl"
    for kind in ("none", "1pl", "2pl"):  # an explicit kind is kept on any data
        assert resolve_irt(kind, SKILL_LEVEL) == kind
        assert resolve_irt(kind, VOCAB) == kind


def test_the_default_gnn_resolves_its_item_terms_and_keeps_them_on_load(
        tmp_path: Path) -> None:
    assert GNNTracer().irt == "auto"
    question = small(max_epochs=2).fit(pattern_sequences(8, 6, seed=2), VOCAB, seed=0)
    assert question.net is not None and question.net.item_terms is not None
    assert question.net.item_terms.kind == "2pl"
    seqs = [[Interaction(i % 3, (i % 3,), i % 2) for i in range(6)] for _ in range(8)]
    skill = small(max_epochs=2).fit(seqs, SKILL_LEVEL, seed=0)
    assert skill.net is not None and skill.net.item_terms is None
    # the kind chosen at fit time is saved: a load does not decide it again
    question.save(tmp_path / "q.pt")
    back = GNNTracer.load(tmp_path / "q.pt")
    assert back.net is not None and back.net.item_terms is not None
    assert back._extra["irt"] == "2pl"
    probe = pattern_sequences(1, 6, seed=3)
    np.testing.assert_array_equal(back.predict_sequences(probe)[0],
                                  question.predict_sequences(probe)[0])


def test_the_schedule_follows_the_data_unless_given() -> None:
    default = GNNTracer()
    assert default.schedule(SKILL_LEVEL) == SKILL_LEVEL_SCHEDULE
    assert default.schedule(VOCAB) == QUESTION_LEVEL_SCHEDULE
    assert default.schedule(SHARED_SKILL) == QUESTION_LEVEL_SCHEDULE
    mixed = GNNTracer(lr=0.01, patience=5)  # given settings win; the rest from the preset
    assert mixed.schedule(VOCAB) == replace(QUESTION_LEVEL_SCHEDULE, lr=0.01, patience=5)
    assert mixed.schedule(SKILL_LEVEL) == replace(SKILL_LEVEL_SCHEDULE, lr=0.01, patience=5)
    # the hyperparameters rebuild the same choice (None stays None, so a load decides alike)
    again = GNNTracer(**mixed.hyperparameters())
    assert again.schedule(VOCAB) == mixed.schedule(VOCAB)
    assert default.hyperparameters()["lr"] is None
    for bad in ({"lr": 0.0}, {"patience": 0}, {"max_epochs": 0}, {"lr_decay": 1.5}):
        with pytest.raises(TracingError):
            GNNTracer(**bad)  # type: ignore[arg-type]


def test_fit_follows_and_records_the_data_schedule() -> None:
    seqs = pattern_sequences(6, 5, seed=4)
    tracer = small(lr=None, max_epochs=None, patience=None).fit(seqs, VOCAB, seed=0)
    assert tracer.fit_info["schedule"] == asdict(QUESTION_LEVEL_SCHEDULE)
    assert tracer.fit_info["epochs_run"] == QUESTION_LEVEL_SCHEDULE.max_epochs  # no validation
    skill_seqs = [[Interaction(i % 3, (i % 3,), i % 2) for i in range(5)] for _ in range(6)]
    skill = small(lr=None, max_epochs=None, patience=None).fit(skill_seqs, SKILL_LEVEL, seed=0)
    assert skill.fit_info["schedule"] == asdict(SKILL_LEVEL_SCHEDULE)
    assert skill.fit_info["epochs_run"] == SKILL_LEVEL_SCHEDULE.max_epochs
