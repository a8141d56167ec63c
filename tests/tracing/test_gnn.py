"""The graph-neural tracer: GCN maths by hand, the data-derived skill graph, cold start,
online == offline, learning a trivial pattern, determinism and save/load."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tracing.base import Interaction, Tracer, TracingError, Vocabulary
from tracing.gnn import GNNTracer, gcn_propagate, row_normalised, transition_graph
from tracing.gnn_batch import roc_auc

# Skills 0 and 1. Items: 0 (skill 0), 1 (skill 1), 2 (skills 0+1), and two items never
# answered in training: 3 (skill 0) and 4 (skill 1).
VOCAB = Vocabulary(
    item_ids=("a", "b", "ab", "new_a", "new_b"),
    skill_ids=("s0", "s1"),
    item_skills=((0,), (1,), (0, 1), (0,), (1,)),
)


def ix(item: int, correct: int) -> Interaction:
    return Interaction(item, VOCAB.item_skills[item], correct)


def pattern_sequences(n: int, length: int, seed: int, items: int = 3) -> list[list[Interaction]]:
    """Skill-0 items are answered right, skill-1 items wrong; item 2 (both) right half the
    time. Only items ``< items`` appear."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        seq = []
        for i in rng.integers(0, items, size=length):
            c = {0: 1, 1: 0, 3: 1, 4: 0}.get(int(i), int(rng.random() < 0.5))
            seq.append(ix(int(i), c))
        out.append(seq)
    return out


def small(**kw: object) -> GNNTracer:
    args: dict[str, object] = {
        "embed_dim": 8, "hidden_size": 16, "max_epochs": 30, "patience": 30, "lr": 0.02,
        "batch_size": 16, "dropout": 0.0, "valid_fraction": 0.0, "min_count": 1,
    }
    args.update(kw)
    return GNNTracer(**args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained() -> GNNTracer:
    return small().fit(pattern_sequences(40, 20, seed=1), VOCAB, seed=0)


def test_gcn_propagation_on_a_three_node_path_by_hand() -> None:
    # path 0 - 1 - 2 (both directions); with self-loops the degrees are 2, 3, 2
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    out = gcn_propagate(x, edge_index)
    r6 = 1 / math.sqrt(6)
    expected = torch.tensor([
        [1 / 2, r6],                        # x0/2 + x1/sqrt(2*3)
        [r6 + 2 * r6, 1 / 3 + 2 * r6],      # x0/sqrt(6) + x1/3 + x2/sqrt(6)
        [2 / 2, r6 + 2 / 2],                # x1/sqrt(6) + x2/2
    ])
    torch.testing.assert_close(out, expected)
    # edge weights scale the messages: weight 3 on 0<->1 makes degrees 4, 5, 2
    w = torch.tensor([3.0, 3.0, 1.0, 1.0])
    out_w = gcn_propagate(x, edge_index, w)
    torch.testing.assert_close(out_w[0], torch.tensor([1 / 4, 3 / math.sqrt(20)]))


def test_transition_graph_keeps_the_most_frequent_next_skills() -> None:
    v = Vocabulary(("x", "y", "z"), ("s0", "s1", "s2"), ((0,), (1,), (2,)))

    def seq(*items: int) -> list[Interaction]:
        return [Interaction(i, (i,), 1) for i in items]

    # 0->1 three times, 0->2 once, 1->2 twice, repeats of the same skill ignored
    edges = transition_graph([seq(0, 1, 2), seq(0, 0, 1, 2), seq(0, 1, 0, 2)], v, 1, 1)
    assert edges == [(0, 1, 1.0), (1, 2, 1.0)]
    edges2 = transition_graph([seq(0, 1, 2), seq(0, 0, 1, 2), seq(0, 1, 0, 2)], v, 2, 1)
    assert edges2[:2] == [(0, 1, 0.75), (0, 2, 0.25)]
    assert transition_graph([seq(0, 1)], v, 5, 2) == []  # below min_count


def test_row_normalised_adjacency_is_symmetric_then_row_stochastic() -> None:
    a = row_normalised(3, [(0, 1, 1.0), (0, 2, 3.0)])
    torch.testing.assert_close(
        a, torch.tensor([[0.0, 0.25, 0.75], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    )


def test_is_a_tracer_with_expected_shapes(trained: GNNTracer) -> None:
    assert isinstance(trained, Tracer) and trained.name == "gnn"
    out = trained.predict_sequences([[ix(0, 1), ix(2, 0)], []])
    assert [p.shape for p in out] == [(2,), (0,)]
    state = trained.init_state()
    assert trained.predict_state(state, [0, 1, 2, 3, 4]).shape == (5,)
    assert trained.mastery(state).shape == (2,)
    assert trained._extra["skill_graph"] == "transitions"


def test_learns_trivial_pattern_and_mastery_follows(trained: GNNTracer) -> None:
    test = pattern_sequences(20, 20, seed=7)
    y = np.concatenate([[x.correct for x in s] for s in test])
    p = np.concatenate(trained.predict_sequences(test))
    assert roc_auc(y, p) > 0.9
    state = trained.init_state()
    for x in (ix(0, 1), ix(1, 0)):
        state = trained.update(state, x)
    m = trained.mastery(state)
    assert m[0] > 0.8 and m[1] < 0.2


def test_cold_start_item_is_scored_through_its_skills(trained: GNNTracer) -> None:
    state = trained.init_state()
    for x in (ix(0, 1), ix(1, 0), ix(2, 1)):
        state = trained.update(state, x)
    p_new_a, p_new_b = trained.predict_state(state, [3, 4])
    # items 3 and 4 were never answered; they resemble the items of their skill
    assert p_new_a > 0.7 > 0.3 > p_new_b
    # their own (untrained) id embeddings take no part: changing them changes nothing
    assert trained.net is not None
    net = trained.net
    assert net.seen[3].item() == 0.0 and net.seen[0].item() == 1.0
    with torch.no_grad():
        net.item_emb.weight[3:5] = torch.randn(2, net.item_emb.weight.shape[1]) * 5
    net.prepare()
    np.testing.assert_allclose(trained.predict_state(state, [3, 4]), [p_new_a, p_new_b],
                               rtol=1e-6)


def test_cold_start_prediction_changes_with_the_items_skills(trained: GNNTracer,
                                                             tmp_path: Path) -> None:
    """The same unseen item gets a different prediction when the Q-matrix gives it the
    other skill: its score comes from its graph neighbours."""
    trained.save(tmp_path / "m.pt")
    swapped = GNNTracer.load(tmp_path / "m.pt")
    assert swapped.vocab is not None
    v = swapped.vocab
    swapped_vocab = Vocabulary(v.item_ids, v.skill_ids, ((0,), (1,), (0, 1), (1,), (0,)))
    swapped.vocab = swapped_vocab
    swapped.net = swapped.build_net(swapped_vocab, None, swapped._extra)
    assert trained.net is not None
    swapped.net.load_state_dict(trained.net.state_dict())
    swapped.net.eval()
    swapped.net.prepare()
    s1, s2 = trained.init_state(), swapped.init_state()
    a = trained.predict_state(s1, [3, 4])
    b = swapped.predict_state(s2, [3, 4])
    assert a[0] > a[1] and b[0] < b[1]
    np.testing.assert_allclose(a[[0, 1, ]], b[[1, 0]], rtol=1e-5)
    # seen items are unaffected by the swap
    np.testing.assert_allclose(trained.predict_state(s1, [0, 1]),
                               swapped.predict_state(s2, [0, 1]), rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1)), min_size=1, max_size=30))
