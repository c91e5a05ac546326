"""Today's SL and abandon counters on the supervisor view survive a restart: a fresh LiveHub
rebuilt from the store shows what the live one counted from the bus."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.domain import Channel
from core.events import ContactEnded
from core.store.tables.base import Base
from routing.live import LiveHub
from routing.model import AgentSnapshot, ContactRequest, Policy, QueueConfig
from routing.service import RoutingService

QUEUES = {"billing": QueueConfig("billing", skills={"billing": 3}, sl_threshold_s=20)}


def _counts(hub: LiveHub) -> dict:
    (q,) = hub.snapshot()["queues"]
    return {k: q[k] for k in ("answered_today", "sl_today", "abandoned_today")}


async def test_restart_keeps_todays_service_level_and_abandons() -> None:
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = MemoryBus()
    await bus.start()
    clock = FrozenClock()
    svc = RoutingService(sessions=sessions, bus=bus, clock=clock, queues=QUEUES, policy=Policy())
    await svc.start()
    svc.subscribe()
    cap = {Channel.VOICE: 1, Channel.CHAT: 1}
    await svc.upsert_agent(AgentSnapshot("a1", skills={"billing": 8}, capacity=cap))
    live = LiveHub(routing=svc, bus=bus, clock=clock)
    live.attach()
    await svc.login("a1")
    await svc.make_available("a1")

    async def answer(cid: str, after_s: float) -> None:
        await svc.enqueue(ContactRequest(cid, clock.now(), queue_id="billing"))
        clock.advance(after_s)
        await svc.accept("a1", cid)
        await svc.end_contact("a1", cid)
        await svc.finish_wrap_up("a1", "resolved")
        await svc.make_available("a1")

    await answer("fast", 5)  # within the 20 s service level
    await answer("slow", 45)  # outside it
    await svc.logout("a1")
    await svc.enqueue(ContactRequest("gone", clock.now(), queue_id="billing"))
    clock.advance(30)
    await bus.publish(ContactEnded(contact_id="gone", reason="hangup"))
    await bus.drain()
    counted = _counts(live)
    assert counted == {"answered_today": 2, "sl_today": 0.5, "abandoned_today": 1}

    restarted = LiveHub(routing=svc, bus=bus, clock=clock)
    assert _counts(restarted)["answered_today"] == 0
    await restarted.restore(sessions)
    assert _counts(restarted) == counted
    await bus.close()
    await engine.dispose()
