"""Ticket queries and the service on the migrated store, SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.events import Event, TicketCreated, TicketUpdated
from core.store import Store
from core.store.tables.contacts import ContactRow
from tests.conftest import wait_for
from tickets import repo
from tickets.errors import InvalidTicketTransition, TicketNotFound
from tickets.service import TicketService

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_create_list_and_move_tickets(store: Store) -> None:
    async with store.sessions.begin() as s:
        s.add(ContactRow(id="c1", channel="voice", status="ended", started_at=T0,
                         customer_id="cust-alice"))  # fmt: skip
    async with store.sessions.begin() as s:
        first = await repo.create_ticket(s, title=" Card dispute ", now=T0, contact_id="c1",
                                         kind="dispute", fields={"amount": "42.00"})  # fmt: skip
        second = await repo.create_ticket(
            s, title="Callback", now=T0 + timedelta(minutes=1), customer_id="cust-alice"
        )
        await repo.create_ticket(s, title="Someone else", now=T0, customer_id="cust-bob")
    assert first.customer_id == "cust-alice"  # filled in from the contact
    assert first.title == "Card dispute" and first.fields == {"amount": "42.00"}

    async with store.sessions() as s:
        rows, total = await repo.list_tickets(s, customer_id="cust-alice")
        assert ([r.id for r in rows], total) == ([second.id, first.id], 2)  # newest first
        page, total = await repo.list_tickets(s, customer_id="cust-alice", limit=1, offset=1)
        assert ([r.id for r in page], total) == ([first.id], 2)
        disputes, _ = await repo.list_tickets(s, kind="dispute")
        assert [r.id for r in disputes] == [first.id]

    later = T0 + timedelta(hours=1)
    async with store.sessions.begin() as s:
        row, changed = await repo.update_ticket(s, ticket_id=first.id, now=later, status="closed")
        assert changed and row.status == "closed" and row.closed_at == later
        _, changed = await repo.update_ticket(s, ticket_id=first.id, now=later, status="closed")
        assert not changed  # same status: no transition
    async with store.sessions.begin() as s:
        with pytest.raises(InvalidTicketTransition):
            await repo.update_ticket(s, ticket_id=first.id, now=later, status="resolved")
    async with store.sessions.begin() as s:
        row, _ = await repo.update_ticket(s, ticket_id=first.id, now=later, status="open",
                                          priority="high", assignee="agent2")  # fmt: skip
        assert (row.status, row.closed_at, row.priority, row.assignee) == (
            "open", None, "high", "agent2",
        )  # fmt: skip
    async with store.sessions() as s:
        open_rows, _ = await repo.list_tickets(s, customer_id="cust-alice",
                                               statuses=repo.OPEN_STATUSES)  # fmt: skip
        assert {r.id for r in open_rows} == {first.id, second.id}
        with pytest.raises(TicketNotFound):
            await repo.get_ticket(s, ticket_id="T-NOPE")


async def test_service_stores_then_publishes(store: Store) -> None:
    bus = MemoryBus()
    seen: list[Event] = []

    async def collect(ev: Event) -> None:
        seen.append(ev)

    bus.subscribe("test", collect, types=("ticket.created", "ticket.updated"))
    await bus.start()
    try:
        service = TicketService(sessions=store.sessions, bus=bus, clock=FrozenClock(T0))
        row = await service.create(title="Follow-up", created_by="agent1", contact_id="c9")
        await service.update(row.id, status="pending", note="waiting for the customer")
        await service.update(row.id, priority="high")  # no status change: no event
        await wait_for(lambda: len(seen) == 2)
        await bus.drain()
    finally:
        await bus.close()
    created, updated = seen
    assert isinstance(created, TicketCreated) and isinstance(updated, TicketUpdated)
    assert (created.ticket_id, created.contact_id, created.title) == (row.id, "c9", "Follow-up")
    assert (updated.status, updated.note) == ("pending", "waiting for the customer")
    async with store.sessions() as s:
        stored = await repo.get_ticket(s, ticket_id=row.id)
        assert (stored.status, stored.priority, stored.created_by) == ("pending", "high", "agent1")
