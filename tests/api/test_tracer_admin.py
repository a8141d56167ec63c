"""``activateTracerModel``: an admin switches the store's serving tracer, safely, on both
stores, as a background job (``tracerActivation(id)`` reports it).

The seeded curriculum of ``tests/api/conftest.py`` has four graded items (i-add-1, i-add-2,
i-count, i-mul). Ada answers six questions right, Bo five mostly wrong, Cy none. Two small
models are trained on those answers through ``tracing.store_train`` (BKT first, so the store
adopts it with states rebuilt; then Elo), and the switch to Elo goes through GraphQL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.models import Attempt, Item, ItemKind, PrerequisiteGraph, SkillWeight
from tests.api.conftest import EDGES, ITEMS, SKILLS, T0, Api, ApiFactory
from tracing.bkt import BKTTracer
from tracing.data import vocabulary_from_items
from tracing.registry import Registry
from tracing.serving import MasteryService
from tracing.store_train import attempts_oldest_first, rebuild_for, train_from_store
from tracing.switch import can_serve, coverage

ACTIVATE = """mutation($key: String!) { activateTracerModel(key: $key) { __typename
  ... on TracerActivation { id modelVersion previousVersion state changed }
  ... on NotFoundError { message entity ids }
  ... on ValidationError { message field }
  ... on ForbiddenError { message } } }"""
JOB = """query($id: ID!) { tracerActivation(id: $id) { __typename id modelVersion
  previousVersion state progress message error changed rebuiltLearners replayedAttempts
  rebuildPasses missedAttempts finishedAt } }"""
RECORD = """mutation($a: [AttemptInput!]!) { recordAttempts(input: $a) { __typename
  ... on RecordAttemptsPayload { mastery { skill { key } probability modelVersion } }
  ... on Error { message } } }"""
MODELS = "{ tracerModels { key active } }"

# (learner, item, score): Ada right every time, Bo wrong but once
ANSWERS = [("ada", "i-add-1", 1.0), ("ada", "i-add-2", 1.0), ("ada", "i-add-1", 1.0),
           ("ada", "i-mul", 1.0), ("ada", "i-add-2", 1.0), ("ada", "i-mul", 1.0),
           ("bo", "i-add-1", 0.0), ("bo", "i-add-2", 0.0), ("bo", "i-mul", 0.0),
           ("bo", "i-add-1", 0.0), ("bo", "i-mul", 1.0)]


async def mastery(store: Any, learner: str) -> dict[str, Any]:
    """Skill id -> the learner's stored Mastery row."""
    (rows,) = await store.mastery_of([learner])
    return {r.skill_id: r for r in rows}


def registry(tmp_path: Path) -> Registry:
    """The registry the ``make_api`` fixture points $LEARNGRAPH_MODELS at."""
    return Registry(tmp_path / "models")


async def two_models(store: Any, reg: Registry) -> None:
    """Store the answers; train BKT (the first model: active, states rebuilt), then Elo."""
    await store.record_attempts([
        Attempt(f"a{n}", lid, item, score, T0 + timedelta(minutes=n))
        for n, (lid, item, score) in enumerate(ANSWERS)
    ])
    bkt, report = await train_from_store(store, "test", "bkt", registry=reg)
    assert (bkt.key, await store.serving_model(), report is not None) == (
        "bkt-v1", "bkt-v1", True)
    elo, report = await train_from_store(store, "test", "elo", registry=reg)
    assert (elo.key, await store.serving_model(), report) == ("elo-v1", "bkt-v1", None)


def defaults_over(items: list[Item]) -> BKTTracer:
    """An untrained BKT whose vocabulary holds exactly ``items``."""
    skills = [s.id for s in SKILLS]
    return BKTTracer().with_vocab(vocabulary_from_items(items, EDGES, skills))


async def replayed(store: Any, service: MasteryService, learner: str) -> dict[str, float]:
    """The learner's mastery replayed from the prior through all their stored answers."""
    state = service.tracer.init_state()
    for a in await attempts_oldest_first(store, learner):
        x = service.interaction(a)
        if x is not None:
            state = service.tracer.update(state, x)
    return service.mastery_of(state)


async def activate(api: Api, key: str, role: str = "admin") -> dict[str, Any]:
    """The mutation's answer: a job just started (or done at once), or a typed error."""
    body = await api.gql(ACTIVATE, {"key": key}, role=role)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["activateTracerModel"]
    return result


