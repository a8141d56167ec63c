"""A retried ``recordAttempts`` without timestamps is a retry (issue 11 item 4): the server
fills in a missing timestamp once, compares a same-id retry on the client's own fields, and
traces a stored answer that an earlier try did not trace, exactly once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api
from tracing.bkt import BKTTracer
from tracing.serving import decode_traced
from tracing.watermark import attempt_key

RECORD = """mutation($input: [AttemptInput!]!) {
  recordAttempts(input: $input) {
    __typename
    ... on Error { message }
    ... on AttemptConflictError { attemptIds }
    ... on TracingPendingError { attemptIds storedIds }
    ... on RecordAttemptsPayload {
      storedIds duplicateIds attempts { attemptId timestamp }
      mastery { probability skill { key } }
    }
  }
}"""

#: the README's example: no timestamp
README_ATTEMPT = {"attemptId": "try-1", "learnerId": "ada", "itemId": "i-add-1", "score": 1}


async def record(api: Api, attempts: list[dict[str, Any]], role: str = "learner") -> Any:
    body = await api.gql(RECORD, {"input": attempts}, role=role)
    assert "errors" not in body, body
    return body["data"]["recordAttempts"]


async def test_the_readme_example_sent_twice_is_stored_once(api: Api) -> None:
    first = await record(api, [README_ATTEMPT])
    assert first["__typename"] == "RecordAttemptsPayload", first
    assert first["storedIds"] == ["try-1"] and first["mastery"]
    again = await record(api, [README_ATTEMPT])
    assert again["__typename"] == "RecordAttemptsPayload", again
    assert again["storedIds"] == [] and again["duplicateIds"] == ["try-1"]
    assert again["attempts"] == first["attempts"], "answered with the stored timestamp"
    assert again["mastery"] == [], "traced once"
    changed = await record(api, [dict(README_ATTEMPT, score=0)])
    assert changed["__typename"] == "AttemptConflictError", changed
    assert changed["attemptIds"] == ["try-1"]


async def test_an_untimed_answer_stored_but_not_traced_is_traced_by_the_retry(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = BKTTracer.update
    failures = [RuntimeError("injected tracer failure")]

    def update_failing_once(self: BKTTracer, state: Any, x: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(self, state, x)

    monkeypatch.setattr(BKTTracer, "update", update_failing_once)
    failed = await record(api, [README_ATTEMPT])
    assert failed["__typename"] == "TracingPendingError", failed
    assert await api.services.store.load_tracer_states(["ada"], "bkt-default") == [None]

    retry = await record(api, [README_ATTEMPT])
    assert retry["__typename"] == "RecordAttemptsPayload", retry
    assert retry["duplicateIds"] == ["try-1"]
    assert [m["skill"]["key"] for m in retry["mastery"]] == ["add"], "traced now"
    (stored,) = (await api.services.store.attempts_of("ada")).attempts
    (blob,) = await api.services.store.load_tracer_states(["ada"], "bkt-default")
    assert blob is not None and decode_traced(blob)[1].contains(attempt_key(stored))

    third = await record(api, [README_ATTEMPT])
    assert third["duplicateIds"] == ["try-1"] and third["mastery"] == [], "never twice"
    assert await api.services.store.load_tracer_states(["ada"], "bkt-default") == [blob]


async def test_one_id_twice_in_a_batch_with_and_without_a_timestamp_is_one_answer(
    api: Api,
) -> None:
    timed = dict(README_ATTEMPT, timestamp="2024-05-02T10:00:00+00:00")
    result = await record(api, [README_ATTEMPT, timed])
    assert result["__typename"] == "RecordAttemptsPayload", result
    assert result["storedIds"] == ["try-1"]
    assert [a["timestamp"] for a in result["attempts"]] == ["2024-05-02T10:00:00+00:00"]
