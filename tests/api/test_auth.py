"""Tokens: HS256 and RS256, expiry, roles, the development secret and the CLI commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.auth import (
    DEV_SECRET,
    AuthConfig,
    Principal,
    decode_token,
    issue_token,
    principal_from_authorization,
)
from api.cli import main
from api.errors import ConfigError, UnauthenticatedError
from graph.models import Role


def test_development_secret_only_outside_production() -> None:
    dev = AuthConfig.from_env({})
    assert dev.is_development and dev.verify_key == DEV_SECRET
    with pytest.raises(ConfigError, match="LEARNGRAPH_JWT_SECRET"):
        AuthConfig.from_env({}, production=True)
    with pytest.raises(ConfigError, match="development secret"):
        AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": DEV_SECRET}, production=True)
    with pytest.raises(ConfigError, match="at least 16"):
        AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "short"})
    prod = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "x" * 32}, production=True)
    assert not prod.is_development


def test_hs256_round_trip_and_refusals() -> None:
    config = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "s" * 32})
    token = issue_token(config, "ada", "learner")
    assert decode_token(config, token) == Principal("ada", Role.LEARNER)
    other = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "t" * 32})
    with pytest.raises(UnauthenticatedError, match="refused"):
        decode_token(other, token)
    old = issue_token(config, "ada", "learner", now=datetime.now(UTC) - timedelta(days=2))
    with pytest.raises(UnauthenticatedError, match="expired"):
        decode_token(config, old)
    forged = jwt.encode(
        {"sub": "ada", "role": "wizard", "exp": datetime.now(UTC) + timedelta(hours=1)},
        "s" * 32,
        algorithm="HS256",
    )
    with pytest.raises(UnauthenticatedError, match="unknown role 'wizard'"):
        decode_token(config, forged)
    no_exp = jwt.encode({"sub": "ada", "role": "admin"}, "s" * 32, algorithm="HS256")
    with pytest.raises(UnauthenticatedError):
        decode_token(config, no_exp)
    assert principal_from_authorization(config, None) is None
    assert principal_from_authorization(config, f"bearer {token}") == Principal("ada", Role.LEARNER)


def test_rs256_with_public_key(tmp_path: object) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verifier = AuthConfig.from_env({"LEARNGRAPH_JWT_PUBLIC_KEY": public})
    assert verifier.algorithm == "RS256" and verifier.signing_key is None
    with pytest.raises(ConfigError, match="private key"):
        issue_token(verifier, "tess", "teacher")
    signer = AuthConfig.from_env(
        {"LEARNGRAPH_JWT_PUBLIC_KEY": public, "LEARNGRAPH_JWT_PRIVATE_KEY": private}
    )
    token = issue_token(signer, "tess", Role.TEACHER)
    assert decode_token(verifier, token) == Principal("tess", Role.TEACHER)
    # an HS256 token made with the public key as secret (algorithm confusion) is refused
    confused = jwt.encode(
        {"sub": "x", "role": "admin", "exp": datetime.now(UTC) + timedelta(hours=1)},
        "not-the-key-" * 4,
        algorithm="HS256",
    )
    with pytest.raises(UnauthenticatedError):
        decode_token(verifier, confused)
    with pytest.raises(ConfigError, match="only one"):
        AuthConfig.from_env(
            {"LEARNGRAPH_JWT_PUBLIC_KEY": public, "LEARNGRAPH_JWT_SECRET": "x" * 20}
        )


def test_token_command_agrees_with_serve_defaults(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEARNGRAPH_JWT_SECRET", raising=False)
    monkeypatch.delenv("LEARNGRAPH_JWT_PUBLIC_KEY", raising=False)
    assert main(["token", "--sub", "tess", "--role", "teacher"]) == 0
    out = capsys.readouterr()
    assert "development secret" in out.err
    token = out.out.strip()
    assert decode_token(AuthConfig.from_env({}), token) == Principal("tess", Role.TEACHER)


def test_serve_refuses_production_without_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv("LEARNGRAPH_JWT_SECRET", raising=False)
    monkeypatch.delenv("LEARNGRAPH_JWT_PUBLIC_KEY", raising=False)
    assert main(["serve", "--production", "--db", "sqlite:///:memory:"]) == 2
    assert "LEARNGRAPH_JWT_SECRET" in capsys.readouterr().err


def test_state_key_is_shared_by_configuration_and_never_the_public_one() -> None:
    from api.auth import state_key_from_env

    hs = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "s" * 32})
    derived = state_key_from_env(hs, {})
    assert derived is not None and len(derived) == 32
    again = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "s" * 32})
    other = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "t" * 32})
    assert derived == state_key_from_env(again, {}) != state_key_from_env(other, {})
    assert b"s" * 32 not in derived  # the token secret itself never signs states
    own = state_key_from_env(hs, {"LEARNGRAPH_STATE_SECRET": "x" * 20})
    assert own is not None and own != derived
    dev = AuthConfig.from_env({})
    assert own == state_key_from_env(dev, {"LEARNGRAPH_STATE_SECRET": "x" * 20})
    # the public development secret, or RS256 without a state secret: a per-process key
    assert state_key_from_env(dev, {}) is None
    assert state_key_from_env(AuthConfig("RS256", "public-pem"), {}) is None
    with pytest.raises(ConfigError, match="LEARNGRAPH_STATE_SECRET is 5 characters long"):
        state_key_from_env(hs, {"LEARNGRAPH_STATE_SECRET": "short"})


def test_an_unusable_rs256_key_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LEARNGRAPH_JWT_PUBLIC_KEY is not a usable RSA key"):
        AuthConfig.from_env({"LEARNGRAPH_JWT_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nnope"})
    garbage = tmp_path / "key.pem"
    garbage.write_text("not a key at all")
    with pytest.raises(ConfigError, match="not a usable RSA key"):
        AuthConfig.from_env({"LEARNGRAPH_JWT_PUBLIC_KEY": f"@{garbage}"})


def test_serve_refuses_an_unusable_rs256_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LEARNGRAPH_JWT_SECRET", raising=False)
    monkeypatch.setenv("LEARNGRAPH_JWT_PUBLIC_KEY", "garbage")
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}"]) == 2
    assert "LEARNGRAPH_JWT_PUBLIC_KEY is not a usable RSA key" in capsys.readouterr().err


def test_tokens_living_beyond_the_maximum_are_refused() -> None:
    config = AuthConfig.from_env({"LEARNGRAPH_JWT_SECRET": "s" * 32})
    assert config.max_lifetime_s == 24 * 3600
    now = datetime.now(UTC)
    day = jwt.encode(
        {"sub": "ada", "role": "learner", "iat": now, "exp": now + timedelta(hours=24)},
        "s" * 32,
        algorithm="HS256",
    )
    assert decode_token(config, day) == Principal("ada", Role.LEARNER)
    year = jwt.encode(
        {"sub": "ada", "role": "admin", "iat": now, "exp": now + timedelta(days=365)},
        "s" * 32,
        algorithm="HS256",
    )
    with pytest.raises(UnauthenticatedError, match="lives 8760 h .* at most 24 h"):
        decode_token(config, year)
    no_iat = jwt.encode(
        {"sub": "ada", "role": "admin", "exp": now + timedelta(days=30)}, "s" * 32, "HS256"
    )
    with pytest.raises(UnauthenticatedError, match="at most 24 h"):
        decode_token(config, no_iat)
    short = AuthConfig.from_env(
        {"LEARNGRAPH_JWT_SECRET": "s" * 32, "LEARNGRAPH_JWT_MAX_LIFETIME_S": "3600"}
    )
    with pytest.raises(UnauthenticatedError, match="at most 1 h"):
        decode_token(short, day)
    with pytest.raises(ConfigError, match="above the maximum of 1 h"):
        issue_token(short, "ada", "learner", ttl=timedelta(hours=2))
    for bad in ("soon", "0", "-5", "inf", "nan"):
        with pytest.raises(ConfigError, match="LEARNGRAPH_JWT_MAX_LIFETIME_S"):
            AuthConfig.from_env({"LEARNGRAPH_JWT_MAX_LIFETIME_S": bad})


def test_token_command_respects_the_maximum_lifetime(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEARNGRAPH_JWT_SECRET", "s" * 32)
    monkeypatch.delenv("LEARNGRAPH_JWT_PUBLIC_KEY", raising=False)
    monkeypatch.delenv("LEARNGRAPH_JWT_MAX_LIFETIME_S", raising=False)
    assert main(["token", "--sub", "ada", "--role", "learner"]) == 0  # 24 h, the default
    token = capsys.readouterr().out.strip()
    principal = decode_token(AuthConfig.from_env(), token)
    assert principal == Principal("ada", Role.LEARNER)
    assert principal.expires_at is not None
    assert main(["token", "--sub", "ada", "--role", "learner", "--hours", "48"]) == 2
    assert "above the maximum of 24 h" in capsys.readouterr().err
