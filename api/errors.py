"""Expected API failures.

An :class:`ApiError` raised inside a resolver keeps its message in the response and carries a
machine-readable ``code`` under ``extensions``; anything else is masked as "Internal error"
with a request id (see :mod:`api.masking`). Mutations report expected failures as typed union
members instead (see :mod:`api.types.errors`); these exceptions are for queries, limits and
transport-level refusals.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Root of every expected error of ``api``; its message is shown to the client."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class BadInputError(ApiError):
    """An argument is malformed (a bad id, a negative ``first``)."""

    code = "BAD_USER_INPUT"


class ForbiddenError(ApiError):
    """The caller's role or identity does not allow this read or write."""

    code = "FORBIDDEN"


class UnauthenticatedError(ApiError):
    """A bearer token was sent but cannot be accepted (bad signature, expired, bad role)."""

    code = "UNAUTHENTICATED"


class LimitExceededError(ApiError):
    """A configured limit (``first`` cap, cost, depth, timeout, body size) was exceeded."""

    code = "LIMIT_EXCEEDED"


class StoreUnavailable(ApiError):
    """The store cannot be reached (down, closed, unreachable); the request gets 503."""

    code = "STORE_UNAVAILABLE"


class ConfigError(ApiError):
    """The server is configured in a way that cannot start (e.g. no JWT secret in production)."""

    code = "CONFIG"
