"""Handoff to a human: the packet, the waiting queue, business hours and hand-back.

The packet is ``core.events.HandoffRequested`` — identity and verification, intent and slots
so far (sensitive slots masked), the emotion trajectory, a one-line summary, the reason, a
transcript link, suggested queue/skills and language — published on the bus so routing can
take over, and stored as a ``bot_handoffs`` row so the agent page works before routing does.
Both directions (bot → agent, agent → bot) are written to ``bot_handoff_log``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.clock import Clock
from core.events import HandoffRequested
from core.store.tables.bots import BotHandoffLogRow, BotHandoffRow

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AVG_HANDLE_S = 240.0  # EWT per waiting contact when routing does not know the contact
LIVE_WAIT_S = 0.5  # how long a new handoff waits for routing to have queued it (bus delivery)
LIVE_POLL_S = 0.05

# Routing's view of a waiting contact, injected by the composition root (bots may not import
# routing): ``contact_id`` → an object with ``position`` (1-based) and ``ewt_s`` (seconds,
# ``inf`` when no agent who could take it is signed in) — ``RoutingService.position``. It may
# raise or return None when routing does not know the contact (not queued yet, or assigned).
LivePosition = Callable[[str], Any]

# Which queue and skills a flow's intent suggests (routing may override).
QUEUE_FOR_INTENT: dict[str, tuple[str, tuple[str, ...]]] = {
    "report_lost_card": ("cards", ("cards",)),
    "dispute_charge": ("billing", ("billing",)),
    "complaint": ("complaints", ("complaints",)),
    "check_balance": ("billing", ("billing",)),
    "change_address": ("default", ()),
}


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (``{"mon": "08:00-20:00"}``) in one time zone."""

    hours: dict[str, str]
    timezone: str = "UTC"

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.timezone))
        span = self.hours.get(DAYS[local.weekday()])
        if not span:
            return False
        start, end = (time.fromisoformat(p.strip()) for p in span.split("-"))
        return start <= local.time().replace(tzinfo=None) < end


def summarise(*, intents: list[str], slots: dict[str, str], reason: str, verified: bool) -> str:
    """A short line the agent reads first; names what the customer wanted and where it stopped."""
    wanted = next((i for i in reversed(intents) if i in QUEUE_FOR_INTENT), None)
    parts = [f"Customer wants: {wanted.replace('_', ' ')}" if wanted else "No clear request"]
    parts.append("verified" if verified else "not verified")
    parts.append(f"handoff reason: {reason.replace('_', ' ')}")
    if slots:
        parts.append("known: " + ", ".join(sorted(slots)))
    return "; ".join(parts) + "."


def build_packet(
    *,
    contact_id: str,
    reason: str,
    language: str | None,
    intents: list[str],
    slots: dict[str, str],
    sensitive: frozenset[str],
    customer_id: str | None,
    verified: bool,
    emotions: list[str],
    default_queue: str,
    at: datetime,
    queue: str | None = None,
    skills: tuple[str, ...] = (),
    channel: str | None = None,
) -> HandoffRequested:
    wanted = next((i for i in reversed(intents) if i in QUEUE_FOR_INTENT), None)
    q, sk = QUEUE_FOR_INTENT.get(wanted or "", (default_queue, ()))
    # The language travels in ``language`` (routing matches it against agents' languages).
    skills = tuple(skills or sk)
    return HandoffRequested(
        contact_id=contact_id,
        at=at,
        reason=reason,
        language=language,
        summary=summarise(intents=intents, slots=slots, reason=reason, verified=verified),
        intent=wanted or (intents[-1] if intents else None),
        slots={k: ("***" if k in sensitive else v) for k, v in slots.items()},
        customer_id=customer_id,
        verified=verified,
        emotions=tuple(emotions[-10:]),
        queue=queue or q,
        skills=skills,
        transcript_url=f"/api/v1/contacts/{contact_id}/events",
        channel=channel,
    )


@dataclass(frozen=True)
class QueuePosition:
    """Place in line and estimated wait; ``source`` says whose numbers they are."""

    position: int
    ewt_s: float  # math.inf: nobody who could take the contact is signed in
    source: str = "estimate"  # "routing" (live ACD position/EWT) or "estimate" (store count)

    @property
    def agents_available(self) -> bool:
        return not math.isinf(self.ewt_s)

    @property
    def wait_min(self) -> int:
        """The wait rounded to whole minutes (at least 1) for announcements."""
        return 1 if math.isinf(self.ewt_s) else max(1, round(self.ewt_s / 60))


