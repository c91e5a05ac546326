"""The bot's queue messages carry routing's real position and EWT: a BotService and the real
RoutingService share one store and one in-process bus, wired the way ``app.py`` wires them
(``live_position=routing.position``); the handoff reaches routing only through the bus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.crm import StoreCrm, seed_demo_crm
from bots.dialogue.engine import DialogueEngine
from bots.dialogue.loader import DEFAULT_FLOWS_DIR, FlowLibrary
from bots.dialogue.service import BotService, SqlTrackerStore
from bots.handoff import HandoffDesk
from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.store import open_store
from core.store.tables.base import Base
from routing.config import load_queues
from routing.model import AgentSnapshot
from routing.service import RoutingService
from tests.unit.bots.fakes import KeywordUnderstander


@pytest.fixture
async def wired(tmp_path: Path) -> AsyncIterator[tuple[BotService, RoutingService]]:
    from datetime import UTC, datetime

    import core.store.tables.bots
    import core.store.tables.crm
    import core.store.tables.routing  # noqa: F401

    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'hotline.db'}")
    async with store.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await seed_demo_crm(store.sessions)
    clock = FrozenClock(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    bus = MemoryBus()
    routing = RoutingService(sessions=store.sessions, bus=bus, clock=clock, queues=load_queues())
    await routing.start()
    routing.subscribe()
    await bus.start()
    service = BotService(
        engine=DialogueEngine(
            library=FlowLibrary(DEFAULT_FLOWS_DIR),
            crm=StoreCrm(store.sessions, clock=clock),
            clock=clock,
        ),
        understander=KeywordUnderstander(),
        trackers=SqlTrackerStore(sessions=store.sessions, clock=clock),
        bus=bus,
        clock=clock,
        desk=HandoffDesk(sessions=store.sessions, clock=clock, live_position=routing.position),
    )
    yield service, routing
    await bus.close()
    await store.close()


async def _say(service: BotService, sender: str, text: str) -> str:
    return " ".join(r.text for r in await service.handle_message(sender, text))


async def test_queue_messages_carry_routings_position_and_wait(wired) -> None:  # type: ignore[no-untyped-def]
    service, routing = wired
    # Nobody signed in: routing's wait is unknown, and the bot does not invent one.
    first = await _say(service, "c1", "I want to talk to a person")
    assert "number 1 in the queue; no colleague is free right now" in first
    t1 = await service.tracker("c1")
    assert t1 is not None and routing.position(t1.contact_id).position == 1

    # One English agent signs in but is on a break: one staffed, none free → EWT = AHT.
    await routing.upsert_agent(AgentSnapshot("a1", languages=frozenset({"en"})))
    await routing.login("a1")
    await routing.take_break("a1", "lunch")
    aht_min = round(routing.queues["default"].aht_s / 60)
    routing._clock.advance(1)  # c2 arrives after c1 (a frozen-clock tie would order by id)
    second = await _say(service, "c2", "Can I speak to a human please")
    assert f"number 2 in the queue; the wait is about {2 * aht_min} minutes" in second
    assert f"position 1, about {aht_min} minutes" in await _say(service, "c1", "still there?")
    hold = await service.hold_update("c2")  # the voice hold message reads the same numbers
    assert f"position 2, about {2 * aht_min} minutes" in hold[0].text
    t2 = await service.tracker("c2")
    assert t2 is not None
    assert {e.get("source") for e in t2.events if e["event"] == "queue_position"} == {"routing"}
