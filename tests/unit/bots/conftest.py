"""Fixtures for the dialogue tests: a BotService on a SQLite store with the demo CRM seeded,
a memory bus whose events are collected, a frozen clock and the keyword understander."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bots.crm import StoreCrm, seed_demo_crm
from bots.dialogue.engine import DialogueEngine
from bots.dialogue.loader import DEFAULT_FLOWS_DIR, FlowLibrary
from bots.dialogue.service import BotService, SqlTrackerStore
from bots.handoff import HandoffDesk
from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.events import Event
from core.store import Store, open_store
from core.store.tables.base import Base
from tests.unit.bots.fakes import KeywordUnderstander

BOT_TABLES = (
    "crm_customers",
    "crm_accounts",
    "crm_cards",
    "crm_follow_ups",
    "bot_conversations",
    "bot_handoffs",
    "bot_handoff_log",
)


async def create_bot_tables(store: Store) -> None:
    """Create only this issue's tables (the lead's Alembic migration adds them in the product)."""
    import core.store.tables.bots
    import core.store.tables.crm  # noqa: F401

    tables = [Base.metadata.tables[n] for n in BOT_TABLES]
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=tables))


@dataclass
class Harness:
    service: BotService
    bus: MemoryBus
    store: Store
    crm: StoreCrm
    clock: FrozenClock
    understander: KeywordUnderstander
    events: list[Event]
    library: FlowLibrary

    async def say(self, text: str, *, sender: str = "s1", **kw: object) -> list[str]:
        replies = await self.service.handle_message(sender, text, **kw)  # type: ignore[arg-type]
        return [r.text for r in replies]

    async def drained(self) -> list[Event]:
        await self.bus.drain()
        return self.events


async def make_harness(
    tmp_path: Path,
    *,
    flows_dir: Path = DEFAULT_FLOWS_DIR,
    emotion: dict | None = None,
    understander: Any = None,
) -> Harness:
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'bots.db'}")
    await create_bot_tables(store)
    await seed_demo_crm(store.sessions)
    clock = FrozenClock(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))  # a Monday, 10:00 UTC
    bus = MemoryBus()
    events: list[Event] = []

    async def collect(e: Event) -> None:
        events.append(e)

    bus.subscribe("test", collect)
    await bus.start()
    crm = StoreCrm(store.sessions, clock=clock)
    library = FlowLibrary(flows_dir)
    understander = understander or KeywordUnderstander(emotion=emotion)
    engine = DialogueEngine(library=library, crm=crm, clock=clock)
    service = BotService(
        engine=engine,
        understander=understander,
        trackers=SqlTrackerStore(sessions=store.sessions, clock=clock),
        bus=bus,
        clock=clock,
        desk=HandoffDesk(sessions=store.sessions, clock=clock),
    )
    return Harness(service, bus, store, crm, clock, understander, events, library)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path)
    yield h
    await h.bus.close()
    await h.store.close()


def make_app(service: BotService) -> object:
    """A tiny FastAPI app mounting the bots routers (staff guards off) and the static files."""
    from fastapi import FastAPI
    from fastapi.staticfiles import StaticFiles

    from bots.api import build_bots_router, build_channel_router
    from web.routes import WEB_DIR

    app = FastAPI()
    app.state.bots = service
    app.include_router(build_channel_router(staff_dependencies=[]))
    app.include_router(build_bots_router(staff_dependencies=[]), prefix="/api/v1")
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")
    return app