class HandoffDesk:
    """The handoff queue in the store: enqueue, position/wait, callback, hand back.

    With ``live_position`` (routing running) position and wait are routing's; without it,
    or for a contact routing does not know, they are estimated from the store's queue.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker,
        clock: Clock,
        live_position: LivePosition | None = None,
    ):
        self.sessions = sessions
        self.clock = clock
        self.live_position = live_position

    def _live(self, contact_id: str) -> QueuePosition | None:
        if self.live_position is None or not contact_id:
            return None
        try:
            live = self.live_position(contact_id)
        except Exception:  # routing does not know it (yet, or any more): estimate instead
            return None
        if live is None:
            return None
        try:
            position, ewt_s = int(live.position), float(live.ewt_s)
        except (AttributeError, TypeError, ValueError):
            return None
        if position < 1 or ewt_s < 0 or math.isnan(ewt_s):
            return None
        return QueuePosition(position, ewt_s, source="routing")

    async def enqueue(self, packet: HandoffRequested, *, sender_id: str) -> QueuePosition:
        now = self.clock.now()
        async with self.sessions() as s:
            s.add(
                BotHandoffRow(
                    contact_id=packet.contact_id or "",
                    sender_id=sender_id,
                    reason=packet.reason,
                    queue=packet.queue or "default",
                    language=packet.language,
                    packet=packet.model_dump(mode="json"),
                    summary=packet.summary,
                    created_at=now,
                    updated_at=now,
                )
            )
            s.add(
                BotHandoffLogRow(
                    contact_id=packet.contact_id or "",
                    direction="to_agent",
                    actor="bot",
                    reason=packet.reason,
                    at=now,
                )
            )
            await s.commit()
        contact_id = packet.contact_id or ""
        if self.live_position is not None:
            # Routing queues the contact when the handoff event reaches it; give the bus a
            # moment so the first announcement already carries routing's numbers.
            for _ in range(int(LIVE_WAIT_S / LIVE_POLL_S)):
                live = self._live(contact_id)
                if live is not None:
                    return live
                await asyncio.sleep(LIVE_POLL_S)
        return await self.position(contact_id)

    async def position(self, contact_id: str) -> QueuePosition:
        """Routing's live position and EWT when it knows the contact, else the estimate."""
        live = self._live(contact_id)
        if live is not None:
            return live
        async with self.sessions() as s:
            mine = await s.scalar(
                select(BotHandoffRow)
                .where(BotHandoffRow.contact_id == contact_id, BotHandoffRow.status == "waiting")
                .order_by(BotHandoffRow.id.desc())
                .limit(1)
            )
            if mine is None:
                return QueuePosition(0, 0.0)
            ahead = await s.scalar(
                select(func.count())
                .select_from(BotHandoffRow)
                .where(
                    BotHandoffRow.status == "waiting",
                    BotHandoffRow.queue == mine.queue,
                    BotHandoffRow.id < mine.id,
                )
            )
        pos = int(ahead or 0) + 1
        return QueuePosition(pos, pos * AVG_HANDLE_S)

    async def request_callback(self, contact_id: str, phone: str) -> None:
        async with self.sessions() as s:
            row = await s.scalar(
                select(BotHandoffRow)
                .where(BotHandoffRow.contact_id == contact_id)
                .order_by(BotHandoffRow.id.desc())
                .limit(1)
            )
            if row is not None:
                row.status, row.callback_phone = "callback", phone
                row.updated_at = self.clock.now()
                await s.commit()

    async def waiting(self, *, limit: int = 100) -> list[dict[str, Any]]:
        async with self.sessions() as s:
            rows = await s.scalars(
                select(BotHandoffRow)
                .where(BotHandoffRow.status.in_(("waiting", "callback", "assigned")))
                .order_by(BotHandoffRow.id)
                .limit(limit)
            )
            return [
                {
                    "id": r.id,
                    "contact_id": r.contact_id,
                    "sender_id": r.sender_id,
                    "reason": r.reason,
                    "queue": r.queue,
                    "language": r.language,
                    "status": r.status,
                    "summary": r.summary,
                    "packet": r.packet,
                    "callback_phone": r.callback_phone,
                    "created_at": r.created_at.isoformat(),
                }
                for r in rows
            ]

    async def hand_back(self, contact_id: str, *, agent_id: str, reason: str = "") -> bool:
        """Agent → bot: close the handoff row and log the direction; False if none open."""
        now = self.clock.now()
        async with self.sessions() as s:
            row = await s.scalar(
                select(BotHandoffRow)
                .where(
                    BotHandoffRow.contact_id == contact_id,
                    BotHandoffRow.status.in_(("waiting", "assigned")),
                )
                .order_by(BotHandoffRow.id.desc())
                .limit(1)
            )
            if row is None:
                return False
            row.status, row.agent_id, row.updated_at = "returned", agent_id, now
            s.add(
                BotHandoffLogRow(
                    contact_id=contact_id,
                    direction="to_bot",
                    actor=agent_id,
                    reason=reason,
                    at=now,
                )
            )
            await s.commit()
        return True

    async def close_open(self, contact_id: str, *, served: bool) -> bool:
        """The conversation ended: its open queue row becomes ``completed`` (an agent served
        it) or ``abandoned`` (the customer left while waiting); a callback row stays."""
        async with self.sessions() as s:
            row = await s.scalar(
                select(BotHandoffRow)
                .where(
                    BotHandoffRow.contact_id == contact_id,
                    BotHandoffRow.status.in_(("waiting", "assigned")),
                )
                .order_by(BotHandoffRow.id.desc())
                .limit(1)
            )
            if row is None:
                return False
            row.status = "completed" if served else "abandoned"
            row.updated_at = self.clock.now()
            await s.commit()
        return True

    async def log(self, contact_id: str) -> list[dict[str, Any]]:
        async with self.sessions() as s:
            rows = await s.scalars(
                select(BotHandoffLogRow)
                .where(BotHandoffLogRow.contact_id == contact_id)
                .order_by(BotHandoffLogRow.id)
            )
            return [
                {
                    "direction": r.direction,
                    "actor": r.actor,
                    "reason": r.reason,
                    "at": r.at.isoformat(),
                }
                for r in rows
            ]
