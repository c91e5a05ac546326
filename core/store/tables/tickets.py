"""Ticket tables: work orders opened by agents (after-contact follow-ups) and by bots.

A ticket belongs to a customer and, usually, to the contact it came from; ``status`` moves
open → pending → resolved → closed (reopening goes back to open). ``fields`` holds the
custom fields of a ticket kind (e.g. the disputed amount), so a new kind needs no migration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.store.tables.base import Base

TICKET_STATUSES = ("open", "pending", "resolved", "closed")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")


def _now() -> datetime:
    return datetime.now(UTC)


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("status IN ('open','pending','resolved','closed')", name="status"),
        CheckConstraint("priority IN ('low','normal','high','urgent')", name="priority"),
        Index("ix_tickets_customer_status", "customer_id", "status"),
        Index("ix_tickets_status_created", "status", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. T-3F9A2C1B
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(32), default="general")  # follow_up, dispute …
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    customer_id: Mapped[str | None] = mapped_column(String(64))
    contact_id: Mapped[str | None] = mapped_column(String(64), index=True)
    queue: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now)
    closed_at: Mapped[datetime | None]
