"""Seed the demo centre ("Demo Bank"): users of every role and six agents.

Passwords are random, returned once to the caller (the CLI prints them) and stored only as
argon2 hashes. Seeding is idempotent: existing users are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.auth import generate_password, hash_password
from core.clock import Clock
from core.domain import Role
from core.errors import ConfigError
from core.events import new_id
from core.store.tables.auth import UserRow

DEMO_CENTER = Path(__file__).with_name("demo_center.yaml")


@dataclass(frozen=True)
class SeededUser:
    username: str
    roles: tuple[str, ...]
    password: str


def load_demo_center(path: Path = DEMO_CENTER) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid YAML ({e})") from e
    if not isinstance(data, dict) or data.get("version") != 1:
        raise ConfigError(f"{path}: expected a mapping with version: 1")
    return data


def demo_users(center: dict[str, Any]) -> list[dict[str, Any]]:
    users = list(center.get("users", []))
    users += [{**a, "roles": [Role.AGENT.value]} for a in center.get("agents", [])]
    return users


async def seed_users(sessions: async_sessionmaker, *, clock: Clock) -> list[SeededUser]:
    """Create missing demo users; returns the new ones with their one-time passwords."""
    center = load_demo_center()
    created: list[SeededUser] = []
    async with sessions() as session:
        existing = set((await session.scalars(select(UserRow.username))).all())
        for u in demo_users(center):
            if u["username"] in existing:
                continue
            password = generate_password()
            session.add(
                UserRow(
                    id=new_id(),
                    username=u["username"],
                    full_name=u.get("full_name", ""),
                    password_hash=hash_password(password),
                    roles=[Role(r).value for r in u["roles"]],
                    active=True,
                    created_at=clock.now(),
                )
            )
            created.append(SeededUser(u["username"], tuple(u["roles"]), password))
        await session.commit()
    return created


async def reset_password(sessions: async_sessionmaker, username: str) -> str:
    from core.errors import NotFoundError

    async with sessions() as session:
        user = await session.scalar(select(UserRow).where(UserRow.username == username))
        if user is None:
            raise NotFoundError(f"no user {username!r}")
        password = generate_password()
        user.password_hash = hash_password(password)
        await session.commit()
    return password
