"""Shared fixtures: settings, stores on SQLite and PostgreSQL, buses in memory/Redis/NATS.

Service fixtures skip with a named reason only when the service is absent; each test gets
its own schema / stream names so tests never see each other's data.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.settings import FeatureSettings, Settings
from core.store import Store, open_store
from core.store.migrate import upgrade

PG_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("HOTLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("HOTLINE_TEST_NATS_URL", "nats://127.0.0.1:4222")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        bus_url="memory://",
        log_json=True,
        secret_key="test-secret-0123456789abcdef0123456789",
        # Model-heavy parts are tested on their own; the app tests keep the cheap ones.
        features=FeatureSettings(voice=False, bots=False, assist=False, qa=True, campaigns=True),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated, empty store on SQLite (file, WAL) and on PostgreSQL (own schema)."""
    if request.param == "sqlite":
        s = open_store(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await upgrade(s)
        yield s
        await s.close()
        return
    if not port_open("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    schema = unique("t")
    admin = open_store(PG_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    s = open_store(PG_URL, schema=schema)
    try:
        await upgrade(s)
        yield s
    finally:
        await s.close()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.close()


def bus_url_for(kind: str) -> str:
    if kind == "memory":
        return "memory://"
    if kind == "redis":
        if not port_open("127.0.0.1", 6379):
            pytest.skip("Redis is not running on 127.0.0.1:6379")
        return REDIS_URL
    if not port_open("127.0.0.1", 4222):
        pytest.skip("NATS is not running on 127.0.0.1:4222")
    return NATS_URL


async def wait_for(predicate, *, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Await a condition with a generous timeout that can only fail, never a fixed sleep."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A migrated, seeded SQLite file made once per session (argon2 seeding is slow)."""
    from core.clock import SystemClock
    from core.store.seed import seed_users

    path = tmp_path_factory.mktemp("seed") / "hotline.db"

    async def _make() -> dict[str, str]:
        from core.bus import open_bus
        from core.store.seed import load_demo_center
        from routing.config import load_queues
        from routing.seed import seed_demo_agents
        from routing.service import RoutingService

        s = open_store(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(s)
            created = await seed_users(s.sessions, clock=SystemClock())
            routing = RoutingService(
                sessions=s.sessions,
                bus=open_bus("memory://"),
                clock=SystemClock(),
                queues=load_queues(),
            )
            await routing.start()
            await seed_demo_agents(routing, load_demo_center())
        finally:
            await s.close()
        return {u.username: u.password for u in created}

    return path, asyncio.run(_make())


@pytest.fixture
async def app_client(settings: Settings, seeded_sqlite) -> AsyncIterator[tuple]:  # type: ignore[no-untyped-def]
    """The real app (migrated, seeded SQLite copy; memory bus) behind httpx.

    Yields (client, app, passwords-by-username).
    """
    import shutil

    import httpx

    from app import create_app

    template, passwords = seeded_sqlite
    shutil.copy(template, settings.data_dir / "hotline.db")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, app, passwords


async def login(client, username: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
