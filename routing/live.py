"""Live fan-out to the agent desktop and the supervisor view (one WebSocket per page).

A bus subscriber (group ``routing-live``) turns events into small JSON messages for the
pages that care:

* an agent gets its offers (``offer`` with the bot's handoff packet), its own state, the
  ``transcript`` of contacts it is offered or handling, consult/conference invitations and
  call-control changes of its contacts;
* supervisors get every agent state, call-control change, and every ``interval_s`` a
  ``stats`` snapshot (queues: waiting, ringing, longest wait, SL today, abandons today;
  agents with state) plus ``alert`` messages when a threshold is crossed (edge-triggered,
  re-armed when the value falls back below it).

Handoff packets are cached per contact (bounded) so an offer can carry the packet even
though ``routing.assigned`` comes after ``handoff.requested``. SL/abandon counters are
per UTC day, kept in memory and rebuilt from the store at start-up (:meth:`LiveHub.restore`).

A page that goes away is forgotten; when an agent's *last* desktop connection has been
gone for ``grace_s`` (a reload comes back sooner), :meth:`RoutingService.disconnect`
makes the agent offline and re-queues every contact it was offered or handling.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus.base import Bus
from core.clock import Clock
from core.domain import AgentStatus
from core.events import (
    AgentState,
    ContactEnded,
    Event,
    HandoffRequested,
    RoutingAssigned,
    RoutingQueued,
    TranscriptFinal,
)
from core.store.tables.routing import AgentStateHistoryRow, QueuedContactRow
from routing.call_control import ControlState
from routing.service import RoutingService

log = structlog.get_logger("hotline.routing.live")
Send = Callable[[dict[str, Any]], Awaitable[None]]
LIVE_TYPES = (
    "handoff.requested",
    "routing.queued",
    "routing.assigned",
    "agent.state",
    "transcript.final",
    "contact.ended",
)


@dataclass(frozen=True)
class AlertRules:
    """Supervisor thresholds (configurable per deployment)."""

    longest_wait_s: float = 180.0
    waiting: int = 10
    service_level: float = 0.8  # alert when SL today falls below (after min_answered)
    min_answered: int = 5


@dataclass
class Client:
    """One connected page."""

    user: str
    send: Send
    supervisor: bool = False


@dataclass
class DayCounters:
    day: date | None = None
    answered: dict[str, int] = field(default_factory=dict)
    within_sl: dict[str, int] = field(default_factory=dict)
    abandoned: dict[str, int] = field(default_factory=dict)
    counted: set[str] = field(default_factory=set)


def _aware(at: datetime) -> datetime:
    """SQLite hands datetimes back naive (stored as UTC)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


