"""Training from a store's own attempts, serving the result, and the one rebuild per switch.

A tiny curriculum: skills add -> mul, plus "frac" that no item assesses; items q1 (add),
q2 (mul), q3 (add, mul), q4 (mul, never answered), v1 (a video, no skills). Three learners,
one of them with no answers. The GNN is kept small (8-wide, 2 epochs) so a test takes ~1 s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from api.cli import main
from graph.models import (
    Attempt,
    Item,
    ItemKind,
    Learner,
    Prerequisite,
    Skill,
    SkillWeight,
)
from tracing.base import TracingError
from tracing.registry import Registry
from tracing.serving import MasteryService, decode_state
from tracing.store_train import (
    attempts_oldest_first,
    public_url,
    read_store,
    rebuild_for,
    train_from_store,
)

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
ACTOR = "designer-1"
SKILLS = [Skill("add", "Addition"), Skill("mul", "Multiplication"), Skill("frac", "Fractions")]
EDGES = [Prerequisite("add", "mul")]
ITEMS = [
    Item("q1", ItemKind.EXERCISE, "1+1", (SkillWeight("add"),)),
    Item("q2", ItemKind.EXERCISE, "2*3", (SkillWeight("mul"),)),
    Item("q3", ItemKind.EXERCISE, "2*3+1", (SkillWeight("add"), SkillWeight("mul"))),
    Item("q4", ItemKind.EXERCISE, "4*4", (SkillWeight("mul"),)),
    Item("v1", ItemKind.VIDEO, "intro"),
]
SMALL = {"embed_dim": 8, "hidden_size": 8, "max_epochs": 2, "batch_size": 4,
         "valid_fraction": 0.3, "patience": 1}
# (learner, item, score, minute); given out of time order on purpose
ANSWERS = [("ann", "q3", 1.0, 4), ("ann", "q1", 0.0, 0), ("ann", "q1", 1.0, 1),
           ("ann", "q2", 1.0, 2), ("ann", "v1", 1.0, 3),
           ("bob", "q2", 0.0, 0), ("bob", "q1", 1.0, 1), ("bob", "q2", 1.0, 2)]


def attempts() -> list[Attempt]:
    return [Attempt(f"{lid}-{n}", lid, item, score, T0 + timedelta(minutes=m))
            for n, (lid, item, score, m) in enumerate(ANSWERS)]


async def seeded(store: Any) -> Any:
    await store.upsert_skills(SKILLS, actor=ACTOR)
    await store.upsert_prerequisites(EDGES, actor=ACTOR)
    await store.upsert_items(ITEMS, actor=ACTOR)
    await store.upsert_learners([Learner(x, x) for x in ("ann", "bob", "cyd")])
    await store.record_attempts(attempts())
    return store


def replayed_mastery(service: MasteryService, learner: str) -> dict[str, float]:
    """The learner's mastery by replaying their answers, oldest first, from the prior."""
    tracer = service.tracer
    state = tracer.init_state()
    for a in sorted((a for a in attempts() if a.learner_id == learner),
                    key=lambda a: a.timestamp):
        x = service.interaction(a)
        if x is not None:
            state = tracer.update(state, x)
    return service.mastery_of(state)


async def test_trained_gnn_covers_the_curriculum_and_becomes_the_served_model(
    store: Any, tmp_path: Path
) -> None:
    await seeded(store)
    reg = Registry(tmp_path / "models")
    rec, report = await train_from_store(store, "sqlite:///x.db", "gnn", params=SMALL,
                                         registry=reg, activate=True, page=2)
    assert rec.model == "gnn" and rec.key == "gnn-v1"
    _, model = reg.load(rec.key)
    vocab = model.vocab
    # every item tagged with skills, answered or not (q4), and every skill (frac has no item)
    assert sorted(vocab.item_ids) == ["q1", "q2", "q3", "q4"]
    assert sorted(vocab.skill_ids) == ["add", "frac", "mul"]
    assert vocab.prerequisites == ((vocab.skill_index("add"), vocab.skill_index("mul")),)
    # the video answer is counted as skipped, not trained on
    assert rec.data["n_train"] == 7 and rec.data["n_skipped"] == 1
    assert rec.data["n_train_learners"] == 2 and rec.data["n_learners"] == 3
    assert rec.data["n_items_answered"] == 3 and rec.data["db"] == "sqlite:///x.db"
    assert rec.metrics["train_seconds"] > 0
    assert 0.0 <= rec.metrics.get("valid_auc", 0.0) <= 1.0

    assert await store.serving_model() == rec.key
    graph = await store.prerequisite_graph()
    service = MasteryService.for_curriculum(graph, ITEMS, registry=reg, active=rec.key)
    assert service.model_version == rec.key and service.tracer.name == "gnn"

    assert report is not None
    assert (report.model_version, report.learners, report.attempts) == (rec.key, 2, 7)
    ann, bob, cyd = await store.mastery_of(["ann", "bob", "cyd"])
    assert cyd == []
    assert {m.model_version for m in ann + bob} == {rec.key}
    assert [m.skill_id for m in ann] == ["add", "mul"] and [m.skill_id for m in bob] == [
        "add", "mul"]
    # the stored rows and states are those of replaying the history through the served model
    expected = replayed_mastery(service, "ann")
    assert {m.skill_id: m.probability for m in ann} == pytest.approx(
        {k: expected[k] for k in ("add", "mul")}, abs=1e-6)
    blobs = await store.load_tracer_states(["ann", "bob", "cyd"], rec.key)
    assert blobs[2] is None
    assert service.mastery_of(blobs[0]) == pytest.approx(expected, abs=1e-6)