async def job(api: Api, job_id: str) -> dict[str, Any] | None:
    body = await api.gql(JOB, {"id": job_id}, role="admin")
    assert "errors" not in body, body
    result: dict[str, Any] | None = body["data"]["tracerActivation"]
    return result


async def switch(api: Api, key: str, role: str = "admin") -> dict[str, Any]:
    """Start the switch and wait for its job to end (the job's own task, no polling); returns
    the job as ``tracerActivation`` reports it, or the mutation's typed error."""
    started = await activate(api, key, role)
    if started["__typename"] != "TracerActivation":
        return started
    await api.services.mastery.jobs.wait(started["id"])
    final = await job(api, started["id"])
    assert final is not None
    return final


async def record(api: Api, attempt_id: str, learner: str, item: str, score: float
                 ) -> dict[str, Any]:
    body = await api.gql(RECORD, {"a": [{"attemptId": attempt_id, "learnerId": learner,
                                         "itemId": item, "score": score}]}, role="admin")
    result: dict[str, Any] = body["data"]["recordAttempts"]
    assert result["__typename"] == "RecordAttemptsPayload", body
    return result


async def test_switch_rebuilds_states_then_serves_the_new_model(
    api: Api, store: Any, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    await two_models(store, reg)
    before = await record(api, "warm", "bo", "i-add-1", 0.0)  # the server now holds bkt-v1
    assert {m["modelVersion"] for m in before["mastery"]} == {"bkt-v1"}

    result = await switch(api, "elo-v1")

    graded = len(ANSWERS) + 1
    assert result["finishedAt"] is not None
    del result["id"], result["finishedAt"]
    assert result == {
        "__typename": "TracerActivation", "modelVersion": "elo-v1",
        "previousVersion": "bkt-v1", "state": "SUCCEEDED", "progress": 1.0,
        "message": "serving elo-v1", "error": None, "changed": True, "rebuiltLearners": 2,
        "replayedAttempts": graded, "rebuildPasses": 1, "missedAttempts": 0,
    }
    assert await store.serving_model() == "elo-v1"
    listed = (await api.gql(MODELS, role="admin"))["data"]["tracerModels"]
    assert listed == [{"key": "bkt-v1", "active": False}, {"key": "elo-v1", "active": True}]

    # the stored states and mastery are Elo's, replayed from each learner's whole history
    _, elo = reg.load("elo-v1")
    service = MasteryService(elo, "elo-v1", ITEMS)
    blobs = await store.load_tracer_states(["ada", "bo", "cy"], "elo-v1")
    assert [b is not None for b in blobs] == [True, True, False]  # Cy has no answers
    prior = service.mastery_of(None)
    for learner in ("ada", "bo"):
        expected = await replayed(store, service, learner)
        rows = await mastery(store, learner)
        for skill in ("add", "mul"):
            assert rows[skill].model_version == "elo-v1"
            assert rows[skill].probability == pytest.approx(expected[skill], abs=1e-9)
    ada = {k: r.probability for k, r in (await mastery(store, "ada")).items()}
    bo = {k: r.probability for k, r in (await mastery(store, "bo")).items()}
    assert ada["add"] > prior["add"] + 0.05 and ada["add"] > bo["add"] + 0.1

    # the next answer is traced by Elo, continuing the rebuilt state (not the prior)
    after = await record(api, "next", "ada", "i-add-1", 1.0)
    expected = await replayed(store, service, "ada")
    got = {m["skill"]["key"]: m for m in after["mastery"]}
    assert got["add"]["modelVersion"] == "elo-v1"
    assert got["add"]["probability"] == pytest.approx(expected["add"], abs=1e-9)


async def test_activating_the_active_model_again_is_a_no_op(
    api: Api, store: Any, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    await two_models(store, reg)
    assert (await switch(api, "elo-v1"))["changed"] is True
    rows = await mastery(store, "ada")
    again = await activate(api, "elo-v1")  # done at once: nothing to wait for
    assert {k: again[k] for k in ("modelVersion", "previousVersion", "state", "changed")} == {
        "modelVersion": "elo-v1", "previousVersion": "elo-v1", "state": "SUCCEEDED",
        "changed": False}
    reported = await job(api, again["id"])
    assert reported is not None and reported["rebuiltLearners"] == 0
    assert await mastery(store, "ada") == rows, "a retry rebuilds nothing"
    assert await job(api, "no-such-job") is None


async def test_unknown_key_is_not_found_and_lists_the_known_keys(
    api: Api, store: Any, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    await two_models(store, reg)
    result = await activate(api, "gnn-v7")
    assert result["__typename"] == "NotFoundError"
    assert (result["entity"], result["ids"]) == ("tracerModel", ["gnn-v7"])
    assert "'gnn-v7'" in result["message"]
    assert "bkt-v1, elo-v1" in result["message"]
    assert await store.serving_model() == "bkt-v1"


async def test_a_model_of_another_curriculum_is_refused(
    api: Api, store: Any, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    await two_models(store, reg)
    other = [Item(f"x{n}", ItemKind.EXERCISE, "elsewhere", (SkillWeight("add"),))
             for n in range(5)]
    reg.register(defaults_over(other), name="other")
    result = await activate(api, "other-v1")
    assert result["__typename"] == "ValidationError"
    assert result["field"] == "key"
    assert "knows 0 of the curriculum's 4 graded items" in result["message"]
    assert await store.serving_model() == "bkt-v1"
    assert await store.load_tracer_states(["ada"], "other-v1") == [None], "nothing rebuilt"


async def test_half_the_graded_items_is_enough_one_quarter_is_not(
    api: Api, store: Any, tmp_path: Path
) -> None:
    """The boundary of the serving rule, and the server then serves the model it accepted
    (so the mutation's rule and ``MasteryService.for_curriculum``'s agree)."""
    reg = registry(tmp_path)
    await two_models(store, reg)
    by_id = {it.id: it for it in ITEMS}
    reg.register(defaults_over([by_id["i-add-1"]]), name="quarter")
    reg.register(defaults_over([by_id["i-add-1"], by_id["i-mul"]]), name="half")

    refused = await activate(api, "quarter-v1")
    assert refused["__typename"] == "ValidationError"
    assert "knows 1 of the curriculum's 4 graded items" in refused["message"]
    assert "at least half (2)" in refused["message"]

    accepted = await switch(api, "half-v1")
    assert (accepted["state"], accepted["rebuiltLearners"]) == ("SUCCEEDED", 2)
    served = await record(api, "half-1", "ada", "i-mul", 1.0)
    assert {m["modelVersion"] for m in served["mastery"]} == {"half-v1"}


@pytest.mark.parametrize("role", ["anonymous", "learner", "teacher", "designer"])
async def test_only_admins_switch(api: Api, store: Any, tmp_path: Path, role: str) -> None:
    reg = registry(tmp_path)
    await two_models(store, reg)
    result = await activate(api, "elo-v1", role=role)
    assert result["__typename"] == "ForbiddenError"
    assert "admin" in result["message"]
    assert await store.serving_model() == "bkt-v1"
    assert await store.load_tracer_states(["ada"], "elo-v1") == [None], "nothing rebuilt"


class FailingStates:
    """The store, except that saving tracer states fails (a store outage mid-rebuild)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def save_tracer_states(self, rows: Any) -> None:
        raise RuntimeError("disk full")


async def test_a_failed_rebuild_leaves_the_old_model_serving(
    make_api: ApiFactory, store: Any, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    failing = await make_api(wrap=FailingStates)
    await two_models(store, reg)
    result = await switch(failing, "elo-v1")
    assert (result["state"], result["changed"]) == ("FAILED", True)
    assert result["error"] == "disk full; the served model is unchanged"
    assert await store.serving_model() == "bkt-v1"

    healthy = await make_api()
    served = await record(healthy, "still-bkt", "ada", "i-add-1", 1.0)
    assert {m["modelVersion"] for m in served["mastery"]} == {"bkt-v1"}
    retried = await switch(healthy, "elo-v1")  # the retry completes the switch
    assert (retried["state"], await store.serving_model()) == ("SUCCEEDED", "elo-v1")


async def test_a_switch_made_elsewhere_is_picked_up_without_a_restart(
    api: Api, store: Any, tmp_path: Path
) -> None:
    """What `learngraph trace rebuild --key elo-v1` + `trace activate elo-v1` do from another
    process: the running server serves Elo at its next answer."""
    reg = registry(tmp_path)
    await two_models(store, reg)
    assert {m["modelVersion"] for m in (await record(api, "w", "ada", "i-mul", 1.0))["mastery"]
            } == {"bkt-v1"}
    updater = api.services.mastery
    cached = await updater._current()
    reg.register(defaults_over(list(ITEMS)), name="spare")  # the index changes, not the model
    assert await updater._current() is cached, "no reload while the active model is the same"

    await rebuild_for(store, registry=Registry(reg.root), key="elo-v1")
    await store.set_serving_model("elo-v1")
    served = await record(api, "after", "ada", "i-add-2", 1.0)
    assert {m["modelVersion"] for m in served["mastery"]} == {"elo-v1"}
    assert await updater._current() is not cached


async def test_switching_back_to_population_defaults(
    api: Api, store: Any, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    await two_models(store, reg)
    result = await switch(api, "bkt-default")
    assert (result["modelVersion"], result["previousVersion"], result["changed"],
            result["rebuiltLearners"]) == ("bkt-default", "bkt-v1", True, 2)
    assert await store.serving_model() is None
    listed = (await api.gql(MODELS, role="admin"))["data"]["tracerModels"]
    assert [m["active"] for m in listed] == [False, False]
    served = await record(api, "dflt", "ada", "i-add-1", 1.0)
    assert {m["modelVersion"] for m in served["mastery"]} == {"bkt-default"}
    assert (await activate(api, "bkt-default"))["changed"] is False


class AnswersArrive:
    """The store, with a new answer by Ada recorded (as by a concurrent request) just before
    each of the first ``times`` saves of tracer states, i.e. in the middle of a rebuild."""

    def __init__(self, store: Any, times: int) -> None:
        self._store = store
        self.left = times
        self.sent = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def save_tracer_states(self, rows: Any) -> None:
        if self.left > 0:
            self.left -= 1
            self.sent += 1
            n = 100 + self.sent  # each later than the one before
            await self._store.record_attempts(
                [Attempt(f"late{n}", "ada", "i-add-2", 0.0, T0 + timedelta(hours=n))])
        await self._store.save_tracer_states(rows)


@pytest.mark.parametrize(("arrivals", "passes", "missed"), [(1, 2, 0), (5, 3, 1)])
async def test_answers_during_the_rebuild_are_caught_up(
    make_api: ApiFactory, store: Any, tmp_path: Path, arrivals: int, passes: int, missed: int
) -> None:
    """One answer during the first pass: a second pass includes it. Answers during every
    pass: three passes, then the switch goes ahead and says how many answers it lacks."""
    reg = registry(tmp_path)
    await two_models(store, reg)
    api = await make_api(wrap=lambda s: AnswersArrive(s, arrivals))
    result = await switch(api, "elo-v1")
    assert (result["changed"], result["rebuildPasses"], result["missedAttempts"]) == (
        True, passes, missed)
    assert await store.serving_model() == "elo-v1"
    _, elo = reg.load("elo-v1")
    service = MasteryService(elo, "elo-v1", ITEMS)
    history = await attempts_oldest_first(store, "ada")
    assert len(history) == 6 + min(arrivals, passes)
    stored = (await mastery(store, "ada"))["add"].probability
    if missed == 0:  # the new state holds every answer
        assert stored == pytest.approx((await replayed(store, service, "ada"))["add"], abs=1e-9)
    else:  # it lacks exactly the last one
        state = elo.init_state()
        for a in history[:-1]:
            x = service.interaction(a)
            if x is not None:
                state = elo.update(state, x)
        assert stored == pytest.approx(service.mastery_of(state)["add"], abs=1e-9)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_graded=st.integers(1, 9), n_lessons=st.integers(0, 3), data=st.data())
def test_the_switch_accepts_exactly_the_models_serving_would_load(
    tmp_path_factory: pytest.TempPathFactory, n_graded: int, n_lessons: int, data: st.DataObject
) -> None:
    """For a model knowing any subset of a curriculum's graded items (plus items from
    elsewhere), the mutation's rule accepts it exactly when ``MasteryService.for_curriculum``
    would serve it as the active model rather than fall back to the default BKT."""
    graded = [Item(f"g{n}", ItemKind.EXERCISE, "q", (SkillWeight("add"),))
              for n in range(n_graded)]
    lessons = [Item(f"l{n}", ItemKind.LESSON, "read") for n in range(n_lessons)]  # no skills
    known = data.draw(st.lists(st.sampled_from(graded), unique_by=lambda it: it.id))
    foreign = [Item(f"x{n}", ItemKind.EXERCISE, "q", (SkillWeight("add"),))
               for n in range(data.draw(st.integers(0 if known else 1, 3)))]
    tracer = defaults_over(known + foreign)
    reg = Registry(tmp_path_factory.mktemp("models"))
    rec = reg.register(tracer, name="m")
    items = graded + lessons
    served = MasteryService.for_curriculum(
        PrerequisiteGraph(tuple(SKILLS), tuple(EDGES)), items, registry=reg, active=rec.key)
    vocab = tracer.vocab
    assert vocab is not None
    assert coverage(vocab, items) == (len(known), n_graded)
    assert can_serve(*coverage(vocab, items)) == (served.model_version == rec.key)


async def test_an_unreadable_model_file_is_refused_and_the_old_model_kept(
    api: Api, store: Any, tmp_path: Path
) -> None:
    reg = registry(tmp_path)
    await two_models(store, reg)
    (reg.root / reg.get("elo-v1").file).write_text("not a model")
    result = await activate(api, "elo-v1")
    assert result["__typename"] == "ValidationError" and result["field"] == "key"
    assert "elo-v1" in result["message"] and "unchanged" in result["message"]
    assert await store.serving_model() == "bkt-v1"
    served = await record(api, "kept", "ada", "i-add-1", 1.0)
    assert {m["modelVersion"] for m in served["mastery"]} == {"bkt-v1"}


class SlowRebuild:
    """The store, except that each save of tracer states (the rebuild's writes) waits for
    ``go``: a rebuild as long as the test wants, as on a real store with many learners."""

    def __init__(self, store: Any) -> None:
        import asyncio

        self._store = store
        self.go = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def save_tracer_states(self, rows: Any) -> None:
        await self.go.wait()
        await self._store.save_tracer_states(rows)


async def test_the_mutation_answers_before_the_rebuild_and_the_job_reports_it(
    make_api: ApiFactory, store: Any, tmp_path: Path
) -> None:
    """Before, the mutation returned only after the whole rebuild, so over HTTP it timed out
    on any real store. Now it answers with a running job at once; the job's record (in the
    store, so any server process answers for it) moves to succeeded when the rebuild ends."""
    reg = registry(tmp_path)
    await two_models(store, reg)
    slow: list[SlowRebuild] = []
    api = await make_api(wrap=lambda s: slow.append(SlowRebuild(s)) or slow[-1])
    started = await activate(api, "elo-v1")
    assert (started["__typename"], started["state"], started["previousVersion"]) == (
        "TracerActivation", "RUNNING", "bkt-v1")
    running = await job(api, started["id"])
    assert running is not None and running["state"] == "RUNNING"
    assert running["finishedAt"] is None and running["error"] is None
    assert await store.serving_model() == "bkt-v1", "served unchanged while it rebuilds"
    served = await record(api, "meanwhile", "bo", "i-add-1", 1.0)
    assert {m["modelVersion"] for m in served["mastery"]} == {"bkt-v1"}
    # the same switch again is the same job; another one is refused while it runs
    assert (await activate(api, "elo-v1"))["id"] == started["id"]
    other = await activate(api, "bkt-default")
    assert other["__typename"] == "ValidationError"
    assert "a switch to 'elo-v1' is running" in other["message"]

    slow[0].go.set()
    await api.services.mastery.jobs.wait(started["id"])
    done = await job(api, started["id"])
    assert done is not None
    assert (done["state"], done["progress"], done["rebuiltLearners"]) == ("SUCCEEDED", 1.0, 2)
    assert done["finishedAt"] is not None
    assert await store.serving_model() == "elo-v1"
    after = await record(api, "after", "bo", "i-add-1", 1.0)
    assert {m["modelVersion"] for m in after["mastery"]} == {"elo-v1"}


async def test_two_stores_on_one_registry_keep_their_own_model(
    api: Api, store: Any, tmp_path: Path
) -> None:
    """Before, the active model lived in the registry directory: switching one store switched
    every store served from it, without rebuilding their learners."""
    from api.services import MasteryUpdater
    from graph.sqlite_store import SqliteStore
    from migrations.runner import migrate
    from tests.api.conftest import seed as seed_store

    reg = registry(tmp_path)
    await two_models(store, reg)
    other = await SqliteStore.open(str(tmp_path / "other.db"))
    try:
        await migrate(other)
        await seed_store(other)
        before = await MasteryUpdater(other, registry=reg)._current()
        assert before.model_version == "bkt-default"
        assert (await switch(api, "elo-v1"))["state"] == "SUCCEEDED"
        assert await store.serving_model() == "elo-v1"
        assert await other.serving_model() is None
        after = await MasteryUpdater(other, registry=reg)._current()
        assert after.model_version == "bkt-default"
        listed = (await api.gql(MODELS, role="admin"))["data"]["tracerModels"]
        assert listed == [{"key": "bkt-v1", "active": False}, {"key": "elo-v1", "active": True}]
    finally:
        await other.close()
