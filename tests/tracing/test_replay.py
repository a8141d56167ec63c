"""Batched replay (``replay(histories)``) of the neural tracers and BKT equals the ``update``
loop, and the rebuild after a model switch writes the same states, watermarks and mastery with
it.

Vocabulary: skills 0, 1, 2 with prerequisite edges 0 -> 1 -> 2; items 0 (skill 0), 1 (skill
1), 2 (skills 0+1), 3 (skill 2), 4 (skills 1+2). Histories are built by hand: lengths 1 to 5,
multi-skill answers, a skill repeated within an answer, and answers routed through a proxy
(an interaction whose own skills differ from its item's row of the Q-matrix, as
``MasteryService.interaction`` builds for items the model has never seen).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Attempt, Item, ItemKind, Learner, Prerequisite, Skill, SkillWeight
from tracing.base import BatchReplay, Interaction, TracingError, Vocabulary
from tracing.bkt import BKTTracer
from tracing.dkt import DKTTracer
from tracing.elo import EloTracer
from tracing.gnn import GNNTracer
from tracing.gnn_batch import NeuralState
from tracing.gnn_recap import RecapState, recap_replay, recap_update
from tracing.gnn_recurrent import RecurrentTracer
from tracing.serving import MasteryService, decode_traced
from tracing.store_train import rebuild_states, replay_all

VOCAB = Vocabulary(
    item_ids=("i0", "i1", "i01", "i2", "i12"),
    skill_ids=("s0", "s1", "s2"),
    item_skills=((0,), (1,), (0, 1), (2,), (1, 2)),
    prerequisites=((0, 1), (1, 2)),
)
TOL = 1e-5


def ix(item: int, correct: int, skills: tuple[int, ...] | None = None) -> Interaction:
    return Interaction(item, VOCAB.item_skills[item] if skills is None else skills, correct)


HAND = [
    [ix(0, 1)],                                               # length 1
    [ix(2, 0), ix(4, 1)],                                     # multi-skill answers
    [ix(1, 1), ix(0, 0, (2,)), ix(3, 1), ix(2, 1, (0, 0))],   # proxy routing, repeated skill
    [],                                                       # no answers: the prior
    [ix(0, 0), ix(0, 1), ix(4, 0), ix(3, 0), ix(2, 1, ())],   # empty skills: item's row
]


def training(n: int, seed: int) -> list[list[Interaction]]:
    rng = np.random.default_rng(seed)
    return [[ix(int(i), int(rng.random() < 0.6)) for i in rng.integers(0, 5, size=8)]
            for _ in range(n)]


SMALL: dict[str, Any] = {"hidden_size": 8, "max_epochs": 2, "batch_size": 2, "lr": 0.05,
                         "valid_fraction": 0.0, "dropout": 0.2}


def fitted(kind: str, cell: str) -> RecurrentTracer:
    tracer: RecurrentTracer
    if kind == "gnn":
        tracer = GNNTracer(embed_dim=6, cell=cell, **SMALL)
    else:
        tracer = DKTTracer(embed_dim=6, cell=cell, **SMALL)
    return tracer.fit(training(12, seed=3), VOCAB, seed=0)


@pytest.fixture(scope="module", params=[("gnn", "gru"), ("gnn", "lstm"), ("dkt", "lstm"),
                                        ("dkt", "gru")], ids=lambda p: "-".join(p))
def tracer(request: pytest.FixtureRequest) -> RecurrentTracer:
    return fitted(*request.param)


def sequential(tracer: Any, history: list[Interaction]) -> Any:
    state = tracer.init_state()
    for x in history:
        state = tracer.update(state, x)
    return state


def assert_same_state(tracer: RecurrentTracer, got: NeuralState, want: NeuralState) -> None:
    assert got.n_seen == want.n_seen
    assert len(got.rnn) == len(want.rnn) and len(got.aux) == len(want.aux)
    for a, b in zip(got.rnn, want.rnn, strict=True):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, atol=TOL, rtol=0)
    for x, y in zip(got.aux, want.aux, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_allclose(x, y, atol=TOL, rtol=1e-6)
    np.testing.assert_allclose(tracer.mastery(got), tracer.mastery(want), atol=TOL, rtol=0)
    items = list(range(VOCAB.n_items))
    np.testing.assert_allclose(tracer.predict_state(got, items),
                               tracer.predict_state(want, items), atol=TOL, rtol=0)


def test_recap_counts_in_closed_form_by_hand() -> None:
    # path graph 0 - 1 - 2, rows normalised: N[0] = (0, 1, 0), N[1] = (.5, 0, .5), N[2] = (0, 1, 0)
    nbr = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    # answers: skill 0 twice in one answer (counts once) right; skill 1 wrong; skills 0+2 wrong
    skills = np.array([[0, 0], [1, 0], [0, 2]])
    smask = np.array([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    r = recap_replay(skills, smask, np.array([1.0, 0.0, 0.0]), nbr)
    # columns: right, wrong, neighbour right, neighbour wrong, last (+-1), step of the last
    expected = np.array([
        [1, 1, 0.0, 1.0, -1, 3],        # skill 0: N c- = wrong on 1 -> 1
        [0, 1, 0.5, 0.5 + 0.5, -1, 2],  # skill 1: N c+ = .5 * 1; N c- = .5 * 1 + .5 * 1
        [0, 1, 0.0, 1.0, -1, 3],        # skill 2: N c- = wrong on 1 -> 1
    ], dtype=np.float32)
    np.testing.assert_array_equal(r.per_skill, expected)
    np.testing.assert_array_equal(r.totals, np.array([1, 2], dtype=np.float32))
    assert r.per_skill.dtype == np.float32 and r.totals.dtype == np.float32


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(st.integers(0, 3), min_size=0, max_size=3),
                          st.integers(0, 1)), max_size=12))
def test_recap_replay_equals_the_update_loop(answers: list[tuple[list[int], int]]) -> None:
    rng = np.random.default_rng(len(answers))
    nbr = rng.random((4, 4)) * (rng.random((4, 4)) < 0.5)
    nbr = nbr / np.maximum(nbr.sum(1, keepdims=True), 1e-12)
    nbr_cols = [(np.nonzero(nbr[:, v])[0], nbr[np.nonzero(nbr[:, v])[0], v].astype(np.float32))
                for v in range(4)]
    state = RecapState.empty(4)
    for step, (sk, c) in enumerate(answers, start=1):
        state = recap_update(state, tuple(sk), c, step, nbr_cols)
    k = max((len(sk) for sk, _ in answers), default=1) or 1
    skills = np.zeros((len(answers), k), np.int64)
    smask = np.zeros((len(answers), k), np.float32)
    for t, (sk, _) in enumerate(answers):
        skills[t, : len(sk)], smask[t, : len(sk)] = sk, 1.0
    got = recap_replay(skills, smask, np.array([c for _, c in answers], np.float32), nbr)
    np.testing.assert_allclose(got.per_skill, state.per_skill, atol=1e-5, rtol=1e-6)
    np.testing.assert_array_equal(got.totals, state.totals)


def test_which_tracers_offer_batched_replay() -> None:
    assert isinstance(GNNTracer(), BatchReplay) and isinstance(DKTTracer(), BatchReplay)
    assert isinstance(BKTTracer(), BatchReplay)
    assert not isinstance(EloTracer(), BatchReplay)  # Elo keeps the update loop


def test_replay_of_hand_made_histories_equals_the_update_loop(tracer: RecurrentTracer) -> None:
    states = tracer.replay(HAND)
    assert len(states) == len(HAND)
    for history, got in zip(HAND, states, strict=True):
        assert_same_state(tracer, got, sequential(tracer, history))
    assert states[3].n_seen == 0  # the empty history is the prior
    many = tracer.mastery_many(states)
    assert many.shape == (len(HAND), VOCAB.n_skills)
    for st_, row in zip(states, many, strict=True):
        np.testing.assert_allclose(row, tracer.mastery(st_), atol=TOL, rtol=0)
    assert tracer.mastery_many([]).shape == (0, VOCAB.n_skills)
    # a replayed state goes on like any other: one more update from it matches too
    more = ix(4, 1)
    assert_same_state(tracer, tracer.update(states[2], more),
                      sequential(tracer, [*HAND[2], more]))


def test_replayed_states_own_their_storage(tracer: RecurrentTracer) -> None:
    """Each state's tensors are its own, not views into the batch (a saved view would carry
    the whole batch's storage into every learner's stored state)."""
    states = tracer.replay(HAND)
    for got, want in zip(states, (sequential(tracer, h) for h in HAND), strict=True):
        for a, b in zip(got.rnn, want.rnn, strict=True):
            assert a.untyped_storage().nbytes() == b.untyped_storage().nbytes()


history_strategy = st.lists(
    st.lists(st.tuples(st.integers(0, VOCAB.n_items - 1), st.integers(0, 1),
                       st.sampled_from([None, (0,), (2,), (1, 2)])),
             max_size=9),
    min_size=1, max_size=7)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=history_strategy)
def test_replay_equals_the_update_loop_on_random_histories(
    tracer: RecurrentTracer, raw: list[list[tuple[int, int, tuple[int, ...] | None]]]
) -> None:
    histories = [[ix(i, c, sk) for i, c, sk in h] for h in raw]
    states = tracer.replay(histories)
    for history, got, row in zip(histories, states, tracer.mastery_many(states), strict=True):
        want = sequential(tracer, history)
        assert_same_state(tracer, got, want)
        np.testing.assert_allclose(row, tracer.mastery(want), atol=TOL, rtol=0)


def test_replay_refuses_bad_input_by_name(tracer: RecurrentTracer) -> None:
    with pytest.raises(TracingError, match=r"sequence 1, position 0: item index 9"):
        tracer.replay([[ix(0, 1)], [Interaction(9, (0,), 1)]])
    with pytest.raises(TracingError, match="not fitted"):
        GNNTracer().replay([[ix(0, 1)]])


def test_replay_all_falls_back_to_the_update_loop() -> None:
    elo = EloTracer().with_vocab(VOCAB)
    for history, got in zip(HAND, replay_all(elo, HAND), strict=True):
        np.testing.assert_array_equal(got, sequential(elo, history))


def fitted_bkt() -> BKTTracer:
    return BKTTracer(forget=True).fit(training(12, seed=3), VOCAB, seed=0)


def test_bkt_replay_is_the_update_loop_exactly() -> None:
    bkt = fitted_bkt()
    assert bkt.params["forget"].max() > 0  # the forget transition is exercised too
    states = bkt.replay(HAND)
    for history, got in zip(HAND, states, strict=True):
        np.testing.assert_array_equal(got, sequential(bkt, history))  # the same float ops
    np.testing.assert_array_equal(states[3], bkt.init_state())
    # one correct answer on skill 0 from the prior: the closed form, by hand
    p = bkt.params
    post = p["prior"][0] * (1 - p["slip"][0]) / (
        p["prior"][0] * (1 - p["slip"][0]) + (1 - p["prior"][0]) * p["guess"][0])
    assert states[0][0] == pytest.approx(post * (1 - p["forget"][0]) + (1 - post) * p["learn"][0])
    many = bkt.mastery_many(states)
    assert many.shape == (len(HAND), VOCAB.n_skills)
    np.testing.assert_array_equal(many[2], bkt.mastery(states[2]))
    assert bkt.replay([]) == [] and bkt.mastery_many([]).shape == (0, VOCAB.n_skills)
    with pytest.raises(TracingError, match="skill index 7 is outside"):
        bkt.replay([[ix(0, 1)], [Interaction(0, (7,), 1)]])


@settings(max_examples=40, deadline=None)
@given(raw=history_strategy)
def test_bkt_replay_equals_the_update_loop_on_random_histories(
    raw: list[list[tuple[int, int, tuple[int, ...] | None]]]
) -> None:
    bkt = BKT_FITTED
    histories = [[ix(i, c, sk) for i, c, sk in h] for h in raw]
    for history, got in zip(histories, bkt.replay(histories), strict=True):
        np.testing.assert_array_equal(got, sequential(bkt, history))


BKT_FITTED = fitted_bkt()

# -- the rebuild on both stores -----------------------------------------------------------------

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
ACTOR = "designer-1"


class UpdateLoopOnly:
    """The same tracer with its ``replay`` hidden: ``rebuild_states`` takes the update loop."""

    def __init__(self, tracer: Any) -> None:
        self._tracer = tracer

    def __getattr__(self, name: str) -> Any:
        if name == "replay":
            raise AttributeError(name)
        return getattr(self._tracer, name)


def store_items() -> list[Item]:
    items = [Item(VOCAB.item_ids[i], ItemKind.EXERCISE, VOCAB.item_ids[i],
                  tuple(SkillWeight(VOCAB.skill_ids[s]) for s in sk))
             for i, sk in enumerate(VOCAB.item_skills)]
    # an item the model never saw, served through a proxy with its skills
    return [*items, Item("new2", ItemKind.EXERCISE, "new", (SkillWeight("s2"),))]


async def seed_learners(store: Any) -> None:
    await store.upsert_skills([Skill(s, s) for s in VOCAB.skill_ids], actor=ACTOR)
    await store.upsert_prerequisites([Prerequisite("s0", "s1"), Prerequisite("s1", "s2")],
                                     actor=ACTOR)
    await store.upsert_items(store_items(), actor=ACTOR)
    learners = [f"l{n}" for n in range(5)]
    await store.upsert_learners([Learner(x, x) for x in learners])
    rng = np.random.default_rng(11)
    ids = [*VOCAB.item_ids, "new2"]
    attempts = [Attempt(f"{lid}-{t}", lid, ids[int(rng.integers(0, len(ids)))],
                        float(rng.random() < 0.5), T0 + timedelta(minutes=t))
                for n, lid in enumerate(learners) for t in range(1 + 3 * n)]  # 1..13 answers
    await store.record_attempts(attempts)


@pytest.mark.parametrize("kind", ["gnn", "dkt", "bkt"])
async def test_rebuild_writes_what_the_update_loop_writes(store: Any, kind: str) -> None:
    await seed_learners(store)
    model: Any = fitted_bkt() if kind == "bkt" else fitted(kind, "gru" if kind == "gnn"
                                                            else "lstm")
    batched = MasteryService(model, f"{kind}-batched", store_items())
    loop = MasteryService(UpdateLoopOnly(model), f"{kind}-loop", store_items())  # type: ignore[arg-type]
    assert isinstance(batched.tracer, BatchReplay) and not isinstance(loop.tracer, BatchReplay)
    learners = [f"l{n}" for n in range(5)]

    async def latest() -> dict[tuple[str, str], tuple[float, str]]:
        return {(m.learner_id, m.skill_id): (m.probability, m.model_version)
                for ms in await store.mastery_of(learners) for m in ms}

    got = await rebuild_states(store, batched, page=2)
    got_rows = await latest()
    want = await rebuild_states(store, loop, page=2)
    want_rows = await latest()
    assert (got.learners, got.attempts, got.mastery_rows) == (
        want.learners, want.attempts, want.mastery_rows) == (5, 35, got.mastery_rows)
    for lid, a, b in zip(learners, await store.load_tracer_states(learners, f"{kind}-batched"),
                         await store.load_tracer_states(learners, f"{kind}-loop"), strict=True):
        assert a is not None and b is not None, lid
        (sa, ma), (sb, mb) = decode_traced(a), decode_traced(b)
        assert ma == mb  # the same watermark: the same attempts, exactly
        if kind == "bkt":
            np.testing.assert_array_equal(sa, sb)
        else:
            assert_same_state(model, sa, sb)
        assert len(a) == len(b)  # the same encoding, no larger for being batched
    assert got_rows.keys() == want_rows.keys() and len(got_rows) == got.mastery_rows
    assert {v for _, v in got_rows.values()} == {f"{kind}-batched"}
    assert {v for _, v in want_rows.values()} == {f"{kind}-loop"}
    assert {k: p for k, (p, _) in got_rows.items()} == pytest.approx(
        {k: p for k, (p, _) in want_rows.items()}, abs=TOL)
