"""The request timeout: test apps never depend on it, and a request that outlives it is
answered honestly."""

from __future__ import annotations

from typing import Any

from api.limits import Limits
from tests.api.conftest import TEST_TIMEOUT_S, Api, ApiFactory
from tests.api.deadlines import RequestDeadlines


async def test_test_apps_do_not_depend_on_the_machine_speed(api: Api) -> None:
    assert api.services.limits.timeout_s == TEST_TIMEOUT_S > Limits().timeout_s


async def test_a_test_of_the_timeout_keeps_its_own(make_api: ApiFactory) -> None:
    api = await make_api(Limits(timeout_s=0.2, max_batch=3))
    assert (api.services.limits.timeout_s, api.services.limits.max_batch) == (0.2, 3)
    other = await make_api(Limits(max_batch=3))
    assert (other.services.limits.timeout_s, other.services.limits.max_batch) == (
        TEST_TIMEOUT_S,
        3,
    )


class TracingHangs:
    """The real store, except that while ``armed`` reading tracer states (alone, or in a
    learner's snapshot: what a recommendation reads) stops the request there (its deadline
    passes): a mutation that has stored its attempts, or a query, then outlives the request
    timeout."""

    def __init__(self, inner: Any, deadlines: RequestDeadlines) -> None:
        self._inner = inner
        self._deadlines = deadlines
        self.armed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def load_tracer_states(self, *args: Any, **kwargs: Any) -> Any:
        if self.armed:
            await self._deadlines.expire_and_hang()
        return await self._inner.load_tracer_states(*args, **kwargs)

    async def load_tracer_records(self, *args: Any, **kwargs: Any) -> Any:
        if self.armed:
            await self._deadlines.expire_and_hang()
        return await self._inner.load_tracer_records(*args, **kwargs)

    async def learner_snapshot(self, *args: Any, **kwargs: Any) -> Any:
        if self.armed:
            await self._deadlines.expire_and_hang()
        return await self._inner.learner_snapshot(*args, **kwargs)


RECORD = """mutation($input: [AttemptInput!]!) { recordAttempts(input: $input) { __typename
  ... on RecordAttemptsPayload { storedIds duplicateIds mastery { skill { key } } } } }"""
ANSWER = {"attemptId": "t1", "learnerId": "ada", "itemId": "i-add-1", "score": 1}


async def hanging_api(make_api: ApiFactory, deadlines: RequestDeadlines) -> tuple[Api, Any]:
    wrapped: list[TracingHangs] = []

    def wrap(inner: Any) -> TracingHangs:
        wrapped.append(TracingHangs(inner, deadlines))
        return wrapped[0]

    api = await make_api(wrap=wrap)
    return api, wrapped[0]


async def test_a_mutation_past_the_timeout_says_its_outcome_is_unknown(
    make_api: ApiFactory, deadlines: RequestDeadlines
) -> None:
    api, store = await hanging_api(make_api, deadlines)
    response = await api.post(RECORD, {"input": [ANSWER]}, role="learner")
    assert response.status_code == 504, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "OUTCOME_UNKNOWN", "limit": "timeout_s"}
    assert "outcome is unknown" in error["message"] and f"{TEST_TIMEOUT_S} s" in error["message"]
    assert "same attemptIds" in error["message"]
    assert await store.attempt_count("ada") == 1, "it did commit"

    store.armed = False
    retry = await api.post(RECORD, {"input": [ANSWER]}, role="learner")
    result = retry.json()["data"]["recordAttempts"]
    assert result["__typename"] == "RecordAttemptsPayload", result
    assert result["duplicateIds"] == ["t1"] and result["mastery"] == [{"skill": {"key": "add"}}]


async def test_a_query_past_the_timeout_is_still_told_to_ask_for_less(
    make_api: ApiFactory, deadlines: RequestDeadlines
) -> None:
    api, _ = await hanging_api(make_api, deadlines)
    response = await api.post('{ learner(id: "ada") { recommendations { kind } } }', role="learner")
    assert response.status_code == 504, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "timeout_s"}
    assert "ask for less" in error["message"]
