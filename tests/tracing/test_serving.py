"""MasteryService on real stores: O(batch) store calls, no replay, model versions, fallbacks."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.models import Attempt, Item, ItemKind, Learner, Prerequisite, Skill, SkillWeight
from tracing.base import Interaction, TracingError
from tracing.bkt import BKTTracer
from tracing.data import vocabulary_from_items
from tracing.registry import Registry
from tracing.serving import (
    DEFAULT_VERSION,
    MasteryService,
    decode_state,
    decode_traced,
    encode_state,
)
from tracing.watermark import UNKNOWN, Watermark, attempt_key

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
    assert dict(counted.calls) == {"load_tracer_records": 1, "save_traced": 1}
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
    assert sum(counted.calls.values()) == 2  # no attempts_of: history is never replayed
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
    # registered is not served: the store names its serving model
    assert MasteryService.for_curriculum(graph, ITEMS, registry=reg).model_version == \
        DEFAULT_VERSION
    svc = MasteryService.for_curriculum(graph, ITEMS, registry=reg, active=rec.key)
    assert svc.model_version == rec.key == "bkt-v1"
    assert svc.mastery_of(None)["add"] == pytest.approx(0.6)
    # a model trained on other content does not serve this curriculum
    other = BKTTracer().with_vocab(vocabulary_from_items(
        [Item("x", ItemKind.EXERCISE, "x", (SkillWeight("add"),))]))
    key = reg.register(other, name="other").key
    assert MasteryService.for_curriculum(graph, ITEMS, registry=reg, active=key
                                         ).model_version == DEFAULT_VERSION
    # nor does a key the registry lacks (another registry's model): logged, BKT defaults
    assert MasteryService.for_curriculum(graph, ITEMS, registry=reg, active="gone-v1"
                                         ).model_version == DEFAULT_VERSION


def test_state_encoding_round_trips() -> None:
    s = np.array([0.1, 0.25, 0.9])
    mark = Watermark(floor=(5, "a0"), recent=((7, "a2"), (7, "a3")))
    back_s, back_mark = decode_traced(encode_state(s, watermark=mark))
    assert np.array_equal(back_s, s) and back_mark == mark
    assert np.array_equal(decode_state(encode_state(s, watermark=mark)), s)
    torch = pytest.importorskip("torch")
    from tracing.serving import _neural_state_class

    NeuralState = _neural_state_class()  # noqa: N806

    ns = NeuralState((torch.ones(1, 4), torch.zeros(1, 4)), (np.arange(3.0),), 7)
    back = decode_state(encode_state(ns, watermark=Watermark()))
    assert back.n_seen == 7 and torch.equal(back.rnn[0], ns.rnn[0])
    assert np.array_equal(back.aux[0], ns.aux[0])


# --------------------------------------------------------------------------------------------
# watermarks: a retried batch completes tracing, and no answer is traced twice

PRIOR, LEARN, GUESS, SLIP = 0.3, 0.15, 0.2, 0.1  # the population defaults serving falls back to


def bkt_step(p: float, correct: bool) -> float:
    """P(mastered) after one answer, by hand: Bayes on the answer, then the learning step."""
    if correct:
        post = p * (1 - SLIP) / (p * (1 - SLIP) + (1 - p) * GUESS)
    else:
        post = p * SLIP / (p * SLIP + (1 - p) * (1 - GUESS))
    return post + (1 - post) * LEARN


class FailingOnce:
    """Makes ``obj.name`` raise on its first call, then behave."""

    def __init__(self, obj: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.real = getattr(obj, name)
        self.calls = 0
        monkeypatch.setattr(obj, name, self)

    def __call__(self, *a: Any, **kw: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("injected failure")
        return self.real(*a, **kw)


async def test_retry_after_failed_tracing_equals_one_clean_run(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await setup(store)
    svc = service(tmp_path)
    batch = [att("a2", "ann", "q1", 0.0, 2), att("a1", "ann", "q1", 1.0, 1)]
    result = await store.record_attempts(batch)
    FailingOnce(svc.tracer, "update", monkeypatch)
    with pytest.raises(RuntimeError, match="injected"):
        await svc.apply(store, batch, frozenset(result.stored))
    assert await store.load_tracer_states(["ann"], DEFAULT_VERSION) == [None]
    assert await store.mastery_of(["ann"]) == [[]]

    again = await store.record_attempts(batch)  # the client's retry: all duplicates now
    assert again.stored == () and set(again.duplicates) == {"a1", "a2"}
    out = await svc.apply(store, batch, frozenset(again.stored))
    expected = bkt_step(bkt_step(PRIOR, True), False)  # a1 then a2, in time order
    (row,) = out["ann"]
    assert row.skill_id == "add" and row.probability == pytest.approx(expected)
    (blob,) = await store.load_tracer_states(["ann"], DEFAULT_VERSION)
    assert blob is not None
    state, mark = decode_traced(blob)
    assert mark.newest == attempt_key(batch[0])
    assert mark.contains(attempt_key(batch[1])) and mark.contains(attempt_key(batch[0]))
    k = svc.vocab.skill_index("add")
    assert k is not None and svc.tracer.mastery(state)[k] == pytest.approx(expected)

    counted = Counting(store)  # a third try: nothing left to trace, nothing written
    assert await svc.apply(counted, batch, frozenset()) == {}
    assert dict(counted.calls) == {"load_tracer_records": 1}
    assert await store.load_tracer_states(["ann"], DEFAULT_VERSION) == [blob]


async def test_failed_state_write_is_completed_by_the_retry(
    store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """State and mastery are written in one transaction, so a failed write leaves neither,
    and the retry computes the same answer from the old state (not a second step on top)."""
    await setup(store)
    svc = service(tmp_path)
    batch = [att("a1", "ann", "q1", 1.0, 1)]
    await store.record_attempts(batch)
    counted = Counting(store)
    FailingOnce(counted, "save_traced", monkeypatch)
    with pytest.raises(RuntimeError, match="injected"):
        await svc.apply(counted, batch)
    assert await store.load_tracer_states(["ann"], DEFAULT_VERSION) == [None]
    assert await store.mastery_of(["ann"]) == [[]]
    out = await svc.apply(counted, batch, frozenset())
    assert out["ann"][0].probability == pytest.approx(bkt_step(PRIOR, True))
    (rows,) = await store.mastery_of(["ann"])
    assert [m.skill_id for m in rows] == ["add"]
    assert rows[0].probability == pytest.approx(bkt_step(PRIOR, True))


async def test_duplicates_already_traced_are_skipped_per_learner(
    store: Any, tmp_path: Path
) -> None:
    await setup(store)
    svc = service(tmp_path)
    first = [att("a1", "ann", "q1", 1.0, 1)]
    await store.record_attempts(first)
    await svc.apply(store, first, {"a1"})
    (ann_blob,) = await store.load_tracer_states(["ann"], DEFAULT_VERSION)
    # ann's a1 comes again beside bob's new answer: only bob is traced and written
    batch = [*first, att("b1", "bob", "q2", 1.0, 1)]
    result = await store.record_attempts(batch)
    assert result.stored == ("b1",)
    out = await svc.apply(store, batch, frozenset(result.stored))
    assert set(out) == {"bob"}
    assert out["bob"][0].probability == pytest.approx(bkt_step(PRIOR, True))
    assert await store.load_tracer_states(["ann"], DEFAULT_VERSION) == [ann_blob]


async def test_late_retry_behind_a_newer_batch(store: Any, tmp_path: Path) -> None:
    """Device 1 stores a1 (t=1) and fails to trace it; device 2 then records a2 (t=2). The
    retry of a1 is older than the newest attempt traced: with ``keep`` >= 1 the watermark
    knows a1 is not in the state and traces it; with ``keep=0`` (a bare watermark) it is
    assumed traced, the documented limit."""
    await setup(store)
    a1, a2 = att("a1", "ann", "q1", 1.0, 1), att("a2", "ann", "q1", 1.0, 2)
    b1, b2 = att("b1", "bob", "q1", 1.0, 1), att("b2", "bob", "q1", 1.0, 2)
    await store.record_attempts([a1, a2, b1, b2])
    tracer = service(tmp_path).tracer
    exact = MasteryService(tracer, "exact", ITEMS, keep=1)
    bare = MasteryService(tracer, "bare", ITEMS, keep=0)
    await exact.apply(store, [a2], {"a2"})  # device 2's batches
    await bare.apply(store, [b2], {"b2"})
    once = bkt_step(PRIOR, True)
    out = await exact.apply(store, [a1], frozenset())  # device 1's retry
    assert out["ann"][0].probability == pytest.approx(bkt_step(once, True))
    assert await bare.apply(store, [b1], frozenset()) == {}
    (blob,) = await store.load_tracer_states(["bob"], "bare")
    assert blob is not None and decode_traced(blob)[1] == Watermark(floor=attempt_key(b2))
    with pytest.raises(TracingError, match="keep=-1"):
        MasteryService(exact.tracer, "x", ITEMS, keep=-1)


async def test_states_saved_before_watermarks(store: Any, tmp_path: Path) -> None:
    """A bare LGS1 state (no watermark) still decodes; its duplicates are assumed traced,
    a new answer is traced and gives the state a watermark."""
    import io

    await setup(store)
    svc = service(tmp_path)
    k = svc.vocab.skill_index("add")
    assert k is not None
    old_state = np.asarray(svc.tracer.init_state(), dtype=float).copy()
    old_state[k] = 0.5
    buf = io.BytesIO()
    np.save(buf, old_state, allow_pickle=False)
    legacy = b"LGS1npy\n" + buf.getvalue()
    state, mark = decode_traced(legacy)
    assert np.array_equal(state, old_state) and mark == UNKNOWN
    assert np.array_equal(decode_state(legacy), old_state)

    old, new = att("a1", "ann", "q1", 1.0, 1), att("a2", "ann", "q1", 0.0, 2)
    await store.record_attempts([old, new])
    await store.save_tracer_states([("ann", DEFAULT_VERSION, legacy)])
    assert await svc.apply(store, [old], frozenset()) == {}  # assumed traced: not again
    out = await svc.apply(store, [old, new], {"a2"})
    assert out["ann"][0].probability == pytest.approx(bkt_step(0.5, False))
    (blob,) = await store.load_tracer_states(["ann"], DEFAULT_VERSION)
    assert blob is not None and decode_traced(blob)[1] == Watermark(floor=attempt_key(new))


def test_malformed_stored_states_are_refused_with_advice() -> None:
    good = encode_state(np.zeros(2), watermark=Watermark())
    with pytest.raises(TracingError, match="truncated"):
        decode_traced(good[:7])
    with pytest.raises(TracingError, match="malformed watermark"):
        decode_traced(b"LGS2\n" + (4).to_bytes(4, "big") + b"null" + good[good.index(b"LGS1"):])
    with pytest.raises(TracingError, match="unknown encoding"):
        decode_traced(b"nonsense")
    with pytest.raises(TracingError, match="malformed watermark.*equal-length"):
        Watermark.from_bytes(b'{"known":true,"floor":null,"us":[1,2],"ids":["a"]}')
    with pytest.raises(TracingError, match="malformed watermark"):
        Watermark.from_bytes(b'{"known":true,"floor":[true,"a"],"us":[],"ids":[]}')
    # the first LGS2 layout, keys as pairs, still reads
    assert Watermark.from_bytes(b'{"known":true,"floor":[1,"a"],"recent":[[2,"b"]]}') == \
        Watermark((1, "a"), ((2, "b"),))


def test_watermark_by_hand() -> None:
    k = [(t, f"a{t}") for t in range(6)]
    w = Watermark().add([k[3], k[1]], keep=2)
    assert w == Watermark(None, (k[1], k[3])) and w.newest == k[3]
    assert [w.contains(x) for x in k] == [False, True, False, True, False, False]
    w = w.add([k[4]], keep=2)  # k1 moves into the floor: k0 is now assumed traced
    assert w == Watermark(k[1], (k[3], k[4]))
    assert [w.contains(x) for x in k] == [True, True, False, True, True, False]
    assert w.add([k[0]], keep=2) == w  # at or below the floor: already covered
    assert Watermark().add([k[2]], keep=0) == Watermark(k[2])
    assert UNKNOWN.contains(k[5]) and UNKNOWN.newest is None
    assert UNKNOWN.add([k[2], k[4]]) == Watermark(k[4])
    with pytest.raises(TracingError, match="ascending"):
        Watermark(None, (k[2], k[1]))
    with pytest.raises(TracingError, match="above its floor"):
        Watermark(k[2], (k[2],))


keys = st.tuples(st.integers(-(10**15), 10**15), st.text("abc", min_size=1, max_size=3))


@given(batches=st.lists(st.lists(keys, max_size=6), max_size=8), keep=st.integers(0, 5),
       probe=st.lists(keys, max_size=10))
def test_watermark_properties(batches: list[list[tuple[int, str]]], keep: int,
                              probe: list[tuple[int, str]]) -> None:
    w = Watermark()
    added: set[tuple[int, str]] = set()
    for batch in batches:
        w = w.add(batch, keep=keep)
        added.update(batch)
        assert len(w.recent) <= keep
        assert Watermark.from_bytes(w.to_bytes()) == w
    assert all(w.contains(x) for x in added)  # never traced twice
    assert w.newest == (max(added) if added else None)
    for x in probe:  # exact above the floor: nothing is assumed there
        if x not in added and (w.floor is None or x > w.floor):
            assert not w.contains(x)


async def test_rebuilt_states_carry_their_watermark(store: Any, tmp_path: Path) -> None:
    from tracing.store_train import rebuild_states

    await setup(store)
    svc = service(tmp_path)
    history = [att("a1", "ann", "q1", 1.0, 1), att("a2", "ann", "q1", 0.0, 2)]
    await store.record_attempts(history)
    report = await rebuild_states(store, svc)
    assert (report.learners, report.attempts) == (1, 2)
    (blob,) = await store.load_tracer_states(["ann"], DEFAULT_VERSION)
    assert blob is not None
    state, mark = decode_traced(blob)
    assert mark == Watermark(None, (attempt_key(history[0]), attempt_key(history[1])))
    k = svc.vocab.skill_index("add")
    assert k is not None
    assert svc.tracer.mastery(state)[k] == pytest.approx(bkt_step(bkt_step(PRIOR, True), False))
    assert await svc.apply(store, history, frozenset()) == {}  # an old retry: already in


async def test_interrupted_seeding_is_completed_by_a_rerun(sqlite_store: Any,
                                                           tmp_path: Path) -> None:
    """``seed.populate`` stores a batch, then traces it: a run stopped in between (here,
    tracing fails) is finished by running it again, to the mastery of an uninterrupted run."""
    from graph.models import PrerequisiteGraph
    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate
    from seed.curriculum import demo_curriculum
    from seed.populate import populate
    from seed.population import PolicyParams, simulate_population

    cur = demo_curriculum()
    pop = simulate_population(cur, n_learners=6, seed=3, policy=PolicyParams(
        sessions_mean=2.0, items_min=3, items_max=5, class_size=3))
    graph = PrerequisiteGraph(tuple(cur.skills), tuple(cur.edges))

    def fresh_service() -> MasteryService:
        return MasteryService.for_curriculum(graph, cur.items, registry=Registry(tmp_path / "r"))

    async def mastery(store: Any) -> dict[tuple[str, str], float]:
        rows = await store.mastery_of([x.id for x in pop.learners])
        return {(m.learner_id, m.skill_id): m.probability for r in rows for m in r}

    broken = fresh_service()
    calls = {"n": 0}
    real = broken.apply

    async def fail_second_batch(store: Any, attempts: Any, fresh: Any = None) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("interrupted")
        return await real(store, attempts, fresh)

    broken.apply = fail_second_batch  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="interrupted"):
        await populate(sqlite_store, cur, pop, batch_size=10, mastery=broken)
    report = await populate(sqlite_store, cur, pop, batch_size=10, mastery=fresh_service())
    assert report.attempts_already == 20 and report.attempts_stored == len(pop.attempts) - 20

    clean = await SqliteStore.open(str(tmp_path / "clean.db"))
    try:
        await migrate(clean)
        await populate(clean, cur, pop, batch_size=10, mastery=fresh_service())
        expected = await mastery(clean)
    finally:
        await clean.close()
    assert len(pop.attempts) > 20 and await mastery(sqlite_store) == pytest.approx(expected)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[int, list[list[int]], list[tuple[int, bool]]]:
    """``n`` answers of one learner in time order, cut into batches; each batch is sent until
    its tracing succeeds (0-2 failed tries first) and maybe once more (the answer was lost on
    the way back), the sends of different batches interleaved in any order (several devices,
    late retries). Returns (keep, batches, sends) where a send is (batch index, tracing
    fails)."""
    n = draw(st.integers(1, 10))
    cuts = sorted(draw(st.sets(st.integers(1, n - 1), max_size=n - 1))) if n > 1 else []
    bounds = [0, *cuts, n]
    batches = [list(range(a, b)) for a, b in zip(bounds, bounds[1:], strict=False)]
    fails = [draw(st.integers(0, 2)) for _ in batches]
    extra = [draw(st.integers(0, 1)) for _ in batches]
    order = draw(st.permutations(
        [i for i, (f, e) in enumerate(zip(fails, extra, strict=True)) for _ in range(f + 1 + e)]))
    seen = [0] * len(batches)
    sends = []
    for i in order:
        seen[i] += 1
        sends.append((i, seen[i] <= fails[i]))  # the first fails[i] tries fail
    return draw(st.integers(0, 4)), batches, sends


@settings(max_examples=40, deadline=None)
@given(schedules())
def test_no_answer_is_traced_twice_whatever_the_retries(
    schedule: tuple[int, list[list[int]], list[tuple[int, bool]]]
) -> None:
    """Safety for every schedule: the final state is the in-order trace of a set of the
    answers (none twice, none out of time order). Completeness whenever the watermark
    remembers enough (``keep`` at least the number of answers): it is the in-order trace of
    all of them, however late its batch's successful retry comes. A failing try fails its
    write (``save_traced``), so answers arriving behind newer ones take the re-trace path
    too."""
    import asyncio
    from itertools import combinations

    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate

    keep, batches, sends = schedule
    n = sum(len(b) for b in batches)
    answers = [att(f"a{k}", "ann", "q1", float(k % 2), k) for k in range(n)]
    tracer = BKTTracer(prior=PRIOR, learn=LEARN, guess=GUESS, slip=SLIP).with_vocab(
        vocabulary_from_items(ITEMS, EDGES))
    svc = MasteryService(tracer, "v", ITEMS, keep=keep)
    fail = [False]
    final: list[float] = []

    class Flaky:
        def __init__(self, store: Any) -> None:
            self._store = store

        def __getattr__(self, name: str) -> Any:
            return getattr(self._store, name)

        async def save_traced(self, *a: Any) -> Any:
            if fail[0]:
                raise RuntimeError("injected")
            return await self._store.save_traced(*a)

    async def run() -> None:
        store = await SqliteStore.open(":memory:")
        try:
            await migrate(store)
            await setup(store, ("ann",))
            for i, failing in sends:
                batch = [answers[k] for k in batches[i]]
                result = await store.record_attempts(batch)
                fail[0] = failing
                try:
                    await svc.apply(Flaky(store), batch, frozenset(result.stored))
                except RuntimeError:
                    continue
            (blob,) = await store.load_tracer_states(["ann"], "v")
            k = svc.vocab.skill_index("add")
            assert blob is not None and k is not None
            final.append(float(tracer.mastery(decode_state(blob))[k]))
        finally:
            await store.close()

    asyncio.run(run())

    def in_order(ks: tuple[int, ...]) -> float:
        p = PRIOR
        for k in ks:
            p = bkt_step(p, bool(k % 2))
        return p

    if keep >= n:
        assert final[0] == pytest.approx(in_order(tuple(range(n))), abs=1e-12)
    else:
        assert any(final[0] == pytest.approx(in_order(ks), abs=1e-12)
                   for r in range(n + 1) for ks in combinations(range(n), r))
