"""recordAttempts: batch, idempotent on attemptId, mastery updated and published."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.limits import Limits
from api.pubsub import mastery_topic
from tests.api.conftest import Api, ApiFactory
from tests.patience import PATIENCE_S
from tracing.bkt import BKTTracer
from tracing.serving import decode_traced

RECORD = """mutation($input: [AttemptInput!]!) {
  recordAttempts(input: $input) {
    __typename
    ... on Error { message }
    ... on ValidationError { field }
    ... on NotFoundError { entity ids }
    ... on AttemptConflictError { attemptIds }
    ... on RecordAttemptsPayload {
      storedIds duplicateIds
      attempts { attemptId score correct timestamp item { key } }
      mastery { probability modelVersion skill { key } }
    }
  }
}"""


def attempt(aid: str, item: str, score: float, minute: int, learner: str = "ada") -> dict[str, Any]:
    return {
        "attemptId": aid,
        "learnerId": learner,
        "itemId": item,
        "score": score,
        "timestamp": f"2024-05-02T10:{minute:02d}:00+00:00",
    }


async def record(api: Api, attempts: list[dict[str, Any]], role: str = "learner") -> Any:
    body = await api.gql(RECORD, {"input": attempts}, role=role)
    assert "errors" not in body, body
    return body["data"]["recordAttempts"]


async def test_record_updates_mastery_and_is_idempotent(api: Api) -> None:
    batch = [attempt("a1", "i-add-1", 1.0, 1), attempt("a2", "i-count", 1.0, 2)]
    first = await record(api, batch)
    assert first["__typename"] == "RecordAttemptsPayload", first
    assert first["storedIds"] == ["a1", "a2"] and first["duplicateIds"] == []
    assert [a["item"]["key"] for a in first["attempts"]] == ["i-add-1", "i-count"]
    assert first["attempts"][0]["correct"] is True
    touched = {m["skill"]["key"]: m for m in first["mastery"]}
    assert set(touched) == {"add", "count"}
    assert all(m["modelVersion"] == "bkt-default" for m in touched.values())
    assert all(0.3 < m["probability"] <= 1 for m in touched.values()), "right answers raise it"

    retry = await record(api, batch)
    assert retry["storedIds"] == [] and retry["duplicateIds"] == ["a1", "a2"]
    assert retry["mastery"] == [], "a retry is not applied twice"
    body = await api.gql(
        '{ learner(id: "ada") { attempts { nodes { attemptId } } '
        "mastery { probability skill { key } } } }",
        role="learner",
    )
    learner = body["data"]["learner"]
    assert [a["attemptId"] for a in learner["attempts"]["nodes"]] == ["a2", "a1"], "newest first"
    stored = {m["skill"]["key"]: m["probability"] for m in learner["mastery"]}
    assert stored["add"] == touched["add"]["probability"]


async def test_wrong_answers_lower_mastery(api: Api) -> None:
    right = await record(api, [attempt("r1", "i-mul", 1.0, 1, "ada")], role="admin")
    wrong = await record(api, [attempt("w1", "i-mul", 0.0, 1, "bo")], role="admin")
    p_right = {m["skill"]["key"]: m["probability"] for m in right["mastery"]}
    p_wrong = {m["skill"]["key"]: m["probability"] for m in wrong["mastery"]}
    assert p_wrong["mul"] < p_right["mul"]


async def test_conflicts_and_errors_write_nothing(api: Api) -> None:
    await record(api, [attempt("a1", "i-add-1", 1.0, 1)])
    conflict = await record(api, [attempt("a1", "i-add-1", 0.0, 1)])
    assert conflict == {
        "__typename": "AttemptConflictError",
        "message": conflict["message"],
        "attemptIds": ["a1"],
    }
    unknown = await record(api, [attempt("a9", "i-nope", 1.0, 3)])
    assert unknown["__typename"] == "NotFoundError" and unknown["ids"] == ["i-nope"]
    bad_score = await record(
        api, [attempt("a8", "i-add-1", 1.0, 3), attempt("a7", "i-add-1", 1.5, 4)]
    )
    assert bad_score["__typename"] == "ValidationError" and bad_score["field"] == "input[1].score"
    twice = await record(api, [attempt("b1", "i-add-1", 1.0, 3), attempt("b1", "i-add-2", 1.0, 3)])
    assert twice["__typename"] == "ValidationError" and "appears twice" in twice["message"]
    future = await record(
        api, [dict(attempt("f1", "i-add-1", 1.0, 1), timestamp="2999-01-01T00:00:00Z")]
    )
    assert future["field"] == "input[0].timestamp"
    empty = await record(api, [])
    assert empty["field"] == "input"
    body = await api.gql(
        '{ learner(id: "ada") { attempts { nodes { attemptId } } } }', role="learner"
    )
    assert [a["attemptId"] for a in body["data"]["learner"]["attempts"]["nodes"]] == ["a1"]


async def test_batch_limit(make_api: ApiFactory) -> None:
    api = await make_api(Limits(max_batch=3))
    many = [attempt(f"m{i}", "i-add-1", 1.0, i) for i in range(4)]
    result = await record(api, many)
    assert result["__typename"] == "ValidationError" and "at most 3" in result["message"]


async def test_access(api: Api) -> None:
    other = await record(api, [attempt("x1", "i-add-1", 1.0, 1, learner="bo")])
    assert other["__typename"] == "ForbiddenError"
    teacher = await record(api, [attempt("x2", "i-add-1", 1.0, 1)], role="teacher")
    assert teacher["__typename"] == "ForbiddenError"
    anonymous = await record(api, [attempt("x3", "i-add-1", 1.0, 1)], role="anonymous")
    assert anonymous["__typename"] == "ForbiddenError"
    mixed = await record(
        api, [attempt("x4", "i-add-1", 1.0, 1), attempt("x5", "i-add-1", 1.0, 1, "bo")]
    )
    assert mixed["__typename"] == "ForbiddenError"
    body = await api.gql(
        '{ learner(id: "ada") { attempts { nodes { attemptId } } } }', role="learner"
    )
    assert body["data"]["learner"]["attempts"]["nodes"] == []


async def test_mastery_changed_is_published(api: Api) -> None:
    async with api.services.pubsub.subscribe(mastery_topic("ada")) as messages:
        result = await record(api, [attempt("p1", "i-add-2", 1.0, 5)])
        rows = await asyncio.wait_for(anext(messages), PATIENCE_S)
    assert [r.skill_id for r in rows] == ["add"]
    assert rows[0].probability == result["mastery"][0]["probability"]


async def test_attempt_pages_follow_cursors(api: Api) -> None:
    await record(api, [attempt(f"q{i:02d}", "i-add-1", float(i % 2), i) for i in range(7)])
    seen: list[str] = []
    after = None
    while True:
        body = await api.gql(
            'query($after: String) { learner(id: "ada") { attempts(first: 3, after: $after) { '
            "edges { cursor node { attemptId } } pageInfo { hasNextPage endCursor } } } }",
            {"after": after},
            role="learner",
        )
        conn = body["data"]["learner"]["attempts"]
        seen += [e["node"]["attemptId"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [f"q{i:02d}" for i in reversed(range(7))]
    # resuming from an edge's cursor continues right after that edge
    body = await api.gql(
        '{ learner(id: "ada") { attempts(first: 3) { edges { cursor } } } }', role="learner"
    )
    second = body["data"]["learner"]["attempts"]["edges"][1]["cursor"]
    body = await api.gql(
        'query($a: String) { learner(id: "ada") { attempts(first: 2, after: $a) { '
        "nodes { attemptId } } } }",
        {"a": second},
        role="learner",
    )
    assert [n["attemptId"] for n in body["data"]["learner"]["attempts"]["nodes"]] == ["q04", "q03"]


async def test_payload_recommends_what_next(api: Api) -> None:
    body = await api.gql(
        "mutation($input: [AttemptInput!]!) { recordAttempts(input: $input) { "
        "... on RecordAttemptsPayload { recommendations(first: 2) { kind item { key } } } } }",
        {"input": [attempt("n1", "i-add-1", 1.0, 1)]},
        role="learner",
    )
    recs = body["data"]["recordAttempts"]["recommendations"]
    assert 1 <= len(recs) <= 2 and all(r["item"]["key"] for r in recs)
    two = await api.gql(
        "mutation($input: [AttemptInput!]!) { recordAttempts(input: $input) { "
        "... on RecordAttemptsPayload { recommendations { kind } } } }",
        {"input": [attempt("n2", "i-add-1", 1.0, 2), attempt("n3", "i-add-1", 1.0, 2, "bo")]},
        role="admin",
    )
    assert two["data"]["recordAttempts"]["recommendations"] == []


PENDING = """mutation($input: [AttemptInput!]!) {
  recordAttempts(input: $input) {
    __typename
    ... on Error { message }
    ... on TracingPendingError { attemptIds storedIds }
    ... on RecordAttemptsPayload { storedIds duplicateIds mastery { probability skill { key } } }
  }
}"""


async def test_retry_completes_tracing_that_failed(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tracing fails once after the batch is stored: the client is told the attempts are
    stored and to retry; the retry traces them (once), to the mastery of a clean run."""
    real = BKTTracer.update  # the serving model of an empty registry
    failures = [RuntimeError("injected tracer failure")]

    def update_failing_once(self: BKTTracer, state: Any, x: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(self, state, x)

    monkeypatch.setattr(BKTTracer, "update", update_failing_once)
    batch = [attempt("a1", "i-add-1", 1.0, 1), attempt("a2", "i-mul", 0.0, 2)]
    body = await api.gql(PENDING, {"input": batch}, role="learner")
    failed = body["data"]["recordAttempts"]
    assert failed["__typename"] == "TracingPendingError", body
    assert failed["attemptIds"] == ["a1", "a2"] and failed["storedIds"] == ["a1", "a2"]
    assert "stored" in failed["message"] and "send the same batch again" in failed["message"]
    assert await api.services.store.load_tracer_states(["ada"], "bkt-default") == [None]

    retry = (await api.gql(PENDING, {"input": batch}, role="learner"))["data"]["recordAttempts"]
    assert retry["__typename"] == "RecordAttemptsPayload", retry
    assert retry["storedIds"] == [] and retry["duplicateIds"] == ["a1", "a2"]
    got = {m["skill"]["key"]: m["probability"] for m in retry["mastery"]}

    # the same answers by another learner, with no failure
    clean_batch = [dict(a, attemptId="c" + a["attemptId"], learnerId="bo") for a in batch]
    clean = (await api.gql(PENDING, {"input": clean_batch}, role="admin"))["data"]
    want = {m["skill"]["key"]: m["probability"] for m in clean["recordAttempts"]["mastery"]}
    assert set(got) == {"add", "mul"} and got == pytest.approx(want)

    (blob,) = await api.services.store.load_tracer_states(["ada"], "bkt-default")
    assert blob is not None
    newest = datetime(2024, 5, 2, 10, 2, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    assert decode_traced(blob)[1].newest == (newest // timedelta(microseconds=1), "a2")

    third = (await api.gql(PENDING, {"input": batch}, role="learner"))["data"]["recordAttempts"]
    assert third["mastery"] == [] and third["duplicateIds"] == ["a1", "a2"]
    assert await api.services.store.load_tracer_states(["ada"], "bkt-default") == [blob]
    body = await api.gql(
        '{ learner(id: "ada") { mastery { probability skill { key } } } }', role="learner"
    )
    stored = {m["skill"]["key"]: m["probability"] for m in body["data"]["learner"]["mastery"]}
    assert {k: stored[k] for k in want} == pytest.approx(want)


class StateWriteFailsOnce:
    """The real store, except that its first ``save_traced`` (the tracer state and mastery
    write) raises (a dropped connection, a full disk)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def save_traced(self, writes: Any, mastery: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise OSError("injected: the state write failed")
        return await self._inner.save_traced(writes, mastery)


async def test_failed_state_write_is_reported_and_completed(make_api: ApiFactory) -> None:
    api = await make_api(wrap=StateWriteFailsOnce)
    batch = [attempt("s1", "i-add-2", 1.0, 3)]
    failed = (await api.gql(PENDING, {"input": batch}, role="learner"))["data"]["recordAttempts"]
    assert failed["__typename"] == "TracingPendingError" and failed["storedIds"] == ["s1"]
    retry = (await api.gql(PENDING, {"input": batch}, role="learner"))["data"]["recordAttempts"]
    assert retry["__typename"] == "RecordAttemptsPayload" and retry["duplicateIds"] == ["s1"]
    (row,) = retry["mastery"]
    post = 0.3 * 0.9 / (0.3 * 0.9 + 0.7 * 0.2)  # one right answer from the population prior
    assert row["skill"]["key"] == "add" and row["probability"] == pytest.approx(
        post + (1 - post) * 0.15
    )
    again = (await api.gql(PENDING, {"input": batch}, role="learner"))["data"]["recordAttempts"]
    assert again["mastery"] == []
