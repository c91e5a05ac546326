"""Follow-ups the bot opens are tickets when the ticket service is wired in (the product),
and CRM follow-up rows otherwise (tests and embedded use of the CRM alone)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bots.crm import StoreCrm
from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.events import TicketCreated
from core.store import open_store
from core.store.tables.base import Base
from core.store.tables.tickets import TicketRow
from tickets.service import TicketService


async def test_a_dispute_the_bot_opens_is_a_ticket_on_the_customer(tmp_path: Path) -> None:
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    async with store.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    bus = MemoryBus()
    seen: list[TicketCreated] = []

    async def keep(e) -> None:  # type: ignore[no-untyped-def]
        seen.append(e)

    bus.subscribe("t", keep, types=["ticket.created"])
    await bus.start()
    clock = FrozenClock()
    tickets = TicketService(sessions=store.sessions, bus=bus, clock=clock)
    crm = StoreCrm(store.sessions, clock=clock, tickets=tickets)
    ref = await crm.create_follow_up(
        customer_id="cust-alice",
        contact_id="c-1",
        kind="charge_dispute",
        details={"merchant": "Coffee Co", "amount": "42.00"},
    )
    await bus.drain()
    async with store.sessions() as s:
        row = (await s.execute(select(TicketRow))).scalar_one()
    assert ref == row.id
    assert (row.kind, row.customer_id, row.contact_id, row.created_by) == (
        "charge_dispute",
        "cust-alice",
        "c-1",
        "bot",
    )
    assert row.fields == {"merchant": "Coffee Co", "amount": "42.00"}
    assert "Coffee Co" in row.description and row.status == "open"
    assert [e.ticket_id for e in seen] == [ref]
    await bus.close()
    await store.close()
