"""The append-only contact timeline: every bus event of a contact, in order, replayable.

``TimelineRecorder`` is a bus subscriber (group ``timeline``). It is idempotent on the event
id because durable buses redeliver; it creates the contact row on the first event it sees
and keeps the contact's status/outcome in step with ``contact.started``/``contact.ended``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus.base import Bus
from core.events import ContactEnded, ContactStarted, Event, RoutingAssigned, parse_event
from core.store.tables.contacts import ContactEventRow, ContactRow


async def append_event(session: AsyncSession, event: Event) -> bool:
    """Append one event; returns False if it was already stored (redelivery)."""
    if event.contact_id is None:
        return False
    exists = await session.scalar(
        select(ContactEventRow.seq).where(ContactEventRow.event_id == event.id)
    )
    if exists is not None:
        return False
    contact = await session.get(ContactRow, event.contact_id)
    if contact is None:
        contact = ContactRow(id=event.contact_id, channel="unknown", started_at=event.at)
        session.add(contact)
    if isinstance(event, ContactStarted):
        contact.channel = event.channel.value
        contact.direction = event.direction.value
        contact.language = event.language
        contact.customer_id = event.customer_id
        contact.queue = event.queue
        contact.started_at = event.at
    elif isinstance(event, ContactEnded):
        contact.status = "ended"
        contact.ended_at = event.at
        contact.outcome = event.outcome
    elif isinstance(event, RoutingAssigned):
        contact.agent_id = event.agent_id
        contact.queue = event.queue
    await session.flush()
    session.add(
        ContactEventRow(
            event_id=event.id,
            contact_id=event.contact_id,
            type=event.type,  # type: ignore[attr-defined]
            version=event.version,
            at=event.at,
            payload=event.model_dump(mode="json"),
        )
    )
    return True


async def read_timeline(
    sessions: async_sessionmaker, contact_id: str, *, types: set[str] | None = None
) -> list[Event]:
    """Replay a contact's events in the order they were appended."""
    async with sessions() as session:
        stmt = (
            select(ContactEventRow.payload)
            .where(ContactEventRow.contact_id == contact_id)
            .order_by(ContactEventRow.seq)
        )
        if types:
            stmt = stmt.where(ContactEventRow.type.in_(types))
        rows = (await session.scalars(stmt)).all()
    return [parse_event(p) for p in rows]


class TimelineRecorder:
    """Bus subscriber that appends every contact event to the store."""

    group = "timeline"

    def __init__(self, *, bus: Bus, sessions: async_sessionmaker):
        self.bus = bus
        self.sessions = sessions
        self.stored = 0

    def attach(self) -> None:
        self.bus.subscribe(self.group, self.handle)

    async def handle(self, event: Event) -> None:
        if event.contact_id is None:
            return
        async with self.sessions() as session:
            try:
                if await append_event(session, event):
                    await session.commit()
                    self.stored += 1
            except IntegrityError:  # a concurrent redelivery won the race: already stored
                await session.rollback()
