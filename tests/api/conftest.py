"""API fixtures: a small hand-built curriculum and people on the parametrized ``store``, the
app over it, and a helper that posts GraphQL with a token of any role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from api.app import ApiSettings, build_services, create_app, drain_tasks
from api.auth import AuthConfig, issue_token
from api.context import Services
from api.limits import Limits
from graph.models import (
    Group,
    Item,
    ItemKind,
    Learner,
    Mastery,
    Prerequisite,
    Role,
    Skill,
    SkillWeight,
    User,
)
from tests.api.deadlines import RequestDeadlines

SECRET = "test-secret-for-the-api-suite-0123456789"
AUTH = AuthConfig("HS256", SECRET, SECRET)
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

# counting -> adding -> multiplying -> fractions ; counting -> subtracting
SKILLS = [
    Skill("add", "Adding", topic="arithmetic", area="number"),
    Skill("count", "Counting", topic="arithmetic", area="number"),
    Skill("frac", "Fractions", topic="fractions", area="number"),
    Skill("mul", "Multiplying", topic="arithmetic", area="number"),
    Skill("shape", "Shapes", topic="geometry", area="space"),
    Skill("sub", "Subtracting", topic="arithmetic", area="number"),
]
EDGES = [
    Prerequisite("count", "add"),
    Prerequisite("count", "sub", 0.8),
    Prerequisite("add", "mul"),
    Prerequisite("mul", "frac", 0.5),
]
ITEMS = [
    Item("i-add-1", ItemKind.EXERCISE, "2 + 3", (SkillWeight("add"),), difficulty=0.2),
    Item("i-add-2", ItemKind.EXERCISE, "17 + 25", (SkillWeight("add"),), difficulty=0.6),
    Item("i-count", ItemKind.LESSON, "Counting to 20", (SkillWeight("count"),)),
    Item("i-mul", ItemKind.EXERCISE, "6 x 7", (SkillWeight("mul"), SkillWeight("add", 0.3))),
]
LEARNERS = [
    Learner("ada", "Ada", goals=("mul",)),
    Learner("bo", "Bo"),
    Learner("cy", "Cy"),
]
USERS = [
    User("ada", "Ada", Role.LEARNER),
    User("tess", "Tess", Role.TEACHER),
    User("dee", "Dee", Role.DESIGNER),
    User("root", "Root", Role.ADMIN),
]
GROUPS = [Group("g1", "Class 1", teacher_ids=("tess",), learner_ids=("ada", "bo"))]

#: a principal (sub, role) per role; ``None`` is unauthenticated
PRINCIPALS: dict[str, tuple[str, Role] | None] = {
    "anonymous": None,
    "learner": ("ada", Role.LEARNER),
    "teacher": ("tess", Role.TEACHER),
    "designer": ("dee", Role.DESIGNER),
    "admin": ("root", Role.ADMIN),
}


async def seed(store: Any) -> None:
    await store.upsert_skills(SKILLS, actor="seed")
    await store.upsert_prerequisites(EDGES, actor="seed")
    await store.upsert_items(ITEMS, actor="seed")
    await store.upsert_learners(LEARNERS)
    await store.upsert_users(USERS)
    await store.upsert_groups(GROUPS)
    await store.save_mastery(
        [
            Mastery("ada", "add", 0.7, 0.1, T0, "test"),
            Mastery("ada", "count", 0.95, 0.05, T0, "test"),
            Mastery("bo", "count", 0.4, 0.2, T0, "test"),
            Mastery("cy", "count", 0.1, 0.2, T0, "test"),
        ]
    )


def token_for(role: str) -> str | None:
    principal = PRINCIPALS[role]
    return None if principal is None else issue_token(AUTH, principal[0], principal[1])


@dataclass
class Api:
    client: httpx.AsyncClient
    services: Services

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        role: str = "anonymous",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        token = token_for(role)
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=sent
        )

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, role: str = "anonymous"
    ) -> dict[str, Any]:
        response = await self.post(query, variables, role=role)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


ApiFactory = Callable[..., Awaitable[Api]]

#: the request timeout of the test apps: generous, so that no test depends on the machine's
#: speed (the suite runs at load averages of 5-15); tests of the timeout itself set theirs
TEST_TIMEOUT_S = 600.0


def with_test_timeout(limits: Limits | None = None) -> Limits:
    """``limits`` (default ``Limits()``) with the request timeout at :data:`TEST_TIMEOUT_S`,
    unless the test chose a timeout of its own (any value but the production default)."""
    limits = limits or Limits()
    if limits.timeout_s == Limits().timeout_s:
        limits = replace(limits, timeout_s=TEST_TIMEOUT_S)
    return limits


@pytest.fixture
async def make_api(
    store: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ApiFactory]:
    """Build the app over the seeded ``store`` with the given limits/graphiql settings (the
    request timeout: :func:`with_test_timeout`). The tracer registry is an empty temporary one, so
    mastery is served by default BKT."""
    monkeypatch.setenv("LEARNGRAPH_MODELS", str(tmp_path / "models"))
    await seed(store)
    clients: list[httpx.AsyncClient] = []

    async def make(
        limits: Limits | None = None,
        graphiql: bool = True,
        wrap: Any = None,
        state_key: bytes | None = None,
        introspection: bool = True,
        cors_origins: tuple[str, ...] = (),
    ) -> Api:
        settings = ApiSettings(
            auth=AUTH,
            limits=with_test_timeout(limits),
            graphiql=graphiql,
            state_key=state_key,
            introspection=introspection,
            cors_origins=cors_origins,
        )
        services = await build_services(wrap(store) if wrap else store, settings)
        app = create_app(settings, services=services)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        clients.append(client)
        return Api(client, services)

    yield make
    for client in clients:
        await client.aclose()
    await drain_tasks()  # before the store fixture closes the store


@pytest.fixture
def deadlines(monkeypatch: pytest.MonkeyPatch) -> RequestDeadlines:
    """Lets a test of the request timeout make a request's deadline pass where it chooses."""
    return RequestDeadlines(monkeypatch)


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    return await make_api()