class LiveHub:
    """Bus → pages. ``attach`` subscribes; ``run`` pushes stats; ``connect`` registers a page."""

    def __init__(
        self,
        *,
        routing: RoutingService,
        bus: Bus,
        clock: Clock,
        rules: AlertRules | None = None,
        grace_s: float = 10.0,
        interval_s: float = 2.0,
        max_packets: int = 1000,
    ):
        self.routing = routing
        self.bus = bus
        self.clock = clock
        self.rules = rules or AlertRules()
        self.grace_s = grace_s
        self.interval_s = interval_s
        self._stats_task: asyncio.Task | None = None
        self.clients: list[Client] = []
        self.packets: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._max_packets = max_packets
        self._queued_at: dict[str, str] = {}  # contact -> queue while waiting
        self._counters = DayCounters()
        self._alerts_on: set[str] = set()
        self._pending_disconnects: dict[str, asyncio.Task] = {}
        self.disconnected: list[tuple[str, tuple[str, ...]]] = []  # (agent, re-queued) log

    # -- wiring --------------------------------------------------------------------------
    def attach(self) -> None:
        self.bus.subscribe("routing-live", self.on_event, types=LIVE_TYPES)

    async def restore(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Rebuild today's counters from the store, so a restart does not zero the
        supervisor's SL and abandons: answers are the first ``busy`` on each contact in
        the agent-state history, abandons the contacts that left the queue unanswered."""
        now = self.clock.now()
        start = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
        c = DayCounters(day=now.date())
        async with sessions() as s:
            answers = await s.execute(
                select(AgentStateHistoryRow.contact_id, func.min(AgentStateHistoryRow.at))
                .where(
                    AgentStateHistoryRow.state == AgentStatus.BUSY.value,
                    AgentStateHistoryRow.contact_id.is_not(None),
                    AgentStateHistoryRow.at >= start,
                )
                .group_by(AgentStateHistoryRow.contact_id)
            )
            first_busy = {cid: at for cid, at in answers.all()}
            rows = await s.execute(
                select(
                    QueuedContactRow.contact_id,
                    QueuedContactRow.queue_id,
                    QueuedContactRow.enqueued_at,
                    QueuedContactRow.status,
                    QueuedContactRow.updated_at,
                ).where(
                    (QueuedContactRow.contact_id.in_(first_busy))
                    | (
                        (QueuedContactRow.status == "abandoned")
                        & (QueuedContactRow.updated_at >= start)
                    )
                )
            )
            for cid, q, enqueued_at, status, _updated in rows.all():
                if status == "abandoned" and cid not in first_busy:
                    c.abandoned[q] = c.abandoned.get(q, 0) + 1
                    continue
                c.counted.add(cid)
                c.answered[q] = c.answered.get(q, 0) + 1
                limit = self.routing.queues[q].sl_threshold_s if q in self.routing.queues else 20.0
                if (_aware(first_busy[cid]) - _aware(enqueued_at)).total_seconds() <= limit:
                    c.within_sl[q] = c.within_sl.get(q, 0) + 1
        self._counters = c
        for cid, entry in self.routing.entries.items():
            if entry.status in ("waiting", "offered"):
                self._queued_at[cid] = entry.contact.queue_id

    async def connect(self, user: str, send: Send, *, supervisor: bool) -> Client:
        client = Client(user, send, supervisor)
        self.clients.append(client)
        pending = self._pending_disconnects.pop(user, None)
        if pending is not None:
            pending.cancel()
        await self._safe(client, {"type": "hello", "user": user, "supervisor": supervisor})
        if supervisor:
            await self._safe(client, self.snapshot())
            if self._stats_task is None or self._stats_task.done():
                # pushed only while someone watches; the loop ends with the last supervisor
                self._stats_task = asyncio.create_task(self.run(), name="routing-live-stats")
        else:
            await self._replay_offers(client)
        return client

    async def disconnect(self, client: Client) -> None:
        """A page went away; an agent with no desktop left is disconnected after grace."""
        with contextlib.suppress(ValueError):
            self.clients.remove(client)
        if client.supervisor or client.user not in self.routing.agents:
            return
        if any(c.user == client.user and not c.supervisor for c in self.clients):
            return
        if self.grace_s <= 0:
            await self._disconnect_agent(client.user)
        else:
            self._pending_disconnects[client.user] = asyncio.create_task(
                self._later(client.user), name=f"live-disconnect-{client.user}"
            )

    async def _later(self, agent_id: str) -> None:
        await asyncio.sleep(self.grace_s)
        self._pending_disconnects.pop(agent_id, None)
        await self._disconnect_agent(agent_id)

    async def _disconnect_agent(self, agent_id: str) -> None:
        agent = self.routing.agents.get(agent_id)
        if agent is None or agent.state.value == "offline":
            return
        released = await self.routing.disconnect(agent_id)
        self.disconnected.append((agent_id, released))
        log.warning("routing.agent_browser_gone", agent=agent_id, requeued=list(released))

    async def close(self) -> None:
        tasks = [*self._pending_disconnects.values(), self._stats_task]
        for t in tasks:
            if t is not None:
                t.cancel()
        self._pending_disconnects.clear()

    # -- bus -----------------------------------------------------------------------------
    async def on_event(self, event: Event) -> None:
        cid = event.contact_id
        self._roll_day()
        if isinstance(event, HandoffRequested) and cid:
            self.packets[cid] = event.model_dump(mode="json")
            self.packets.move_to_end(cid)
            while len(self.packets) > self._max_packets:
                self.packets.popitem(last=False)
        elif isinstance(event, RoutingQueued) and cid:
            self._queued_at[cid] = event.queue
        elif isinstance(event, RoutingAssigned) and cid:
            await self._to_user(event.agent_id, self._offer(event))
        elif isinstance(event, AgentState):
            if event.state is AgentStatus.BUSY and cid:
                self._answered(cid, event)
            msg = {
                "type": "agent_state",
                "agent_id": event.agent_id,
                "state": event.state.value,
                "reason": event.reason,
                "contact_id": cid,
            }
            await self._to_user(event.agent_id, msg)
            await self._to_supervisors(msg)
        elif isinstance(event, TranscriptFinal) and cid:
            msg = {
                "type": "transcript",
                "contact_id": cid,
                "speaker": event.speaker.value,
                "text": event.text,
            }
            for user in self._watchers(cid):
                await self._to_user(user, msg)
        elif isinstance(event, ContactEnded) and cid:
            q = self._queued_at.pop(cid, None)
            entry = self.routing.entries.get(cid)
            if q is not None and (entry is None or entry.status in ("waiting", "offered")):
                c = self._counters
                c.abandoned[q] = c.abandoned.get(q, 0) + 1
            for user in self._watchers(cid):
                await self._to_user(user, {"type": "contact_ended", "contact_id": cid})

    def _answered(self, cid: str, event: AgentState) -> None:
        """Count an answer (once per contact per day) and whether it was within the SL."""
        c = self._counters
        entry = self.routing.connected.get(cid)
        if entry is None or cid in c.counted:
            return
        c.counted.add(cid)
        self._queued_at.pop(cid, None)
        q = entry.contact.queue_id
        c.answered[q] = c.answered.get(q, 0) + 1
        limit = self.routing.queues[q].sl_threshold_s if q in self.routing.queues else 20.0
        if (event.at - entry.contact.enqueued_at).total_seconds() <= limit:
            c.within_sl[q] = c.within_sl.get(q, 0) + 1

    async def control_changed(self, st: ControlState) -> None:
        """Call-control listener: tell the handler, invitees and supervisors."""
        msg = {"type": "control", **st.public()}
        users = {st.agent_id, *st.conference}
        if st.consult is not None and st.consult.kind == "agent":
            users.add(st.consult.value)
        for user in users:
            await self._to_user(user, msg)
        await self._to_supervisors(msg)

    # -- stats ---------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Queues and agents right now, for the supervisor page."""
        self._roll_day()
        c = self._counters
        queues = []
        for qid, st in sorted(self.routing.stats().items()):
            answered = c.answered.get(qid, 0)
            queues.append(
                {
                    "queue": qid,
                    "waiting": st.waiting,
                    "ringing": st.ringing,
                    "longest_wait_s": round(st.longest_wait_s, 1),
                    "answered_today": answered,
                    "sl_today": round(c.within_sl.get(qid, 0) / answered, 3) if answered else None,
                    "abandoned_today": c.abandoned.get(qid, 0),
                }
            )
        agents = [
            {
                "agent_id": a.id,
                "state": a.state.value,
                "reason": a.state_reason,
                "offers": sorted(a.offers),
                "active": sorted(a.active),
                "connected": any(cl.user == a.id and not cl.supervisor for cl in self.clients),
            }
            for a in sorted(self.routing.agents.values(), key=lambda a: a.id)
            if not a.is_bot_pool
        ]
        return {
            "type": "stats",
            "at": self.clock.now().isoformat(),
            "queues": queues,
            "agents": agents,
            "counts": self.routing.agent_counts(),
        }

    def alerts(self, snap: dict[str, Any]) -> list[dict[str, Any]]:
        """Threshold crossings since the last call (edge-triggered, re-armed below)."""
        fired: list[dict[str, Any]] = []
        r = self.rules
        for q in snap["queues"]:
            checks = (
                (
                    "longest_wait",
                    q["longest_wait_s"] > r.longest_wait_s,
                    f"{q['queue']}: longest wait {q['longest_wait_s']:.0f}s > "
                    f"{r.longest_wait_s:.0f}s",
                ),
                (
                    "waiting",
                    q["waiting"] > r.waiting,
                    f"{q['queue']}: {q['waiting']} waiting > {r.waiting}",
                ),
                (
                    "service_level",
                    q["sl_today"] is not None
                    and q["answered_today"] >= r.min_answered
                    and q["sl_today"] < r.service_level,
                    f"{q['queue']}: SL today {q['sl_today'] or 0:.0%} < {r.service_level:.0%}",
                ),
            )
            for kind, on, text in checks:
                key = f"{q['queue']}:{kind}"
                if on and key not in self._alerts_on:
                    self._alerts_on.add(key)
                    fired.append(
                        {"type": "alert", "queue": q["queue"], "kind": kind, "message": text}
                    )
                elif not on:
                    self._alerts_on.discard(key)
        return fired

    async def push_stats(self) -> list[dict[str, Any]]:
        snap = self.snapshot()
        fired = self.alerts(snap)
        await self._to_supervisors(snap)
        for a in fired:
            await self._to_supervisors(a)
        return fired

    async def run(self) -> None:
        """Stats loop: every ``interval_s`` while at least one supervisor page is open."""
        while any(c.supervisor for c in self.clients):
            try:
                await self.push_stats()
            except Exception:
                log.exception("routing.live_stats_failed")
            await asyncio.sleep(self.interval_s)

    # -- internals -----------------------------------------------------------------------
    def _offer(self, event: RoutingAssigned) -> dict[str, Any]:
        cid = event.contact_id or ""
        entry = self.routing.entries.get(cid)
        return {
            "type": "offer",
            "contact_id": cid,
            "queue": event.queue,
            "channel": entry.contact.channel.value if entry else None,
            "waited_s": event.waited_s,
            "reason": event.reason,
            "ring_deadline": entry.ring_deadline.isoformat()
            if entry and entry.ring_deadline
            else None,
            "packet": self.packets.get(cid),
        }

    async def _replay_offers(self, client: Client) -> None:
        """A (re)loaded desktop sees what is ringing at it and what it is handling."""
        agent = self.routing.agents.get(client.user)
        if agent is None:
            return
        await self._safe(
            client,
            {
                "type": "agent_state",
                "agent_id": agent.id,
                "state": agent.state.value,
                "reason": agent.state_reason,
            },
        )
        for cid in agent.offers:
            entry = self.routing.entries.get(cid)
            if entry is not None:
                ev = RoutingAssigned(
                    contact_id=cid, queue=entry.contact.queue_id, agent_id=agent.id
                )
                await self._safe(client, self._offer(ev))
        for cid in agent.active:
            await self._safe(
                client,
                {"type": "active", "contact_id": cid, "packet": self.packets.get(cid)},
            )

    def _watchers(self, contact_id: str) -> set[str]:
        users = {
            a.id
            for a in self.routing.agents.values()
            if contact_id in a.active or contact_id in a.offers
        }
        users |= {c.user for c in self.clients if c.supervisor}
        return users

    def _roll_day(self) -> None:
        today = self.clock.now().date()
        if self._counters.day != today:
            self._counters = DayCounters(day=today)

    async def _to_user(self, user: str, msg: dict[str, Any]) -> None:
        for c in [c for c in self.clients if c.user == user]:
            await self._safe(c, msg)

    async def _to_supervisors(self, msg: dict[str, Any]) -> None:
        for c in [c for c in self.clients if c.supervisor]:
            await self._safe(c, msg)

    async def _safe(self, client: Client, msg: dict[str, Any]) -> None:
        try:
            await client.send(msg)
        except Exception:
            with contextlib.suppress(ValueError):
                self.clients.remove(client)
