"""MasteryService on real stores: O(batch) store calls, no replay, model versions, fallbacks."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graph.models import Attempt, Item, ItemKind, Learner, Prerequisite, Skill, SkillWeight
from tracing.base import Interaction
from tracing.bkt import BKTTracer
from tracing.data import vocabulary_from_items
from tracing.registry import Registry
from tracing.serving import DEFAULT_VERSION, MasteryService, decode_state, encode_state

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTOR = "designer-1"
SKILLS = [Skill("add", "Addition"), Skill("mul", "Multiplication")]
ITEMS = [
    Item("q1", ItemKind.EXERCISE, "1+1", (SkillWeight("add"),)),
    Item("q2", ItemKind.EXERCISE, "2*3", (SkillWeight("mul"),)),
    Item("q3", ItemKind.EXERCISE, "2*3+1", (SkillWeight("add"), SkillWeight("mul"))),
    Item("v1", ItemKind.VIDEO, "intro"),
]
EDGES = [Prerequisite("add", "mul")]


class Counting:
    """A real store that counts the calls made on it."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if callable(attr):
            def wrapped(*a: Any, **kw: Any) -> Any:
                self.calls[name] += 1
                return attr(*a, **kw)
            return wrapped
        return attr


async def setup(store: Any, learners: tuple[str, ...] = ("ann", "bob")) -> None:
    await store.upsert_skills(SKILLS, actor=ACTOR)
    await store.upsert_prerequisites(EDGES, actor=ACTOR)
    await store.upsert_items(ITEMS, actor=ACTOR)
    await store.upsert_learners([Learner(x, x) for x in learners])


def att(aid: str, learner: str, item: str, score: float, minute: int) -> Attempt:
    return Attempt(aid, learner, item, score, T0 + timedelta(minutes=minute))


def service(tmp_path: Path) -> MasteryService:
    graph_edges = EDGES
    from graph.models import PrerequisiteGraph

    return MasteryService.for_curriculum(PrerequisiteGraph(tuple(SKILLS), tuple(graph_edges)),
                                         ITEMS, registry=Registry(tmp_path / "empty"))


async def test_fresh_curriculum_first_answer_closed_form(store: Any, tmp_path: Path) -> None:
    await setup(store)
    svc = service(tmp_path)
    assert svc.model_version == DEFAULT_VERSION
    attempts = [att("a1", "ann", "q1", 1.0, 0)]
    await store.record_attempts(attempts)
    counted = Counting(store)
    out = await svc.apply(counted, attempts)
    assert dict(counted.calls) == {"load_tracer_states": 1, "save_tracer_states": 1,
                                   "save_mastery": 1}
    (row,) = out["ann"]
    post = 0.3 * 0.9 / (0.3 * 0.9 + 0.7 * 0.2)  # population defaults: prior .3, g .2, s .1
    assert row.skill_id == "add"
    assert row.probability == pytest.approx(post + (1 - post) * 0.15)
    assert row.uncertainty == pytest.approx(np.sqrt(row.probability * (1 - row.probability)))
    assert row.model_version == DEFAULT_VERSION
    (stored,) = await store.mastery_of(["ann"])
    assert [(m.skill_id, m.model_version) for m in stored] == [("add", DEFAULT_VERSION)]
    assert stored[0].probability == pytest.approx(row.probability)


async def test_batches_continue_from_saved_state_without_replay(store: Any,
                                                                tmp_path: Path) -> None:
    await setup(store)
    svc = service(tmp_path)
    first = [att("a1", "ann", "q1", 0.0, 0), att("b1", "bob", "q2", 1.0, 0)]
    second = [att("a3", "ann", "q3", 1.0, 2), att("a2", "ann", "q1", 1.0, 1)]
    await store.record_attempts(first + second)
    await svc.apply(store, first)
    counted = Counting(store)
    out = await svc.apply(counted, second)
    assert sum(counted.calls.values()) == 3  # no attempts_of: history is never replayed
    # the same answers applied online, in time order, one by one
    t = svc.tracer
    s = t.init_state()
    for item, c in (("q1", 0), ("q1", 1), ("q3", 1)):
        i = svc.vocab.item_index(item)
        assert i is not None
        s = t.update(s, Interaction(i, svc.vocab.item_skills[i], c))
    expected = dict(zip(svc.vocab.skill_ids, t.mastery(s), strict=True))
    assert {m.skill_id: m.probability for m in out["ann"]} == pytest.approx(expected)
    assert "bob" not in out
    (bob,) = await store.mastery_of(["bob"])
    assert [m.skill_id for m in bob] == ["mul"]


async def test_attempts_on_ungraded_items_change_nothing(store: Any, tmp_path: Path) -> None:
    await setup(store)
    svc = service(tmp_path)
    a = [att("v", "ann", "v1", 1.0, 0)]
    await store.record_attempts(a)
    assert await svc.apply(store, a) == {}
    assert await store.mastery_of(["ann"]) == [[]]


def test_new_item_routed_through_an_item_with_the_same_skills() -> None:
    vocab = vocabulary_from_items(ITEMS[:3], EDGES)
    tracer = BKTTracer().with_vocab(vocab)
    new = Item("q9", ItemKind.EXERCISE, "3*4", (SkillWeight("mul"),))
    svc = MasteryService(tracer, "bkt-v1", [*ITEMS, new])
    x = svc.interaction(att("z", "ann", "q9", 1.0, 0))
    assert x is not None and x.item == vocab.item_index("q2")
    p = svc.predict(None, ["q9", "q2", "v1", "nope"])
    assert set(p) == {"q9", "q2"} and p["q9"] == pytest.approx(p["q2"])


def test_registry_model_serves_when_it_covers_the_curriculum(tmp_path: Path) -> None:
    from graph.models import PrerequisiteGraph

    reg = Registry(tmp_path / "models")
    graph = PrerequisiteGraph(tuple(SKILLS), tuple(EDGES))
    tracer = BKTTracer(prior=0.6).with_vocab(vocabulary_from_items(ITEMS, EDGES))
    rec = reg.register(tracer, data={"train": "hand-made"})
    svc = MasteryService.for_curriculum(graph, ITEMS, registry=reg)
    assert svc.model_version == rec.key == "bkt-v1"
    assert svc.mastery_of(None)["add"] == pytest.approx(0.6)
    # a model trained on other content does not serve this curriculum
    other = BKTTracer().with_vocab(vocabulary_from_items(
        [Item("x", ItemKind.EXERCISE, "x", (SkillWeight("add"),))]))
    reg.activate(reg.register(other, name="other").key)
    assert MasteryService.for_curriculum(graph, ITEMS, registry=reg).model_version == \
        DEFAULT_VERSION


def test_state_encoding_round_trips() -> None:
    s = np.array([0.1, 0.25, 0.9])
    assert np.array_equal(decode_state(encode_state(s)), s)
    torch = pytest.importorskip("torch")
    from tracing.serving import _neural_state_class

    NeuralState = _neural_state_class()  # noqa: N806

    ns = NeuralState((torch.ones(1, 4), torch.zeros(1, 4)), (np.arange(3.0),), 7)
    back = decode_state(encode_state(ns))
    assert back.n_seen == 7 and torch.equal(back.rnn[0], ns.rnn[0])
    assert np.array_equal(back.aux[0], ns.aux[0])
