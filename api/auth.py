"""JWT bearer tokens and who the caller is.

Tokens are verified with HS256 and a shared secret (``LEARNGRAPH_JWT_SECRET``) or with RS256
and a public key (``LEARNGRAPH_JWT_PUBLIC_KEY``: PEM text, or ``@/path/to/key.pem``). A token
carries ``sub`` (the user or learner id), ``role`` (learner, teacher, designer, admin),
``exp`` and ``iat``; a token living longer than ``LEARNGRAPH_JWT_MAX_LIFETIME_S`` (24 h by
default) is refused. An RS256 key that cannot be loaded stops the server at start-up.

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from jwt.algorithms import RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from api.errors import ConfigError, UnauthenticatedError
from graph.models import Role

#: The well-known development secret: anyone can mint tokens with it, so never serve with it.
DEV_SECRET = "learngraph-development-secret-not-for-production"  # noqa: S105

SECRET_ENV = "LEARNGRAPH_JWT_SECRET"
PUBLIC_KEY_ENV = "LEARNGRAPH_JWT_PUBLIC_KEY"
PRIVATE_KEY_ENV = "LEARNGRAPH_JWT_PRIVATE_KEY"
STATE_SECRET_ENV = "LEARNGRAPH_STATE_SECRET"
MAX_LIFETIME_ENV = "LEARNGRAPH_JWT_MAX_LIFETIME_S"
#: the longest a token may live (``exp - iat``) unless ``LEARNGRAPH_JWT_MAX_LIFETIME_S`` says
DEFAULT_MAX_LIFETIME_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: ``sub`` is their user (or learner) id; ``expires_at`` is
    when their token stops being accepted (its ``exp`` plus the leeway), so long-lived
    connections (subscriptions) can end with it."""

    sub: str
    role: Role
    expires_at: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """How tokens are verified (and, for HS256, issued)."""

    algorithm: str
    verify_key: str
    signing_key: str | None = None
    leeway_s: float = 30.0
    #: tokens living longer than this (``exp - iat``, or ``exp - now`` without ``iat``) are
    #: refused, so a leaked token cannot be used for months
    max_lifetime_s: float = DEFAULT_MAX_LIFETIME_S

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
        config = cls._from_keys(env, production)
        lifetime = _max_lifetime(env)
        return config if lifetime is None else replace(config, max_lifetime_s=lifetime)

    @classmethod
    def _from_keys(cls, env: Mapping[str, str], production: bool) -> AuthConfig:
        public = env.get(PUBLIC_KEY_ENV)
        secret = env.get(SECRET_ENV)
        if public and secret:
            raise ConfigError(
                f"both {SECRET_ENV} and {PUBLIC_KEY_ENV} are set; set only one "
                "(HS256 with a secret, or RS256 with a public key)"
            )
        if public:
            private = env.get(PRIVATE_KEY_ENV)
            verify = _rsa_key(PUBLIC_KEY_ENV, _read_key(public))
            return cls(
                "RS256", verify, _rsa_key(PRIVATE_KEY_ENV, _read_key(private)) if private else None
            )
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


def _max_lifetime(env: Mapping[str, str]) -> float | None:
    raw = env.get(MAX_LIFETIME_ENV)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise ConfigError(
            f"{MAX_LIFETIME_ENV}={raw!r} is not a positive number of seconds "
            f"(the default is {DEFAULT_MAX_LIFETIME_S:.0f}, 24 h)"
        )
    return value


def _rsa_key(name: str, pem: str) -> str:
    """``pem`` if it is an RSA key PyJWT can use for RS256; a clear start-up error if not
    (instead of every token failing later)."""
    try:
        RSAAlgorithm(RSAAlgorithm.SHA256).prepare_key(pem)
    except (InvalidKeyError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"{name} is not a usable RSA key ({exc}); give the PEM text "
            "(-----BEGIN PUBLIC KEY----- ...) or @/path/to/key.pem"
        ) from None
    return pem


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
        raise ConfigError(f"cannot sign RS256 tokens without a private key: set {PRIVATE_KEY_ENV}")
    if ttl.total_seconds() > config.max_lifetime_s:
        raise ConfigError(
            f"a lifetime of {ttl.total_seconds() / 3600:g} h is above the maximum of "
            f"{config.max_lifetime_s / 3600:g} h that the server accepts ({MAX_LIFETIME_ENV}); "
            "ask for a shorter one"
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
    exp = float(claims["exp"])
    iat = claims.get("iat")
    start = float(iat) if isinstance(iat, int | float) else datetime.now(UTC).timestamp()
    if exp - start > config.max_lifetime_s:
        raise UnauthenticatedError(
            f"the bearer token lives {(exp - start) / 3600:g} h (exp - iat); this server "
            f"accepts tokens of at most {config.max_lifetime_s / 3600:g} h: get a "
            "shorter-lived one (e.g. `learngraph token`)"
        )
    expires_at = datetime.fromtimestamp(exp + config.leeway_s, UTC)
    return Principal(sub=sub, role=role, expires_at=expires_at)


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


def state_key_from_env(auth: AuthConfig, environ: Mapping[str, str] | None = None) -> bytes | None:
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
