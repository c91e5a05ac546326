"""Authentication: argon2 password hashes, JWT access tokens, API keys for machines.

Roles are checked per route (``core.deps.require_roles``); nothing here talks HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain import Role
from core.errors import AuthError
from core.events import new_id
from core.store.tables.auth import ApiKeyRow, UserRow

API_KEY_PREFIX = "hk_"
_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the user is unknown, so a wrong username costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (via token/cookie) or a machine (via API key)."""

    subject: str
    username: str
    roles: frozenset[Role]
    via: str  # "token" | "api_key"

    def has_any(self, roles: frozenset[Role]) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles & roles)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def issue_token(
    user: UserRow, *, secret: str, algorithm: str, ttl: timedelta, now: datetime
) -> str:
    payload = {
        "sub": user.id,
        "name": user.username,
        "roles": list(user.roles),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=algorithm)


def decode_token(token: str, *, secret: str, algorithm: str) -> Principal:
    try:
        payload = jwt.decode(token, secret, algorithms=[algorithm], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError as e:
        raise AuthError("token expired; log in again", code="token_expired") from e
    except jwt.PyJWTError as e:
        raise AuthError("invalid token", code="invalid_token") from e
    return Principal(
        subject=str(payload["sub"]),
        username=str(payload.get("name", "")),
        roles=frozenset(
            Role(r) for r in payload.get("roles", []) if r in Role.__members__.values()
        ),
        via="token",
    )


async def authenticate(session: AsyncSession, username: str, password: str) -> UserRow:
    user = await session.scalar(select(UserRow).where(UserRow.username == username))
    if user is None or not user.active:
        verify_password(password, _DUMMY_HASH)
        raise AuthError("wrong username or password", code="bad_credentials")
    if not verify_password(password, user.password_hash):
        raise AuthError("wrong username or password", code="bad_credentials")
    return user


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession, *, name: str, roles: list[Role], user_id: str | None, now: datetime
) -> tuple[ApiKeyRow, str]:
    """Create a key; the plaintext is returned once and never stored."""
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    row = ApiKeyRow(
        id=new_id(),
        prefix=prefix,
        key_hash=_key_hash(key),
        name=name,
        roles=[r.value for r in roles],
        user_id=user_id,
        created_at=now,
        revoked=False,
    )
    session.add(row)
    return row, key


async def verify_api_key(session: AsyncSession, key: str) -> Principal:
    parts = key.split("_")
    if not key.startswith(API_KEY_PREFIX) or len(parts) < 3:
        raise AuthError("invalid API key", code="invalid_api_key")
    row = await session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == parts[1]))
    if row is None or row.revoked or not hmac.compare_digest(row.key_hash, _key_hash(key)):
        raise AuthError("invalid API key", code="invalid_api_key")
    return Principal(
        subject=row.id,
        username=f"key:{row.name}",
        roles=frozenset(Role(r) for r in row.roles),
        via="api_key",
    )
