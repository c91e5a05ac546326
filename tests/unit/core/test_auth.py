from datetime import UTC, datetime, timedelta

import pytest

from core.auth import decode_token, hash_password, issue_token, verify_password
from core.domain import Role
from core.errors import AuthError
from core.store.tables.auth import UserRow

SECRET = "s" * 40


def _user() -> UserRow:
    return UserRow(id="u1", username="ann", password_hash="x", roles=["agent", "supervisor"])


def test_password_hash_is_argon2_and_verifies() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2")
    assert verify_password("correct horse", h)
    assert not verify_password("wrong", h)


def test_token_round_trip() -> None:
    NOW = datetime.now(UTC)
    token = issue_token(
        _user(), secret=SECRET, algorithm="HS256", ttl=timedelta(minutes=5), now=NOW
    )
    p = decode_token(token, secret=SECRET, algorithm="HS256")
    assert p.subject == "u1" and p.roles == {Role.AGENT, Role.SUPERVISOR}


def test_expired_and_forged_tokens_refused() -> None:
    NOW = datetime.now(UTC)
    old = issue_token(
        _user(),
        secret=SECRET,
        algorithm="HS256",
        ttl=timedelta(minutes=1),
        now=NOW - timedelta(hours=1),
    )
    with pytest.raises(AuthError, match="expired"):
        decode_token(old, secret=SECRET, algorithm="HS256")
    forged = issue_token(
        _user(), secret="x" * 40, algorithm="HS256", ttl=timedelta(minutes=5), now=NOW
    )
    with pytest.raises(AuthError, match="invalid token"):
        decode_token(forged, secret=SECRET, algorithm="HS256")
