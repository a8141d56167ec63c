"""Property-based fuzzing with hypothesis-graphql over the exported schema.

Valid generated queries and mutations, sent by callers of several roles, never get a 5xx and
never hit an internal error (which would come back masked with code INTERNAL): every error is
an expected one (limits, access, bad input) or a typed mutation result.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from api.ids import to_global_id
from api.masking import INTERNAL_CODE
from api.schema import schema_sdl
from tests.api.conftest import Api

SDL = schema_sdl()
#: ids mostly from the seeded data (keys and global ids), so that queries reach real objects
KNOWN = ["add", "count", "frac", "mul", "i-add-1", "i-mul", "ada", "bo", "cy", "g1", "tess"]
IDS = st.one_of(
    st.sampled_from(KNOWN),
    st.sampled_from(KNOWN).map(lambda k: to_global_id("Skill", k)),
    st.sampled_from(KNOWN).map(lambda k: to_global_id("Learner", k)),
    st.text(max_size=12),
).map(lambda v: graphql.StringValueNode(value=v))
SCALARS = {
    "ID": IDS,
    "DateTime": st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: graphql.StringValueNode(value=d.isoformat())),
    "JSON": st.just(graphql.NullValueNode()),
}
OPERATIONS = from_schema(SDL, custom_scalars=SCALARS)  # queries and mutations
FUZZ = settings(
    max_examples=int(os.environ.get("LEARNGRAPH_FUZZ_EXAMPLES", "50")),  # more for a long hunt
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def check(response: Any, query: str) -> None:
    assert response.status_code < 500, (response.status_code, query, response.text)
    body = response.json()
    for error in body.get("errors", []):
        code = (error.get("extensions") or {}).get("code")
        assert code != INTERNAL_CODE, (query, error)
        assert "Internal error" not in error["message"], (query, error)


# No warning is ignored here: the unclosed Bolt sockets this test used to garbage-collect on
# Neo4j came from requests cancelled while the driver opened a connection (neo4j 6.4.1 leaks
# the raw socket then); graph/neo4j_core.py shields driver calls from cancellation, and
# tests/graph/test_neo4j_cancel.py reproduces the leak deterministically.
@pytest.mark.parametrize("role", ["anonymous", "learner", "designer", "admin"])
@FUZZ
@given(query=OPERATIONS)
async def test_generated_operations_never_fail_internally(api: Api, role: str, query: str) -> None:
    # one seeded store per role; the examples share it (mutations change it as they go)
    check(await api.post(query, role=role), query)
