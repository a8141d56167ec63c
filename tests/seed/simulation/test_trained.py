"""``--tracer gnn``: the adaptive policy serving a GNN trained on a warm-up cohort, on a tiny
hand-built curriculum (a -> b -> c, plus an unrelated z; goal c)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from api.cli import main
from graph.models import Item, ItemKind, Prerequisite, PrerequisiteGraph, Skill, SkillWeight
from recommender.errors import InvalidParameterError
from recommender.next_item import GainStats
from seed.simulation import trained as trained_mod
from seed.simulation.harness import run_policy
from seed.simulation.policies import AdaptivePolicy, Setting, bkt_for, make_setting
from seed.simulation.trained import Trained, WarmUp, trained_tracer, warmup_sequences
from seed.simulator import SimParams
from tracing.base import Interaction

FAST = SimParams(learn_rate=0.6, learn_rate_sd=0.0, prior_mastered_mean=0.0)


def three_skills() -> Setting:
    names = ["a", "b", "c", "z"]
    graph = PrerequisiteGraph(
        tuple(Skill(s, s) for s in names), (Prerequisite("a", "b"), Prerequisite("b", "c"))
    )
    items = [
        Item(f"{s}-{k}", ItemKind.EXERCISE, s, (SkillWeight(s),), difficulty=0.5)
        for s in names
        for k in range(3)
    ]
    return make_setting(graph, items, names, ["c"])


class Counting:
    """A tracer that counts the calls the policy makes and delegates them."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.vocab = inner.vocab
        self.updates = self.predicts = self.masteries = 0

    def init_state(self) -> Any:
        return self.inner.init_state()

    def update(self, state: Any, x: Interaction) -> Any:
        self.updates += 1
        return self.inner.update(state, x)

    def predict_state(self, state: Any, items: Sequence[int]) -> np.ndarray:
        self.predicts += 1
        return np.asarray(self.inner.predict_state(state, items))

    def mastery(self, state: Any) -> np.ndarray:
        self.masteries += 1
        return np.asarray(self.inner.mastery(state))


def counting_trained(setting: Setting) -> tuple[Trained, Counting]:
    spy = Counting(bkt_for(setting.index))
    return Trained(spy, 2, 0, 0.0, 0.0, float("nan")), spy  # type: ignore[arg-type]


def test_the_bkt_default_is_unchanged() -> None:
    # pinned from main before --tracer existed (same setting, seed, learners)
    s = three_skills()
    for pop, median, p90 in (("seed", 14.0, 15.9), ("kst", 14.5, 25.3)):
        res = run_policy(s, "adaptive", learners=8, seed=5, budget=200, params=FAST, population=pop)
        assert (res.median_items, round(res.p90_items, 1)) == (median, p90)
        assert res.mean_diagnostic_questions == 5.25
        again = run_policy(
            s,
            "adaptive",
            learners=8,
            seed=5,
            budget=200,
            params=FAST,
            population=pop,
            tracer="bkt",
        )
        assert again == res


def test_the_option_selects_the_served_tracer() -> None:
    s = three_skills()
    trained, spy = counting_trained(s)
    res = run_policy(s, "adaptive", learners=1, seed=5, budget=200, params=FAST, trained=trained)
    assert spy.updates == 0  # bkt (the default) ignores a trained tracer
    res = run_policy(
        s, "adaptive", learners=1, seed=5, budget=200, params=FAST, tracer="gnn", trained=trained
    )
    assert res.reached_share == 1.0
    # every answer, the diagnostic's included, went through the served tracer's update
    assert spy.updates == res.median_items and res.mean_diagnostic_questions >= 1
    assert spy.masteries >= 1 and spy.predicts >= 1
    with pytest.raises(InvalidParameterError, match="tracer"):
        run_policy(s, "adaptive", learners=1, seed=5, tracer="dkt")


def test_a_tracer_without_a_vocabulary_is_refused() -> None:
    from tracing.bkt import BKTTracer

    with pytest.raises(InvalidParameterError, match="vocabulary"):
        AdaptivePolicy(three_skills(), BKTTracer(), GainStats(), np.random.default_rng())


def test_warmup_is_a_fixed_number_of_answers_from_other_learners() -> None:
    s = three_skills()
    seqs, reached = warmup_sequences(
        s, population="seed", seed=5, warmup=WarmUp(learners=4, items=30), params=FAST
    )
    assert [len(q) for q in seqs] == [30] * 4  # on past the goal
    assert 0.0 < reached <= 1.0  # the share of them at the goal by their 30th answer
    assert all(a.timestamp <= b.timestamp for q in seqs for a, b in zip(q, q[1:], strict=False))
    topo, _ = warmup_sequences(
        s, population="seed", seed=5, warmup=WarmUp(4, 30, "topological"), params=FAST
    )
    assert [x.item for x in topo[0][:2]] == [s.index.item_pos["a-0"], s.index.item_pos["a-1"]]
    with pytest.raises(InvalidParameterError):
        WarmUp(policy="random")
    with pytest.raises(InvalidParameterError):
        WarmUp(learners=1)


@pytest.mark.slow
def test_a_gnn_run_reaches_a_three_skill_goal() -> None:
    pytest.importorskip("torch")
    from tracing.gnn import GNNTracer

    s = three_skills()
    warm = WarmUp(learners=100, items=60, max_epochs=4, embed_dim=32, hidden_size=64)
    tr = trained_tracer(s, population="seed", seed=3, warmup=warm, params=FAST)
    assert isinstance(tr.tracer, GNNTracer)
    assert tr.tracer.vocab is not None and tr.tracer.vocab.item_ids == s.index.item_ids
    assert tr.warmup_interactions == 100 * 60 and 0.5 < tr.valid_auc <= 1.0
    res = run_policy(
        s, "adaptive", learners=6, seed=3, budget=200, params=FAST, tracer="gnn", trained=tr
    )
    assert res.reached_share == 1.0 and res.median_items >= 3


def test_simulate_cli_trains_and_serves_with_tracer_gnn(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spies: list[Counting] = []

    def fake(setting: Setting, **kw: Any) -> Trained:
        assert kw["warmup"] == WarmUp(learners=7, items=11, policy="topological", max_epochs=2)
        trained, spy = counting_trained(setting)
        spies.append(spy)
        return trained

    monkeypatch.setattr(trained_mod, "trained_tracer", fake)
    argv = [
        "simulate",
        "--policy",
        "adaptive",
        "--learners",
        "1",
        "--budget",
        "30",
        "--goals",
        "count-to-10",
        "--json",
        "--quiet",
    ]
    warm = [
        "--warmup-learners",
        "7",
        "--warmup-items",
        "11",
        "--warmup-policy",
        "topological",
        "--epochs",
        "2",
    ]
    assert main([*argv, *warm]) == 0  # default bkt: nothing trained
    doc = json.loads(capsys.readouterr().out)
    assert doc["tracer"] == "bkt" and "training" not in doc and not spies
    assert main([*argv, *warm, "--tracer", "gnn"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tracer"] == "gnn" and doc["training"]["warmup_learners"] == 2
    (spy,) = spies
    assert spy.updates == doc["policies"][0]["median_items"]  # reached or the budget: 1 learner
    with pytest.raises(SystemExit):
        main([*argv, "--tracer", "elo"])
