"""Principals of bearer tokens verified recently, so a client sending the same token on every
request has its signature checked once, not per request.

A verified token's answer cannot change before it expires: its claims are signed, the server
keeps no revocation list, and every other check :func:`api.auth.decode_token` makes (not
before, issued at, the maximum lifetime) can only turn from "refused" to "accepted" as time
passes. So a cached principal is served while the clock is before its ``expires_at`` (the
token's ``exp`` plus the leeway, the instant ``decode_token`` starts refusing it); at or after
it the token is verified again, which refuses it as expired. Refusals are never cached: a bad
token costs a full check each time, and cannot push good ones out.

Bounded: at most ``maxsize`` tokens, the least recently used dropped first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from api import auth
from api.auth import AuthConfig, Principal

#: tokens kept (each a few hundred bytes)
DEFAULT_MAXSIZE = 4096


class TokenCache:
    """``principal(header)``: :func:`api.auth.principal_from_authorization` with verified
    tokens remembered until they expire.

    Args:
        config: how tokens are verified.
        maxsize: tokens kept.
        clock: wall-clock seconds (the clock the token library checks ``exp`` against).
    """

    def __init__(
        self,
        config: AuthConfig,
        *,
        maxsize: int = DEFAULT_MAXSIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize={maxsize}: keep at least one token")
        self.config = config
        self.maxsize = maxsize
        self._clock = clock
        #: token -> (its principal, the second it stops being accepted)
        self._seen: OrderedDict[str, tuple[Principal, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def principal(self, header: str | None) -> Principal | None:
        """The principal of an ``Authorization`` header (None without one); raises
        :class:`api.errors.UnauthenticatedError` as ``principal_from_authorization`` does."""
        if header is None or not header.strip():
            return None
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return auth.principal_from_authorization(self.config, header)  # raises
        hit = self._seen.get(token)
        if hit is not None:
            if self._clock() < hit[1]:
                self._seen.move_to_end(token)
                return hit[0]
            del self._seen[token]
        principal = auth.decode_token(self.config, token)
        if principal.expires_at is not None:
            self._seen[token] = (principal, principal.expires_at.timestamp())
            if len(self._seen) > self.maxsize:
                self._seen.popitem(last=False)
        return principal
