"""HelpDesk on a real SQLite store and the memory bus: stored first, then published; the
status only moves forward; joining calls the injected monitor; HelpLive fans out to the
contact's watchers and to the floor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assist.help import ALL, HelpDesk, HelpLive, list_requests
from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.errors import ConflictError, NotFoundError
from core.events import Event, HelpRequested, HelpUpdated
from core.store import Store, open_store
from core.store.tables.assist import HelpRequestRow
from core.store.tables.base import Base

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite+aiosqlite:///{tmp_path / 'help.db'}")
    async with s.engine.begin() as conn:
        await conn.run_sync(
            Base.metadata.create_all, tables=[Base.metadata.tables[HelpRequestRow.__tablename__]]
        )
    yield s
    await s.close()


@pytest.fixture
async def bus() -> AsyncIterator[MemoryBus]:
    b = MemoryBus()
    await b.start()
    yield b
    await b.close()


async def test_a_request_moves_forward_and_is_announced(store: Store, bus: MemoryBus) -> None:
    clock = FrozenClock(T0)
    joins: list[tuple[str, str, str | None]] = []

    async def monitor(supervisor: str, contact_id: str, mode: str | None) -> None:
        joins.append((supervisor, contact_id, mode))

    live = HelpLive(bus)
    live.attach()
    floor, desk, other = live.watch(ALL), live.watch("c1"), live.watch("c2")
    desk_events: list[Event] = []

    async def collect(ev: Event) -> None:
        desk_events.append(ev)

    bus.subscribe("test", collect, types=("help.requested", "help.updated"))
    help_desk = HelpDesk(bus=bus, sessions=store.sessions, clock=clock, monitor=monitor)

    req, created = await help_desk.ask(contact_id="c1", agent_id="agent1", reason="angry",
                                       source="deescalation:escalate")  # fmt: skip
    assert created and req.status == "open"
    again, created = await help_desk.ask(contact_id="c1", agent_id="agent1")
    assert (again.id, created) == (req.id, False)  # one active request per agent and contact

    clock.advance(5)
    assert (await help_desk.acknowledge(req.id, supervisor="sup1")).status == "acknowledged"
    assert (await help_desk.acknowledge(req.id, supervisor="sup1")).status == "acknowledged"
    joined = await help_desk.join(req.id, supervisor="sup1")
    assert (joined.status, joined.mode, joined.supervisor_id) == ("joined", "listen", "sup1")
    assert joins == [("sup1", "c1", "listen")]
    assert (await help_desk.acknowledge(req.id, supervisor="sup2")).status == "joined"  # late
    closed = await help_desk.close(req.id, by="agent1")
    assert closed.status == "closed"
    assert (await help_desk.close(req.id, by="agent1")).status == "closed"  # no-op
    with pytest.raises(ConflictError):
        await help_desk.acknowledge(req.id, supervisor="sup1")
    with pytest.raises(ConflictError):
        await help_desk.join(req.id, supervisor="sup1")
    with pytest.raises(NotFoundError):
        await help_desk.acknowledge("help-nope", supervisor="sup1")

    await bus.drain()
    kinds = [(type(e).__name__, getattr(e, "status", None)) for e in desk_events]
    assert kinds == [("HelpRequested", None), ("HelpUpdated", "acknowledged"),
                     ("HelpUpdated", "joined"), ("HelpUpdated", "closed")]  # fmt: skip
    assert isinstance(desk_events[0], HelpRequested) and desk_events[0].at == T0
    last = desk_events[-1]
    assert isinstance(last, HelpUpdated) and (last.by, last.supervisor_id) == ("agent1", "sup1")
    got = [floor.get_nowait()["status"] for _ in range(floor.qsize())]
    assert got == ["open", "acknowledged", "joined", "closed"]
    assert [desk.get_nowait()["status"] for _ in range(desk.qsize())] == got
    assert other.empty()  # another contact's sidebar hears nothing

    async with store.sessions() as s:
        assert await list_requests(s) == []  # nothing active
        rows = await list_requests(s, statuses=None)
        assert [(r.status, r.reason, r.closed_at) for r in rows] == [
            ("closed", "angry", T0.replace(second=5))
        ]
    again, created = await help_desk.ask(contact_id="c1", agent_id="agent1")
    assert created and again.id != req.id  # a closed request does not block a new one


async def test_a_refused_join_changes_nothing(store: Store, bus: MemoryBus) -> None:
    async def monitor(supervisor: str, contact_id: str, mode: str | None) -> None:
        raise NotFoundError(f"contact {contact_id} is not being handled by an agent")

    help_desk = HelpDesk(bus=bus, sessions=store.sessions, clock=FrozenClock(T0), monitor=monitor)
    req, _ = await help_desk.ask(contact_id="c9", agent_id="agent2")
    with pytest.raises(NotFoundError):
        await help_desk.join(req.id, supervisor="sup1")
    async with store.sessions() as s:
        assert [r.status for r in await list_requests(s)] == ["open"]


async def test_live_ignores_redelivered_events(bus: MemoryBus) -> None:
    live = HelpLive(bus)
    q = live.watch("c1")
    ev = HelpRequested(contact_id="c1", at=T0, request_id="h1", agent_id="a1")
    await live.handle(ev)
    await live.handle(ev)  # a scale-out bus redelivers
    assert q.qsize() == 1
    live.unwatch("c1", q)
    assert live.watching("c1") == 0
