"""JWT bearer tokens and who the caller is.

Tokens are verified with HS256 and a shared secret (``LEARNGRAPH_JWT_SECRET``) or with RS256
and a public key (``LEARNGRAPH_JWT_PUBLIC_KEY``: PEM text, or ``@/path/to/key.pem``). A token
carries ``sub`` (the user or learner id), ``role`` (learner, teacher, designer, admin) and
``exp``.

With neither configured, development mode uses :data:`DEV_SECRET`, so ``learngraph token`` and
``learngraph serve`` agree out of the box; ``--production`` refuses to start that way.

State handed to clients between calls (a diagnostic test's) is signed with
:func:`state_key_from_env`'s key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from api.errors import ConfigError, UnauthenticatedError
from graph.models import Role

#: The well-known development secret: anyone can mint tokens with it, so never serve with it.
DEV_SECRET = "learngraph-development-secret-not-for-production"  # noqa: S105

SECRET_ENV = "LEARNGRAPH_JWT_SECRET"
PUBLIC_KEY_ENV = "LEARNGRAPH_JWT_PUBLIC_KEY"
PRIVATE_KEY_ENV = "LEARNGRAPH_JWT_PRIVATE_KEY"
STATE_SECRET_ENV = "LEARNGRAPH_STATE_SECRET"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: ``sub`` is their user (or learner) id."""

    sub: str
    role: Role


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """How tokens are verified (and, for HS256, issued)."""

    algorithm: str
    verify_key: str
    signing_key: str | None = None
    leeway_s: float = 30.0

    @property
    def is_development(self) -> bool:
        return self.algorithm == "HS256" and self.verify_key == DEV_SECRET

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, production: bool = False
    ) -> AuthConfig:
        """Read the key from the environment; without one, the development secret (refused
        when ``production`` is set)."""
        env = os.environ if environ is None else environ
        public = env.get(PUBLIC_KEY_ENV)
        secret = env.get(SECRET_ENV)
        if public and secret:
            raise ConfigError(
                f"both {SECRET_ENV} and {PUBLIC_KEY_ENV} are set; set only one "
                "(HS256 with a secret, or RS256 with a public key)"
            )
        if public:
            private = env.get(PRIVATE_KEY_ENV)
            return cls("RS256", _read_key(public), _read_key(private) if private else None)
        if secret:
            if production and secret == DEV_SECRET:
                raise ConfigError(
                    f"{SECRET_ENV} is the public development secret; set a private one "
                    "(e.g. `openssl rand -hex 32`) before serving with --production"
                )
            if len(secret) < 16:
                raise ConfigError(
                    f"{SECRET_ENV} is {len(secret)} characters long; use at least 16 "
                    "(e.g. `openssl rand -hex 32`)"
                )
            return cls("HS256", secret, secret)
        if production:
            raise ConfigError(
                f"no token key configured: set {SECRET_ENV} (HS256) or {PUBLIC_KEY_ENV} "
                "(RS256) before serving with --production; the development secret is refused"
            )
        return cls("HS256", DEV_SECRET, DEV_SECRET)


def _read_key(value: str) -> str:
    if value.startswith("@"):
        path = Path(value[1:])
        if not path.is_file():
            raise ConfigError(f"key file {str(path)!r} does not exist; give @/path/to/key.pem")
        return path.read_text()
    return value.replace("\\n", "\n")


def issue_token(
    config: AuthConfig,
    sub: str,
    role: Role | str,
    *,
    ttl: timedelta = timedelta(hours=24),
    now: datetime | None = None,
) -> str:
    """Sign a token for ``sub`` with ``role``; needs the signing key (HS256 secret or RS256
    private key)."""
    if not sub:
        raise ConfigError("a token needs a subject: pass --sub USER_ID")
    role = _parse_role(str(role), ConfigError)
    if config.signing_key is None:
        raise ConfigError(
            f"cannot sign RS256 tokens without a private key: set {PRIVATE_KEY_ENV}"
        )
    issued = now or datetime.now(UTC)
    claims = {"sub": sub, "role": role.value, "iat": issued, "exp": issued + ttl}
    return jwt.encode(claims, config.signing_key, algorithm=config.algorithm)


def decode_token(config: AuthConfig, token: str) -> Principal:
    """Verify ``token`` and return its principal, or raise :class:`UnauthenticatedError`."""
    try:
        claims = jwt.decode(
            token,
            config.verify_key,
            algorithms=[config.algorithm],
            leeway=config.leeway_s,
            options={"require": ["sub", "exp"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise UnauthenticatedError(
            "the bearer token has expired; get a new one (e.g. `learngraph token`)"
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise UnauthenticatedError(
            f"the bearer token was refused ({exc}); send a token signed with the server's "
            f"{config.algorithm} key"
        ) from exc
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise UnauthenticatedError("the bearer token has no usable `sub` claim")
    role = _parse_role(str(claims.get("role", "")), UnauthenticatedError)
    return Principal(sub=sub, role=role)


def _parse_role(value: str, error: type[Exception]) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise error(f"unknown role {value!r}; use one of: {choices}") from None


def principal_from_authorization(config: AuthConfig, header: str | None) -> Principal | None:
    """The principal of an ``Authorization: Bearer ...`` header; None when there is none."""
    if header is None or not header.strip():
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError(
            "the Authorization header must be `Bearer <token>`; get one with `learngraph token`"
        )
    return decode_token(config, token.strip())


def state_key_from_env(
    auth: AuthConfig, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The key that signs state handed to clients (diagnostic tests), shared by every server
    process that has the same configuration, so a test started on one process (or before a
    restart) can be answered on another.

    ``LEARNGRAPH_STATE_SECRET`` when set (16 characters at least); else, with an HS256 token
    secret other than the development one, a key derived from that secret (HMAC with a fixed
    label, so the token secret itself never signs states); else None: the app then draws a
    random key per process (RS256 without a state secret, or the public development secret,
    from which anyone could derive the key).
    """
    env = os.environ if environ is None else environ
    label = b"learngraph client-state signing key v1"
    secret = env.get(STATE_SECRET_ENV)
    if secret is not None:
        if len(secret) < 16:
            raise ConfigError(
                f"{STATE_SECRET_ENV} is {len(secret)} characters long; use at least 16 "
                "(e.g. `openssl rand -hex 32`)"
            )
        return hmac.new(secret.encode(), label, hashlib.sha256).digest()
    if auth.algorithm == "HS256" and not auth.is_development:
        return hmac.new(auth.verify_key.encode(), label, hashlib.sha256).digest()
    return None