def test_online_update_equals_batched_prediction(
    trained: GNNTracer, answers: list[tuple[int, int]]
) -> None:
    seq = [ix(i, c) for i, c in answers]
    offline = trained.predict_sequences([seq])[0]
    state, online = trained.init_state(), []
    for x in seq:
        online.append(trained.predict_state(state, [x.item])[0])
        state = trained.update(state, x)
    np.testing.assert_allclose(online, offline, atol=1e-5)


def test_update_counts_right_and_wrong_per_skill(trained: GNNTracer) -> None:
    s0 = trained.init_state()
    s1 = trained.update(s0, ix(2, 1))
    s2 = trained.update(s1, ix(1, 0))
    assert s0.aux[0].sum() == 0 and s0.aux[1].sum() == 0  # the given state is not modified
    per_skill, totals, learned = s2.aux  # the last: the fallback BKT's P(L) per skill
    assert trained.fallback is not None
    bkt = trained.fallback
    np.testing.assert_array_equal(learned, bkt.update(bkt.update(bkt.init_state(), ix(2, 1)),
                                                      ix(1, 0)))
    np.testing.assert_array_equal(per_skill[:, :2], [[1, 0], [1, 1]])  # right, wrong
    np.testing.assert_array_equal(per_skill[:, 4:], [[1, 1], [-1, 2]])  # last answer, step
    np.testing.assert_array_equal(totals, [1, 1])


def test_same_seed_same_model_other_seed_differs() -> None:
    seqs = pattern_sequences(12, 10, seed=3)
    probe = pattern_sequences(3, 10, seed=4)
    a = small(max_epochs=2).fit(seqs, VOCAB, seed=5).predict_sequences(probe)
    b = small(max_epochs=2).fit(seqs, VOCAB, seed=5).predict_sequences(probe)
    c = small(max_epochs=2).fit(seqs, VOCAB, seed=6).predict_sequences(probe)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.allclose(x, y) for x, y in zip(a, c, strict=True))