async def test_after_the_rebuild_a_new_answer_continues_the_saved_state(
    sqlite_store: Any, tmp_path: Path
) -> None:
    store = await seeded(sqlite_store)
    reg = Registry(tmp_path / "models")
    rec, _ = await train_from_store(store, "sqlite:///x.db", "gnn", params=SMALL,
                                    registry=reg, activate=True)
    service = MasteryService.for_curriculum(await store.prerequisite_graph(), ITEMS,
                                            registry=reg, active=await store.serving_model())
    assert service.model_version == rec.key
    new = Attempt("bob-new", "bob", "q4", 1.0, T0 + timedelta(minutes=9))
    await store.record_attempts([new])
    out = await service.apply(store, [new])  # loads bob's rebuilt state: no replay
    state = service.tracer.init_state()
    for a in sorted([*(a for a in attempts() if a.learner_id == "bob"), new],
                    key=lambda a: a.timestamp):
        x = service.interaction(a)
        assert x is not None
        state = service.tracer.update(state, x)
    expected = service.mastery_of(state)
    assert [(m.skill_id, m.model_version) for m in out["bob"]] == [("mul", rec.key)]
    assert out["bob"][0].probability == pytest.approx(expected["mul"], abs=1e-6)


async def test_rebuild_is_idempotent_and_can_target_a_model(sqlite_store: Any,
                                                             tmp_path: Path) -> None:
    store = await seeded(sqlite_store)
    reg = Registry(tmp_path / "models")
    first_rec, report = await train_from_store(store, "sqlite:///x.db", "gnn", params=SMALL,
                                               registry=reg)
    # without activate a store with no serving model adopts the first one, so it is rebuilt
    assert report is not None and report.model_version == first_rec.key
    rec, report = await train_from_store(store, "sqlite:///x.db", "gnn", params=SMALL,
                                         registry=reg)
    assert report is None and rec.key == "gnn-v2"  # not active: nothing rebuilt
    assert await store.serving_model() == first_rec.key
    assert await store.load_tracer_states(["ann"], rec.key) == [None]
    first = await rebuild_for(store, registry=reg, key=rec.key)
    blobs1 = await store.load_tracer_states(["ann", "bob"], rec.key)
    await store.set_serving_model(rec.key)
    second = await rebuild_for(store, registry=reg)  # the served model: the same one
    blobs2 = await store.load_tracer_states(["ann", "bob"], rec.key)
    assert first.model_version == second.model_version == rec.key
    assert (first.learners, first.attempts) == (second.learners, second.attempts) == (2, 7)
    for b1, b2 in zip(blobs1, blobs2, strict=True):
        assert b1 is not None and b2 is not None
        s1, s2 = decode_state(b1), decode_state(b2)
        assert s1.n_seen == s2.n_seen
        for t1, t2 in zip(s1.rnn, s2.rnn, strict=True):
            assert np.allclose(t1.numpy(), t2.numpy())


async def test_attempt_pages_are_joined_oldest_first(sqlite_store: Any) -> None:
    store = await seeded(sqlite_store)
    got = await attempts_oldest_first(store, "ann", page=2)
    assert [a.attempt_id for a in got] == ["ann-1", "ann-2", "ann-3", "ann-4", "ann-0"]
    data = (await read_store(store, page=1)).data
    assert data.learner_ids == ["ann", "bob"]
    ann_items = [data.vocab.item_ids[x.item] for x in data.sequences[0]]
    assert ann_items == ["q1", "q1", "q2", "q3"]
    assert [x.correct for x in data.sequences[0]] == [0, 1, 1, 1]


async def test_a_store_without_answers_is_refused_by_name(sqlite_store: Any,
                                                          tmp_path: Path) -> None:
    await sqlite_store.upsert_skills(SKILLS, actor=ACTOR)
    await sqlite_store.upsert_items(ITEMS, actor=ACTOR)
    with pytest.raises(TracingError, match="no attempts on items tagged with skills"):
        await train_from_store(sqlite_store, "sqlite:///empty.db", "gnn", params=SMALL,
                               registry=Registry(tmp_path))
    assert Registry(tmp_path).list() == []


