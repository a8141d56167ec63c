"""The token cache verifies a token once and serves its principal until the token expires;
refusals are never cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api import auth
from api.auth import AuthConfig, Principal, issue_token
from api.errors import UnauthenticatedError
from api.token_cache import TokenCache
from graph.models import Role

CONFIG = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "c" * 32})


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens ``decode_token`` was asked to verify, in order."""
    seen: list[str] = []
    real = auth.decode_token

    def counting(config: AuthConfig, token: str) -> Principal:
        seen.append(token)
        return real(config, token)

    monkeypatch.setattr(auth, "decode_token", counting)
    return seen


def test_a_token_is_verified_once_until_it_expires(decodes: list[str]) -> None:
    clock = Clock()
    cache = TokenCache(CONFIG, clock=clock)
    token = issue_token(CONFIG, "ada", "learner", ttl=timedelta(hours=1))
    first = cache.principal(f"Bearer {token}")
    assert first == Principal("ada", Role.LEARNER)
    assert first is not None and first.expires_at is not None
    assert cache.principal(f"  bearer {token} ") is first
    assert decodes == [token]
    # just before the token's exp + leeway it is still served; at that instant it is checked
    clock.now = first.expires_at.timestamp() - 0.001
    assert cache.principal(f"Bearer {token}") is first
    assert decodes == [token]
    clock.now = first.expires_at.timestamp()
    assert cache.principal(f"Bearer {token}") == first
    assert decodes == [token, token]


def test_expiry_is_where_decode_token_refuses() -> None:
    # a token whose exp is 10 s past: inside the 30 s leeway it is accepted, and the cache
    # keeps it exactly until decode_token would refuse it
    now = datetime.now(UTC)
    token = issue_token(
        CONFIG, "ada", "learner", ttl=timedelta(hours=1), now=now - timedelta(hours=1, seconds=10)
    )
    principal = TokenCache(CONFIG).principal(f"Bearer {token}")
    assert principal is not None and principal.expires_at is not None
    left = principal.expires_at.timestamp() - now.timestamp()
    assert 19 < left <= 20


def test_refusals_are_not_cached(decodes: list[str]) -> None:
    cache = TokenCache(CONFIG)
    other = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "d" * 32})
    forged = issue_token(other, "ada", "admin")
    expired = issue_token(CONFIG, "ada", "learner", now=datetime.now(UTC) - timedelta(days=2))
    for _ in range(2):
        with pytest.raises(UnauthenticatedError, match="refused"):
            cache.principal(f"Bearer {forged}")
        with pytest.raises(UnauthenticatedError, match="expired"):
            cache.principal(f"Bearer {expired}")
    assert decodes == [forged, expired, forged, expired]
    assert len(cache) == 0


def test_headers_without_a_bearer_token() -> None:
    cache = TokenCache(CONFIG)
    assert cache.principal(None) is None
    assert cache.principal("   ") is None
    for header in ("Basic abc", "Bearer", "Bearer   "):
        with pytest.raises(UnauthenticatedError, match="Bearer <token>"):
            cache.principal(header)


def test_the_cache_is_bounded_least_recently_used_first(decodes: list[str]) -> None:
    cache = TokenCache(CONFIG, maxsize=2)
    a, b, c = (issue_token(CONFIG, sub, "learner") for sub in ("a", "b", "c"))
    cache.principal(f"Bearer {a}")
    cache.principal(f"Bearer {b}")
    cache.principal(f"Bearer {a}")  # a used last: b goes first
    cache.principal(f"Bearer {c}")
    assert len(cache) == 2
    cache.principal(f"Bearer {a}")
    cache.principal(f"Bearer {b}")
    assert decodes == [a, b, c, b]
    with pytest.raises(ValueError, match="maxsize"):
        TokenCache(CONFIG, maxsize=0)
