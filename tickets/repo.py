"""Ticket queries: keyword-only functions taking the session explicitly (no commits here)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.tables.contacts import ContactRow
from core.store.tables.tickets import TicketRow
from tickets.errors import InvalidTicketTransition, TicketNotFound

OPEN_STATUSES = ("open", "pending")
# Where a ticket may go from each status; the same status is a no-op, not a transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"pending", "resolved", "closed"}),
    "pending": frozenset({"open", "resolved", "closed"}),
    "resolved": frozenset({"open", "closed"}),
    "closed": frozenset({"open"}),
}


def new_ticket_id() -> str:
    """``T-3F9A2C1B``: short enough to read out to a customer."""
    return "T-" + uuid.uuid4().hex[:8].upper()


async def create_ticket(
    session: AsyncSession,
    *,
    title: str,
    now: datetime,
    description: str = "",
    kind: str = "general",
    priority: str = "normal",
    customer_id: str | None = None,
    contact_id: str | None = None,
    queue: str | None = None,
    assignee: str | None = None,
    created_by: str | None = None,
    fields: dict[str, Any] | None = None,
) -> TicketRow:
    """Add a ticket; a contact's customer is filled in when only the contact is given."""
    if customer_id is None and contact_id is not None:
        contact = await session.get(ContactRow, contact_id)
        customer_id = contact.customer_id if contact is not None else None
    row = TicketRow(
        id=new_ticket_id(), title=title.strip(), description=description, kind=kind,
        status="open", priority=priority, customer_id=customer_id, contact_id=contact_id,
        queue=queue, assignee=assignee, created_by=created_by, fields=dict(fields or {}),
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(row)
    await session.flush()
    return row


async def get_ticket(session: AsyncSession, *, ticket_id: str) -> TicketRow:
    row = await session.get(TicketRow, ticket_id)
    if row is None:
        raise TicketNotFound(f"no ticket {ticket_id!r}")
    return row


async def list_tickets(
    session: AsyncSession,
    *,
    customer_id: str | None = None,
    contact_id: str | None = None,
    kind: str | None = None,
    statuses: tuple[str, ...] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[TicketRow], int]:
    """Newest first, with the total matching count (for paging)."""
    conds = []
    if customer_id is not None:
        conds.append(TicketRow.customer_id == customer_id)
    if contact_id is not None:
        conds.append(TicketRow.contact_id == contact_id)
    if kind is not None:
        conds.append(TicketRow.kind == kind)
    if statuses is not None:
        conds.append(TicketRow.status.in_(statuses))
    total = await session.scalar(select(func.count()).select_from(TicketRow).where(*conds))
    q = (
        select(TicketRow)
        .where(*conds)
        .order_by(TicketRow.created_at.desc(), TicketRow.id)
        .limit(limit)
        .offset(offset)
    )
    return list((await session.scalars(q)).all()), int(total or 0)


async def update_ticket(
    session: AsyncSession,
    *,
    ticket_id: str,
    now: datetime,
    status: str | None = None,
    priority: str | None = None,
    assignee: str | None = None,
) -> tuple[TicketRow, bool]:
    """Apply the given changes; ``(row, status_changed)``. A forbidden move raises."""
    row = await get_ticket(session, ticket_id=ticket_id)
    changed = False
    if status is not None and status != row.status:
        if status not in TRANSITIONS[row.status]:
            raise InvalidTicketTransition(
                f"ticket {ticket_id} is {row.status}: it can go to "
                + ", ".join(sorted(TRANSITIONS[row.status]))
            )
        row.status = status
        row.closed_at = now if status == "closed" else None
        changed = True
    if priority is not None:
        row.priority = priority
    if assignee is not None:
        row.assignee = assignee or None
    row.updated_at = now
    await session.flush()
    return row, changed