async def test_a_store_without_tagged_items_is_refused(sqlite_store: Any,
                                                       tmp_path: Path) -> None:
    with pytest.raises(TracingError, match="no items tagged with skills"):
        await train_from_store(sqlite_store, "sqlite:///empty.db", "gnn",
                               registry=Registry(tmp_path))


def test_public_url_drops_only_the_password() -> None:
    assert public_url("bolt://neo4j:s3cret@db.example:7687/x") == "bolt://neo4j@db.example:7687/x"
    assert public_url("sqlite:///./learngraph.db") == "sqlite:///./learngraph.db"
    assert public_url("bolt://db:7687") == "bolt://db:7687"


async def serving_model_of(url: str) -> str | None:
    from graph.open import open_store

    store = await open_store(url)
    try:
        return await store.serving_model()
    finally:
        await store.close()


async def test_cli_trains_from_db_activates_and_rebuilds(
    sqlite_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seeded(sqlite_store)
    url = f"sqlite:///{sqlite_store.path}"
    await sqlite_store.close()  # the command opens the file itself
    models = tmp_path / "models"
    monkeypatch.setenv("LEARNGRAPH_MODELS", str(models))
    small = [a for k, v in SMALL.items() if k != "max_epochs"
             for a in ("--param", f"{k}={v}")]
    code = await _run(["trace", "train", "--model", "gnn", "--db", url, "--activate",
                       "--epochs", "1", "--seed", "3", *small])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "gnn epoch 1" in err and "rebuilt 2 learners" in err  # progress on stderr
    assert "registered gnn-v1" in out and "active model: gnn-v1" in out
    assert await serving_model_of(url) == "gnn-v1"
    rec = Registry(models).get("gnn-v1")
    assert rec.seed == 3
    assert rec.data["params"]["max_epochs"] == 1

    code = await _run(["trace", "rebuild", "--db", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "rebuilt 2 learners' state and mastery under gnn-v1 (7 answers replayed" in out


async def test_cli_activate_rebuilds_the_store_before_switching(
    sqlite_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seeded(sqlite_store)
    path = sqlite_store.path
    url = f"sqlite:///{path}"
    await sqlite_store.close()
    models = tmp_path / "models"
    monkeypatch.setenv("LEARNGRAPH_MODELS", str(models))
    for kind in ("elo", "bkt"):  # a store with no serving model adopts the first one
        assert await _run(["trace", "train", "--model", kind, "--db", url]) == 0
    capsys.readouterr()
    assert await serving_model_of(url) == "elo-v1"

    code = await _run(["trace", "activate", "bkt-v1", "--db", url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "active model: bkt-v1 (was elo-v1; rebuilt 2 learners, 7 answers replayed" in out
    assert await serving_model_of(url) == "bkt-v1"
    from graph.sqlite_store import SqliteStore

    store = await SqliteStore.open(path)
    try:  # the states the server will read exist under the new version, from the history
        ann, bob, cyd = await store.load_tracer_states(["ann", "bob", "cyd"], "bkt-v1")
        assert ann is not None and bob is not None and cyd is None
        rows = {r.skill_id: r for r in (await store.mastery_of(["ann"]))[0]}
        assert {r.model_version for r in rows.values()} == {"bkt-v1"}
        _, tracer = Registry(models).load("bkt-v1")
        expected = replayed_mastery(MasteryService(tracer, "bkt-v1", ITEMS), "ann")
        assert rows["add"].probability == pytest.approx(expected["add"])
    finally:
        await store.close()

    assert await _run(["trace", "activate", "bkt-v1", "--db", url]) == 0
    assert "already active; nothing rebuilt" in capsys.readouterr().out
    assert await _run(["trace", "activate", "zzz-v9", "--db", url]) == 2
    assert "no tracer model 'zzz-v9'" in capsys.readouterr().err
    assert await _run(["trace", "activate", "elo-v1", "--db", url, "--no-rebuild"]) == 0
    assert await serving_model_of(url) == "elo-v1"  # switched, states as they are


async def test_cli_refuses_conflicting_or_missing_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text("learner_id,item_id,skill_ids,correct,timestamp\nl,i,s,1,0\n")
    cases = [
        (["--model", "gnn", "--db", "sqlite:///x.db", "--train", str(log)],
         "--train cannot be combined with --db"),
        (["--model", "gnn"], "needs --train PATH (a log file) or --db URL"),
        (["--model", "bkt", "--train", str(log), "--epochs", "2"],
         "--epochs applies to the neural models"),
        (["--model", "gnn", "--db", "sqlite:///x.db", "--epochs", "0"], "--epochs 0"),
    ]
    for argv, message in cases:
        code = await _run(["trace", "train", "--registry", str(tmp_path / "m"), *argv])
        assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


async def _run(argv: list[str]) -> int:
    """``main`` runs its own event loop: call it from a worker thread of this test's loop."""
    import asyncio

    return await asyncio.to_thread(main, argv)
