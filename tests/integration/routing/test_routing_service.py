"""RoutingService against a real store (SQLite in memory) and the real in-process bus."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.domain import AgentStatus as S
from core.domain import Channel
from core.events import ContactEnded, Event, HandoffRequested
from core.store.tables.base import Base
from core.store.tables.routing import (
    AgentStateHistoryRow,
    CallbackRow,
    QueuedContactRow,
    RoutingDecisionRow,
)
from routing.errors import InvalidTransition, UnknownContact, UnknownQueue
from routing.model import (
    AgentSnapshot,
    ContactRequest,
    OverflowRule,
    OverflowTarget,
    Policy,
    QueueConfig,
)
from routing.service import RoutingService

QUEUES = {
    "billing": QueueConfig("billing", skills={"billing": 3}),
    "sales": QueueConfig(
        "sales",
        overflow=(OverflowRule(OverflowTarget("callback"), after_wait_s=60),),
    ),
    "tiny": QueueConfig(
        "tiny",
        skills={"nobody": 1},
        overflow=(OverflowRule(OverflowTarget("voicemail"), after_wait_s=30),),
    ),
}
POLICY = Policy(ring_timeout_s=20, wrap_up_s=30)


@pytest.fixture
async def sessions() -> AsyncIterator[async_sessionmaker]:
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    b = MemoryBus()
    await b.start()
    yield b
    await b.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
async def events(bus: MemoryBus) -> list[Event]:
    seen: list[Event] = []

    async def keep(e: Event) -> None:
        seen.append(e)

    bus.subscribe("test", keep)
    return seen


async def make_service(sessions, bus, clock) -> RoutingService:  # type: ignore[no-untyped-def]
    svc = RoutingService(sessions=sessions, bus=bus, clock=clock, queues=QUEUES, policy=POLICY)
    await svc.start()
    return svc


def billing_agent(agent_id: str) -> AgentSnapshot:
    return AgentSnapshot(
        agent_id,
        skills={"billing": 5},
        languages=frozenset({"en"}),
        capacity={Channel.VOICE: 1, Channel.CHAT: 3},
    )


def call(cid: str, clock: FrozenClock, queue: str = "billing") -> ContactRequest:
    return ContactRequest(cid, clock.now(), queue_id=queue, language="en")


async def count(sessions, stmt) -> int:  # type: ignore[no-untyped-def]
    async with sessions() as s:
        return (await s.execute(stmt)).scalar_one()


async def test_queue_then_assign_accept_wrap_up(sessions, bus, clock, events) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    await svc.upsert_agent(billing_agent("a1"))
    d = await svc.enqueue(call("c1", clock))
    assert d is not None and d.kind == "wait"
    assert svc.position("c1").position == 1
    await bus.drain()
    queued = [e for e in events if e.type == "routing.queued"]
    assert queued and queued[0].position == 1 and "billing≥3" in queued[0].reason

    clock.advance(5)
    await svc.login("a1")
    assert svc.agents["a1"].state is S.RINGING
    assert svc.entries["c1"].status == "offered"
    await svc.accept("a1", "c1")
    assert svc.agents["a1"].state is S.BUSY and "c1" not in svc.entries
    await svc.end_contact("a1", "c1")
    assert svc.agents["a1"].state is S.WRAP_UP
    clock.advance(29)
    await svc.tick()
    assert svc.agents["a1"].state is S.WRAP_UP
    clock.advance(1)
    await svc.tick()
    assert svc.agents["a1"].state is S.AVAILABLE
    await bus.drain()

    assigned = [e for e in events if e.type == "routing.assigned"]
    assert len(assigned) == 1 and assigned[0].agent_id == "a1" and assigned[0].waited_s == 5
    states = [e.state for e in events if e.type == "agent.state"]
    assert states == [S.OFFLINE, S.AVAILABLE, S.RINGING, S.BUSY, S.WRAP_UP, S.AVAILABLE]
    n_hist = await count(sessions, select(func.count()).select_from(AgentStateHistoryRow))
    assert n_hist == len(states)
    async with sessions() as s:
        row = await s.get(QueuedContactRow, "c1")
        kinds = (await s.execute(select(RoutingDecisionRow.kind))).scalars().all()
    assert row is not None and row.status == "completed"
    assert kinds == ["wait", "assign"]


async def test_ring_no_answer_requeues_and_parks_agent(sessions, bus, clock, events) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    for a in ("a1", "a2"):
        await svc.upsert_agent(billing_agent(a))
    await svc.login("a1")
    clock.advance(1)
    await svc.login("a2")
    await svc.enqueue(call("c1", clock))
    first = svc.entries["c1"].agent_id
    assert first == "a1"  # longest idle
    clock.advance(19)
    await svc.tick()
    assert svc.entries["c1"].agent_id == "a1"
    clock.advance(1)
    await svc.tick()
    assert svc.agents["a1"].state is S.BREAK and svc.agents["a1"].state_reason == "missed"
    assert svc.entries["c1"].status == "offered" and svc.entries["c1"].agent_id == "a2"
    assert svc.entries["c1"].attempts == 1
    async with sessions() as s:
        reasons = (await s.execute(select(RoutingDecisionRow.reason))).scalars().all()
    assert any("no answer from a1 within 20s" in r for r in reasons)


async def test_reject_goes_back_in_line_to_someone_else(sessions, bus, clock) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    for a in ("a1", "a2"):
        await svc.upsert_agent(billing_agent(a))
        await svc.login(a)
    await svc.enqueue(call("c1", clock))
    await svc.reject("a1", "c1")
    assert svc.entries["c1"].agent_id == "a2"
    assert svc.agents["a1"].state is S.AVAILABLE
    with pytest.raises(UnknownContact):
        await svc.accept("a1", "c1")


async def test_restart_recovers_queue_without_loss_or_double_assignment(
    sessions, bus, clock
) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    await svc.upsert_agent(billing_agent("a1"))
    await svc.upsert_agent(billing_agent("a2"))
    await svc.login("a1")
    for i in range(4):
        clock.advance(1)
        await svc.enqueue(call(f"c{i}", clock))
    assert svc.entries["c0"].status == "offered"
    before = {cid: (e.status, e.agent_id) for cid, e in svc.entries.items()}

    # the process dies; a new one starts from the same store
    clock.advance(2)
    svc2 = await make_service(sessions, bus, clock)
    assert {cid: (e.status, e.agent_id) for cid, e in svc2.entries.items()} == before
    assert svc2.agents["a1"].offers == {"c0": Channel.VOICE}
    await svc2.tick()  # must not re-offer c0 or give a1 a second call
    assert svc2.agents["a1"].offers == {"c0": Channel.VOICE}
    await svc2.login("a2")
    assert svc2.entries["c1"].agent_id == "a2"  # next in line, not c0 again
    await svc2.accept("a1", "c0")
    await svc2.accept("a2", "c1")
    async with sessions() as s:
        rows = (await s.execute(select(QueuedContactRow))).scalars().all()
    by = {r.contact_id: (r.status, r.agent_id) for r in rows}
    assert by == {
        "c0": ("connected", "a1"),
        "c1": ("connected", "a2"),
        "c2": ("waiting", None),
        "c3": ("waiting", None),
    }


async def test_disconnect_requeues_everything(sessions, bus, clock) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    await svc.upsert_agent(billing_agent("a1"))
    await svc.login("a1")
    await svc.enqueue(ContactRequest("chat1", clock.now(), "billing", Channel.CHAT))
    await svc.accept("a1", "chat1")
    await svc.enqueue(ContactRequest("chat2", clock.now(), "billing", Channel.CHAT))
    assert svc.agents["a1"].offers == {"chat2": Channel.CHAT}
    released = await svc.disconnect("a1")
    assert set(released) == {"chat1", "chat2"}
    assert svc.agents["a1"].state is S.OFFLINE
    assert {svc.entries[c].status for c in ("chat1", "chat2")} == {"waiting"}
    with pytest.raises(InvalidTransition):
        await svc.finish_wrap_up("a1", "resolved")


async def test_bad_input_is_refused_clearly(sessions, bus, clock) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    with pytest.raises(UnknownQueue) as e:
        await svc.enqueue(call("c1", clock, queue="nope"))
    assert e.value.code == "unknown_queue"
    await svc.enqueue(call("c1", clock))
    with pytest.raises(UnknownQueue):
        await svc.transfer("c1", "missing")
    await svc.transfer("c1", "sales")
    assert svc.entries["c1"].contact.queue_id == "sales"
    assert await svc.enqueue(call("c1", clock)) is None  # idempotent


async def test_overflow_to_callback_and_voicemail(sessions, bus, clock) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    await svc.enqueue(call("cb", clock, queue="sales"))
    await svc.enqueue(call("vm", clock, queue="tiny"))
    clock.advance(61)
    await svc.tick()
    assert "vm" not in svc.entries
    cb = svc.entries["cb"]
    assert cb.contact.callback and cb.status == "waiting"
    await svc.tick()  # callback is not created twice
    assert await count(sessions, select(func.count()).select_from(CallbackRow)) == 1
    async with sessions() as s:
        vm = await s.get(QueuedContactRow, "vm")
    assert vm is not None and vm.status == "voicemail"


async def test_handoff_events_enqueue_and_hangups_abandon(sessions, bus, clock) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    svc.subscribe()
    await bus.publish(
        HandoffRequested(
            contact_id="h1", reason="asked", queue="billing", skills=("billing",), language="en"
        )
    )
    await bus.publish(HandoffRequested(contact_id="h1", reason="dup", queue="billing"))
    await bus.drain()
    assert svc.entries["h1"].status == "waiting"
    await bus.publish(ContactEnded(contact_id="h1", reason="hangup"))
    await bus.drain()
    assert "h1" not in svc.entries
    async with sessions() as s:
        row = await s.get(QueuedContactRow, "h1")
    assert row is not None and row.status == "abandoned"


async def test_supervisor_stats(sessions, bus, clock) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    await svc.upsert_agent(billing_agent("a1"))
    await svc.login("a1")
    await svc.enqueue(call("c1", clock))
    clock.advance(10)
    await svc.enqueue(call("c2", clock))
    clock.advance(5)
    st = svc.stats()["billing"]
    assert (st.waiting, st.ringing, st.longest_wait_s) == (1, 1, 5.0)
    assert svc.agent_counts()["ringing"] == 1


async def test_failed_write_leaves_memory_equal_to_store(sessions, bus, clock) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from core.errors import StoreError

    svc = await make_service(sessions, bus, clock)
    await svc.enqueue(call("c1", clock))
    async with sessions.begin() as s:
        await s.execute(text("DROP TABLE routing_decisions"))
    with pytest.raises(StoreError) as e:
        await svc.enqueue(call("c2", clock))
    assert e.value.recoverable
    assert set(svc.entries) == {"c1"}  # reloaded from the store: c2 was never accepted


async def test_caller_hangup_during_talk_starts_wrap_up(sessions, bus, clock) -> None:  # type: ignore[no-untyped-def]
    svc = await make_service(sessions, bus, clock)
    svc.subscribe()
    await svc.upsert_agent(billing_agent("a1"))
    await svc.login("a1")
    await svc.enqueue(call("c1", clock))
    await svc.accept("a1", "c1")
    await bus.publish(ContactEnded(contact_id="c1", reason="hangup"))
    await bus.drain()
    assert svc.agents["a1"].state is S.WRAP_UP and "c1" not in svc.connected
