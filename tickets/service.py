"""TicketService: creates and moves tickets; store first, then the bus.

The one entry point for every producer of tickets — the API, the agent's after-contact
wrap-up (through ``app.state.tickets``) and, in time, the bots' follow-up action — so each
ticket is stored once and announced once (``ticket.created`` / ``ticket.updated``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus.base import Bus
from core.clock import Clock
from core.events import TicketCreated, TicketUpdated
from core.store.tables.tickets import TicketRow
from tickets import repo


class TicketService:
    def __init__(self, *, sessions: async_sessionmaker[AsyncSession], bus: Bus, clock: Clock):
        self.sessions = sessions
        self.bus = bus
        self.clock = clock

    async def create(
        self,
        *,
        title: str,
        created_by: str | None,
        description: str = "",
        kind: str = "general",
        priority: str = "normal",
        customer_id: str | None = None,
        contact_id: str | None = None,
        queue: str | None = None,
        assignee: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> TicketRow:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            row = await repo.create_ticket(
                session, title=title, now=now, description=description, kind=kind,
                priority=priority, customer_id=customer_id, contact_id=contact_id, queue=queue,
                assignee=assignee, created_by=created_by, fields=fields,
            )  # fmt: skip
        await self.bus.publish(
            TicketCreated(
                contact_id=row.contact_id,
                at=now,
                ticket_id=row.id,
                title=row.title,
                status=row.status,
                queue=row.queue,
            )
        )
        return row

    async def update(
        self,
        ticket_id: str,
        *,
        status: str | None = None,
        priority: str | None = None,
        assignee: str | None = None,
        note: str | None = None,
    ) -> TicketRow:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            row, changed = await repo.update_ticket(
                session, ticket_id=ticket_id, now=now, status=status, priority=priority,
                assignee=assignee,
            )  # fmt: skip
        if changed:
            await self.bus.publish(
                TicketUpdated(
                    contact_id=row.contact_id,
                    at=now,
                    ticket_id=row.id,
                    status=row.status,
                    note=note,
                )
            )
        return row
