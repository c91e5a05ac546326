"""Supervisor help requests: the sidebar's "ask a supervisor", made real.

An agent asks (``POST /assist/help-requests``): the request is stored (``help_requests``)
and published as ``help.requested``. Supervisors see it live on ``/assist/help-requests``,
acknowledge it ("a supervisor is coming") and join the contact (listen, through the call
control's monitor); each step is stored and published as ``help.updated``, which the agent's
sidebar shows live. Status only moves forward: open → acknowledged → joined → closed (a
join without an acknowledgement acknowledges too).

:class:`HelpDesk` does the work (store first, then the bus: a request on the bus is always
readable from the store); :class:`HelpLive` fans the two event types out to the sockets
watching a contact (the agent) or every request (supervisors). Like the suggestion fan-out
(:mod:`assist.live`), a socket's queue is bounded and a reconnecting page catches up from
the store.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assist.live import QUEUE_SIZE, LiveQueues
from core.bus.base import Bus, Subscription
from core.clock import Clock
from core.errors import ConflictError, NotFoundError
from core.events import Event, HelpRequested, HelpUpdated
from core.store.tables.assist import HelpRequestRow

GROUP = "assist-help"
STATUSES = ("open", "acknowledged", "joined", "closed")
ACTIVE = ("open", "acknowledged", "joined")
ALL = "*"  # the watch key of supervisors: every contact's requests

# (supervisor, contact_id, mode) → joins the supervisor to the contact's media
# (app.py passes routing's CallControl.monitor; assist does not import routing).
Monitor = Callable[[str, str, str | None], Awaitable[Any]]


@dataclass(frozen=True)
class HelpRequest:
    """One help request as the pages and the API see it."""

    id: str
    contact_id: str
    agent_id: str
    status: str
    reason: str
    source: str | None
    supervisor_id: str | None
    mode: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: HelpRequestRow) -> HelpRequest:
        return cls(
            id=row.id, contact_id=row.contact_id, agent_id=row.agent_id, status=row.status,
            reason=row.reason, source=row.source, supervisor_id=row.supervisor_id,
            mode=row.mode, created_at=_utc(row.created_at), updated_at=_utc(row.updated_at),
        )  # fmt: skip

    def message(self) -> dict[str, Any]:
        """The JSON both pages receive (snapshot and live alike)."""
        return {
            "type": "help", "id": self.id, "contact_id": self.contact_id,
            "agent_id": self.agent_id, "status": self.status, "reason": self.reason,
            "source": self.source, "supervisor_id": self.supervisor_id, "mode": self.mode,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
        }  # fmt: skip


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# --- queries ---------------------------------------------------------------------------------


async def list_requests(
    session: AsyncSession,
    *,
    contact_id: str | None = None,
    statuses: tuple[str, ...] | None = ACTIVE,
    limit: int = 200,
) -> list[HelpRequestRow]:
    """Requests, oldest first (the one waiting longest is on top of the supervisor's list)."""
    q = select(HelpRequestRow)
    if contact_id is not None:
        q = q.where(HelpRequestRow.contact_id == contact_id)
    if statuses is not None:
        q = q.where(HelpRequestRow.status.in_(statuses))
    q = q.order_by(HelpRequestRow.created_at, HelpRequestRow.id).limit(limit)
    return list((await session.scalars(q)).all())


class HelpDesk:
    """Creates and moves help requests: store, then publish."""

    def __init__(
        self,
        *,
        bus: Bus,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        monitor: Monitor | None = None,
    ):
        self.bus = bus
        self.sessions = sessions
        self.clock = clock
        self.monitor = monitor

    async def ask(
        self, *, contact_id: str, agent_id: str, reason: str = "", source: str | None = None
    ) -> tuple[HelpRequest, bool]:
        """Open a request (or return the agent's active one on this contact: a double click
        or a reloaded sidebar must not page the floor twice). ``(request, created)``."""
        now = self.clock.now()
        async with self.sessions.begin() as session:
            active = await session.scalar(
                select(HelpRequestRow).where(
                    HelpRequestRow.contact_id == contact_id,
                    HelpRequestRow.agent_id == agent_id,
                    HelpRequestRow.status.in_(ACTIVE),
                )
            )
            if active is not None:
                return HelpRequest.of(active), False
            row = HelpRequestRow(
                id=f"help-{uuid.uuid4().hex[:12]}", contact_id=contact_id, agent_id=agent_id,
                status="open", reason=reason[:2000], source=source, created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            req = HelpRequest.of(row)
        await self.bus.publish(
            HelpRequested(
                contact_id=contact_id,
                at=now,
                request_id=req.id,
                agent_id=agent_id,
                reason=req.reason,
                source=source,
            )
        )
        return req, True

    async def acknowledge(self, request_id: str, *, supervisor: str) -> HelpRequest:
        """A supervisor takes the request: the agent sees "a supervisor is coming"."""
        return await self._move(request_id, "acknowledged", supervisor=supervisor)

    async def join(self, request_id: str, *, supervisor: str, mode: str = "listen") -> HelpRequest:
        """The supervisor joins the contact (monitor ``mode``) and the agent sees it."""
        async with self.sessions() as session:
            row = await session.get(HelpRequestRow, request_id)
            if row is None:
                raise NotFoundError(f"no help request {request_id!r}")
            contact_id, status = row.contact_id, row.status
        if status == "closed":
            raise ConflictError(f"help request {request_id} is closed")
        if self.monitor is not None:
            await self.monitor(supervisor, contact_id, mode)  # refuses a contact nobody handles
        return await self._move(request_id, "joined", supervisor=supervisor, mode=mode)

    async def close(self, request_id: str, *, by: str) -> HelpRequest:
        return await self._move(request_id, "closed", supervisor=None, by=by)

    async def _move(
        self,
        request_id: str,
        status: str,
        *,
        supervisor: str | None,
        mode: str | None = None,
        by: str | None = None,
    ) -> HelpRequest:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            row = await session.get(HelpRequestRow, request_id)
            if row is None:
                raise NotFoundError(f"no help request {request_id!r}")
            if row.status == "closed":
                if status == "closed":
                    return HelpRequest.of(row)  # closing twice is a no-op
                raise ConflictError(f"help request {request_id} is closed")
            if STATUSES.index(status) < STATUSES.index(row.status):
                return HelpRequest.of(row)  # a late "acknowledge" after a join changes nothing
            same_supervisor = supervisor is None or supervisor == row.supervisor_id
            if status == row.status and same_supervisor and mode in (None, row.mode):
                return HelpRequest.of(row)  # repeated click: nothing new to tell anyone
            row.status = status
            if supervisor is not None:
                row.supervisor_id = supervisor
            if mode is not None:
                row.mode = mode
            row.updated_at = now
            if status == "closed":
                row.closed_at = now
            await session.flush()
            req = HelpRequest.of(row)
        await self.bus.publish(
            HelpUpdated(
                contact_id=req.contact_id,
                at=now,
                request_id=req.id,
                status=status,  # type: ignore[arg-type]
                agent_id=req.agent_id,
                supervisor_id=req.supervisor_id,
                mode=req.mode,
                by=by or supervisor,
            )
        )
        return req


# --- live fan-out ----------------------------------------------------------------------------


def event_message(event: HelpRequested | HelpUpdated) -> dict[str, Any]:
    """A bus event as the pages' JSON (the same shape as :meth:`HelpRequest.message`)."""
    at = event.at.isoformat()
    if isinstance(event, HelpRequested):
        return {
            "type": "help", "id": event.request_id, "contact_id": event.contact_id,
            "agent_id": event.agent_id, "status": "open", "reason": event.reason,
            "source": event.source, "supervisor_id": None, "mode": None,
            "created_at": at, "updated_at": at,
        }  # fmt: skip
    return {
        "type": "help", "id": event.request_id, "contact_id": event.contact_id,
        "agent_id": event.agent_id, "status": event.status, "supervisor_id": event.supervisor_id,
        "mode": event.mode, "by": event.by, "updated_at": at,
    }  # fmt: skip


class HelpLive(LiveQueues):
    """Per-contact (agents, key = contact id) and floor-wide (supervisors, key ``ALL``)
    fan-out of help events."""

    def __init__(self, bus: Bus, *, queue_size: int = QUEUE_SIZE):
        super().__init__(queue_size=queue_size)
        self.bus = bus
        self._sub: Subscription | None = None
        self._seen: dict[str, None] = {}

    def attach(self) -> Subscription:
        """Subscribe once (consumer group ``assist-help``); idempotent."""
        if self._sub is None:
            self._sub = self.bus.subscribe(
                GROUP, self.handle, types=("help.requested", "help.updated")
            )
        return self._sub

    async def handle(self, event: Event) -> None:
        if not isinstance(event, HelpRequested | HelpUpdated) or event.contact_id is None:
            return
        if event.id in self._seen:  # a redelivery: pages already have it
            return
        self._seen[event.id] = None
        if len(self._seen) > 10_000:
            self._seen.pop(next(iter(self._seen)))
        msg = event_message(event)
        for key in (event.contact_id, ALL):
            self._fan_out(key, msg)