def test_save_load_round_trip(trained: GNNTracer, tmp_path: Path) -> None:
    path = tmp_path / "gnn.pt"
    trained.save(path, {"metrics": {"auc": 0.5}})
    loaded = GNNTracer.load(path)
    probe = pattern_sequences(4, 12, seed=9, items=5)
    for a, b in zip(trained.predict_sequences(probe), loaded.predict_sequences(probe),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    s = loaded.init_state()
    for x in probe[0]:
        s = loaded.update(s, x)
    t = trained.init_state()
    for x in probe[0]:
        t = trained.update(t, x)
    np.testing.assert_array_equal(loaded.mastery(s), trained.mastery(t))
    assert loaded._extra == trained._extra and loaded.hyperparameters() == trained.hyperparameters()


def test_curated_prerequisites_replace_the_derived_graph() -> None:
    v = Vocabulary(VOCAB.item_ids, VOCAB.skill_ids, VOCAB.item_skills, prerequisites=((0, 1),))
    t = small(max_epochs=1).fit(pattern_sequences(8, 6, seed=2), v, seed=0)
    structure = {k: v for k, v in t._extra.items() if k != "mastery_readout"}
    assert structure == {"skill_graph": "prerequisites", "skill_edges": [[0, 1, 1.0]],
                         "irt": "2pl"}  # item "ab" has two skills: question-level
    assert t.net is not None
    torch.testing.assert_close(t.net.nbr, torch.tensor([[0.0, 1.0], [1.0, 0.0]]))


def test_lstm_cell_and_no_recap_variants_also_run_online_equal_offline() -> None:
    seqs = pattern_sequences(10, 8, seed=2)
    for kw in ({"cell": "lstm"}, {"recap": False}, {"gnn_layers": 0}):
        t = small(max_epochs=1, **kw).fit(seqs, VOCAB, seed=0)
        off = t.predict_sequences(seqs[:1])[0]
        s, on = t.init_state(), []
        for x in seqs[0]:
            on.append(t.predict_state(s, [x.item])[0])
            s = t.update(s, x)
        np.testing.assert_allclose(on, off, atol=1e-5)


def test_bad_settings_and_input_get_typed_errors(trained: GNNTracer) -> None:
    with pytest.raises(TracingError, match="gnn_layers=-1"):
        GNNTracer(gnn_layers=-1)
    with pytest.raises(TracingError, match="dropout=1.5"):
        GNNTracer(dropout=1.5)
    with pytest.raises(TracingError, match="item index 5"):
        trained.predict_state(trained.init_state(), [5])
    with pytest.raises(TracingError, match="not fitted"):
        GNNTracer().mastery(None)
    with pytest.raises(TracingError, match="at least one skill"):
        small().fit([[Interaction(0, (), 1)]], Vocabulary(("x",), (), ((),)))


def test_recap_features_by_hand() -> None:
    from tracing.gnn_batch import make_batch
    from tracing.gnn_recap import RECAP_NAMES, recap_batch

    # one learner: a right, b wrong, a wrong, then item "ab" (skills 0 and 1); skill graph 0-1
    seq = [ix(0, 1), ix(1, 0), ix(0, 0), ix(2, 1)]
    b = make_batch([seq], VOCAB)
    nbr = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    f = recap_batch(b.skills, b.skill_mask, b.correct, b.mask, nbr)[0]
    assert f.shape == (4, len(RECAP_NAMES))
    ln = math.log1p
    # step 0: nothing before it
    torch.testing.assert_close(f[0], torch.zeros(8))
    # step 2 (target a): a had 1 right, last right 2 steps ago; neighbour b 1 wrong; totals 1/1
    torch.testing.assert_close(
        f[2], torch.tensor([ln(1), 0.0, 1.0, ln(2), 0.0, ln(1), ln(1), ln(1)])
    )
    # step 3 (target ab = mean over a and b):
    #   a: right 1, wrong 1, last -1, gap 1, nbr right 0, nbr wrong 1
    #   b: right 0, wrong 1, last -1, gap 2, nbr right 1, nbr wrong 1
    expected = torch.tensor([
        (ln(1) + 0) / 2, (ln(1) + ln(1)) / 2, -1.0, (ln(1) + ln(2)) / 2,
        (0 + ln(1)) / 2, (ln(1) + ln(1)) / 2, ln(1), ln(2),
    ])
    torch.testing.assert_close(f[3], expected)
