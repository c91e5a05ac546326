"""The routing service: the only I/O around the pure decision (DESIGN.md, "routing").

It keeps agents and the live queue in memory, mirrors every change into the store in one
transaction per operation, then publishes ``routing.queued`` / ``routing.assigned`` /
``agent.state``. The store is the source of truth: :meth:`RoutingService.start` rebuilds
memory from ``agents`` and ``queued_contacts``, and a failed commit reloads from it, so a
restart mid-queue neither loses nor double-assigns a contact.

Time comes from the injected clock; timers (ring no-answer, wrap-up expiry, bullseye and
overflow thresholds) advance when :meth:`tick` is called — the app calls it every second,
tests call it after moving a FrozenClock. One asyncio lock serialises operations, so two
agents can never be offered the same contact, nor one agent more than its capacity.

Persisted decisions: every assign/overflow/re-queue, and a wait whenever its reason
changes (not once per tick).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.bus.base import Bus
from core.clock import Clock
from core.domain import AgentStatus, Channel
from core.errors import StoreError
from core.events import (
    AgentState,
    ContactEnded,
    Event,
    HandoffRequested,
    RoutingAssigned,
    RoutingQueued,
)
from core.store.tables.routing import (
    AgentRow,
    AgentSkillRow,
    AgentStateHistoryRow,
    CallbackRow,
    QueuedContactRow,
    QueueRow,
    RoutingDecisionRow,
)
from routing import state
from routing.config import queue_to_dict
from routing.decide import Decision, plan, waited_s
from routing.errors import UnknownAgent, UnknownContact, UnknownQueue
from routing.ewt import QueuePosition, queue_position
from routing.model import AgentSnapshot, ContactRequest, Policy, QueueConfig

log = structlog.get_logger("hotline.routing")
OPEN = ("waiting", "offered")


@dataclass(slots=True)
class QueueEntry:
    """A contact in the ACD with its live status (mirrors one queued_contacts row)."""

    contact: ContactRequest
    status: str = "waiting"
    agent_id: str | None = None
    offered_at: datetime | None = None
    ring_deadline: datetime | None = None
    attempts: int = 0
    last_reason: str | None = None


@dataclass(slots=True)
class QueueStats:
    """One queue right now."""

    queue_id: str
    waiting: int = 0
    ringing: int = 0
    longest_wait_s: float = 0.0


@dataclass(slots=True)
class _Tx:
    """Changes staged by one operation, written in one transaction."""

    agents: dict[str, AgentSnapshot]
    entries: dict[str, tuple[QueueEntry, str]]  # contact id -> (entry, status to store)
    decisions: list[RoutingDecisionRow]
    history: list[AgentStateHistoryRow]
    callbacks: list[CallbackRow]
    events: list[Event]


def _tx() -> _Tx:
    return _Tx({}, {}, [], [], [], [])


class RoutingService:
    """Queues, agents and the ACD loop around :func:`routing.decide.plan`."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        clock: Clock,
        queues: Mapping[str, QueueConfig],
        policy: Policy | None = None,
        seed: int | None = None,
    ):
        self._sessions = sessions
        self._bus = bus
        self._clock = clock
        self.queues = dict(queues)
        self.policy = policy or Policy()
        self._seed = seed
        self.agents: dict[str, AgentSnapshot] = {}
        self.entries: dict[str, QueueEntry] = {}
        self.connected: dict[str, QueueEntry] = {}
        self._lock = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Store the queue configs, then rebuild agents and the live queue from the store."""
        now = self._clock.now()
        async with self._sessions.begin() as s:
            for q in self.queues.values():
                await s.merge(
                    QueueRow(
                        id=q.id,
                        name=q.id,
                        priority=q.priority,
                        strategy=q.strategy,
                        workers=q.workers,
                        config=queue_to_dict(q),
                        updated_at=now,
                    )
                )
        await self.recover()

    def subscribe(self) -> None:
        """Consume handoffs (enqueue) and contact ends (abandon if queued, wrap-up if talking)."""
        self._bus.subscribe("routing", self.on_event, types=["handoff.requested", "contact.ended"])

    async def on_event(self, event: Event) -> None:
        """Bus handler; idempotent because enqueue/abandon are (redelivery-safe)."""
        if isinstance(event, HandoffRequested) and event.contact_id:
            queue_id = event.queue or "default"
            if queue_id not in self.queues and "default" in self.queues:
                # a handoff must never be dropped: an unknown queue falls back to default
                log.warning("routing.unknown_queue_fallback", queue=queue_id)
                queue_id = "default"
            contact = ContactRequest(
                id=event.contact_id,
                enqueued_at=self._clock.now(),
                queue_id=queue_id,
                channel=event.channel or Channel.VOICE,
                skills_needed={s: 1 for s in event.skills},
                language=event.language,
            )
            await self.enqueue(contact)
        elif isinstance(event, ContactEnded) and event.contact_id:
            entry = self.entries.get(event.contact_id)
            talking = self.connected.get(event.contact_id)
            if entry is not None and entry.status in OPEN:
                await self.abandon(event.contact_id)
            elif (
                talking is not None
                and talking.agent_id in self.agents
                and event.contact_id in self.agents[talking.agent_id].active
            ):
                # the caller hung up on the agent: the agent moves to wrap-up
                await self.end_contact(talking.agent_id, event.contact_id)

    async def recover(self) -> None:
        """Load agents and open contacts; repair any half-written offer."""
        async with self._sessions() as s:
            agent_rows = (await s.execute(select(AgentRow))).scalars().all()
            skill_rows = (await s.execute(select(AgentSkillRow))).scalars().all()
            rows = (
                (
                    await s.execute(
                        select(QueuedContactRow).where(
                            QueuedContactRow.status.in_((*OPEN, "connected"))
                        )
                    )
                )
                .scalars()
                .all()
            )
        skills: dict[str, dict[str, int]] = {}
        for sk in skill_rows:
            skills.setdefault(sk.agent_id, {})[sk.skill] = sk.level
        self.agents = {r.id: _agent_from_row(r, skills.get(r.id, {})) for r in agent_rows}
        self.entries = {}
        self.connected = {}
        for r in rows:
            entry = _entry_from_row(r)
            if entry.status == "connected":
                self.connected[entry.contact.id] = entry
                continue
            agent = self.agents.get(entry.agent_id or "")
            if entry.status == "offered" and (
                agent is None or entry.contact.id not in agent.offers
            ):
                entry.status, entry.agent_id, entry.ring_deadline = "waiting", None, None
            self.entries[entry.contact.id] = entry
        for a in list(self.agents.values()):
            stale = [
                c for c in a.offers if c not in self.entries or self.entries[c].agent_id != a.id
            ]
            if stale:
                offers = {k: v for k, v in a.offers.items() if k not in stale}
                self.agents[a.id] = replace(a, offers=offers)
        log.info("routing.recovered", agents=len(self.agents), open_contacts=len(self.entries))

    # -- agents --------------------------------------------------------------------------
    async def upsert_agent(self, agent: AgentSnapshot, *, name: str = "") -> AgentSnapshot:
        """Create or reconfigure an agent (skills, languages, capacity); keeps its state."""
        async with self._lock:
            old = self.agents.get(agent.id)
            if old is not None:
                agent = replace(
                    agent,
                    state=old.state,
                    offers=old.offers,
                    active=old.active,
                    idle_since=old.idle_since,
                    state_reason=old.state_reason,
                    state_since=old.state_since,
                    wrap_up_until=old.wrap_up_until,
                    last_assigned_at=old.last_assigned_at,
                )
            tx = _tx()
            self._stage_agent(tx, agent, self._clock.now())
            self._dispatch(tx, self._clock.now())
            await self._commit(tx, skills_for=agent, name=name)
            return agent

    def _agent(self, agent_id: str) -> AgentSnapshot:
        try:
            return self.agents[agent_id]
        except KeyError:
            raise UnknownAgent(f"agent {agent_id!r} does not exist") from None

    async def _agent_op(
        self, agent_id: str, fn, *, disposition: str | None = None, contact_id: str | None = None
    ) -> AgentSnapshot:
        async with self._lock:
            now = self._clock.now()
            tx = _tx()
            new = fn(self._agent(agent_id), now)
            self._stage_agent(tx, new, now, disposition=disposition, contact_id=contact_id)
            self._dispatch(tx, now)
            await self._commit(tx)
            return self.agents[agent_id]

    async def login(self, agent_id: str) -> AgentSnapshot:
        return await self._agent_op(agent_id, state.login)

    async def make_available(self, agent_id: str) -> AgentSnapshot:
        return await self._agent_op(agent_id, state.make_available)

    async def take_break(self, agent_id: str, reason: str) -> AgentSnapshot:
        return await self._agent_op(agent_id, lambda a, now: state.take_break(a, reason, now))

    async def logout(self, agent_id: str) -> AgentSnapshot:
        return await self._agent_op(agent_id, state.go_offline)

    async def finish_wrap_up(self, agent_id: str, disposition: str) -> AgentSnapshot:
        allowed = self.policy.dispositions
        return await self._agent_op(
            agent_id,
            lambda a, now: state.finish_wrap_up(a, now, disposition=disposition, allowed=allowed),
            disposition=disposition,
        )

    async def accept(self, agent_id: str, contact_id: str) -> AgentSnapshot:
        """The agent answers: the contact leaves the queue (status connected)."""
        async with self._lock:
            now = self._clock.now()
            entry = self.entries.get(contact_id)
            if entry is None or entry.status != "offered" or entry.agent_id != agent_id:
                raise UnknownContact(f"contact {contact_id} is not ringing at agent {agent_id}")
            tx = _tx()
            new = state.accept(self._agent(agent_id), contact_id, now)
            self._stage_agent(tx, new, now, contact_id=contact_id)
            tx.entries[contact_id] = (entry, "connected")
            await self._commit(tx)
            return self.agents[agent_id]

    async def reject(self, agent_id: str, contact_id: str) -> AgentSnapshot:
        """The agent declines: the contact goes back in line at its old place."""
        return await self._release(agent_id, contact_id, missed=False)

    async def end_contact(self, agent_id: str, contact_id: str) -> AgentSnapshot:
        """The agent hangs up / closes the chat: timed wrap-up begins."""
        async with self._lock:
            now = self._clock.now()
            tx = _tx()
            new = state.end_contact(
                self._agent(agent_id), contact_id, now, wrap_up_s=self.policy.wrap_up_s
            )
            self._stage_agent(tx, new, now, contact_id=contact_id)
            await self._commit(tx, completed=(contact_id,))
            return self.agents[agent_id]

    async def disconnect(self, agent_id: str) -> tuple[str, ...]:
        """The agent's browser went away: offline, and every contact re-queued."""
        async with self._lock:
            now = self._clock.now()
            tx = _tx()
            new, released = state.disconnect(self._agent(agent_id), now)
            self._stage_agent(tx, new, now)
            for cid in released:
                entry = self.entries.get(cid) or self.connected.pop(cid, None)
                if entry is None:
                    continue
                self._requeue(tx, entry, now, f"agent {agent_id} disconnected; re-queued")
            self._dispatch(tx, now)
            await self._commit(tx)
            return released

    async def _release(self, agent_id: str, contact_id: str, *, missed: bool) -> AgentSnapshot:
        async with self._lock:
            now = self._clock.now()
            tx = _tx()
            self._release_staged(tx, agent_id, contact_id, now, missed=missed)
            self._dispatch(tx, now, exclude={agent_id})
            await self._commit(tx)
            return self.agents[agent_id]

    def _release_staged(
        self, tx: _Tx, agent_id: str, contact_id: str, now: datetime, *, missed: bool
    ) -> None:
        entry = self.entries.get(contact_id)
        if entry is None or entry.status != "offered" or entry.agent_id != agent_id:
            raise UnknownContact(f"contact {contact_id} is not ringing at agent {agent_id}")
        agent = self._agent(agent_id)
        if missed:
            new = state.miss(agent, contact_id, now, reason=self.policy.missed_reason)
            why = f"no answer from {agent_id} within {self.policy.ring_timeout_s:.0f}s"
        else:
            new = state.reject(agent, contact_id, now)
            why = f"rejected by {agent_id}"
        self._stage_agent(tx, new, now, contact_id=contact_id)
        self._requeue(tx, entry, now, f"{why}; re-queued")

    # -- contacts ------------------------------------------------------------------------
    async def enqueue(self, contact: ContactRequest) -> Decision | None:
        """Put a contact in line (idempotent on its id) and try to route it at once."""
        if contact.queue_id not in self.queues:
            raise UnknownQueue(f"contact {contact.id}: queue {contact.queue_id!r} does not exist")
        async with self._lock:
            if contact.id in self.entries or contact.id in self.connected:
                return None  # redelivered handoff: already queued or talking
            now = self._clock.now()
            tx = _tx()
            entry = QueueEntry(contact)
            self.entries[contact.id] = entry
            tx.entries[contact.id] = (entry, "waiting")
            decided = self._dispatch(tx, now)
            d = decided.get(contact.id)
            if d is not None and d.kind == "wait":
                pos = self._position(contact.id, now)
                tx.events.append(
                    RoutingQueued(
                        contact_id=contact.id,
                        at=now,
                        queue=contact.queue_id,
                        priority=contact.priority,
                        position=pos.position,
                        ewt_s=None if pos.ewt_s == float("inf") else pos.ewt_s,
                        reason=d.reason,
                    )
                )
            await self._commit(tx)
            return d

    async def abandon(self, contact_id: str) -> None:
        """The caller hung up while waiting or ringing."""
        async with self._lock:
            now = self._clock.now()
            entry = self.entries.get(contact_id)
            if entry is None:
                raise UnknownContact(f"contact {contact_id} is not queued")
            tx = _tx()
            if entry.status == "offered" and entry.agent_id:
                new = state.reject(self._agent(entry.agent_id), contact_id, now)
                self._stage_agent(tx, new, now, contact_id=contact_id, reason="caller hung up")
            tx.entries[contact_id] = (entry, "abandoned")
            self._dispatch(tx, now)
            await self._commit(tx)

    async def transfer(self, contact_id: str, queue_id: str) -> None:
        """Move a waiting contact to another queue (keeps its place by arrival time)."""
        if queue_id not in self.queues:
            raise UnknownQueue(f"transfer of {contact_id}: queue {queue_id!r} does not exist")
        async with self._lock:
            now = self._clock.now()
            entry = self.entries.get(contact_id)
            if entry is None or entry.status != "waiting":
                raise UnknownContact(f"contact {contact_id} is not waiting")
            tx = _tx()
            entry.contact = replace(entry.contact, queue_id=queue_id)
            entry.last_reason = None
            tx.entries[contact_id] = (entry, "waiting")
            self._dispatch(tx, now)
            await self._commit(tx)

    def position(self, contact_id: str) -> QueuePosition:
        """Place in line and EWT, for the TTS/chat announcement."""
        return self._position(contact_id, self._clock.now())

    def _position(self, contact_id: str, now: datetime) -> QueuePosition:
        waiting = [e.contact for e in self.entries.values() if e.status == "waiting"]
        return queue_position(
            contact_id, waiting, self.agents.values(), self.queues, self.policy, now
        )

    # -- timers --------------------------------------------------------------------------
    async def tick(self) -> None:
        """Fire due timers (ring no-answer, wrap-up expiry) and route again."""
        async with self._lock:
            now = self._clock.now()
            tx = _tx()
            missed: set[str] = set()
            for cid, e in list(self.entries.items()):
                due = e.ring_deadline is not None and now >= e.ring_deadline
                if e.status == "offered" and due and e.agent_id is not None:
                    missed.add(e.agent_id)
                    self._release_staged(tx, e.agent_id, cid, now, missed=True)
            for a in list(self.agents.values()):
                new = state.expire_wrap_up(a, now)
                if new is not a:
                    self._stage_agent(tx, new, now, reason="wrap_up_timeout")
            self._dispatch(tx, now, exclude=missed)
            await self._commit(tx)

    async def run(self, *, interval_s: float = 1.0) -> None:
        """Timer loop for the app's lifespan: ``asyncio.create_task(service.run())``."""
        while True:
            try:
                await self.tick()
            except StoreError as e:  # the store came back or not: keep ticking, say so
                log.warning("routing.tick_failed", error=e.message)
            await asyncio.sleep(interval_s)

    def stats(self) -> dict[str, QueueStats]:
        """Live per-queue figures for the supervisor view (waiting, longest wait, agents)."""
        now = self._clock.now()
        out = {qid: QueueStats(qid) for qid in self.queues}
        for e in self.entries.values():
            st = out.get(e.contact.queue_id)
            if st is None:
                continue
            if e.status == "waiting":
                st.waiting += 1
                st.longest_wait_s = max(st.longest_wait_s, waited_s(e.contact, now))
            else:
                st.ringing += 1
        return out

    def agent_counts(self) -> dict[str, int]:
        """How many agents are in each state (bot pools excluded)."""
        counts = {s.value: 0 for s in AgentStatus}
        for a in self.agents.values():
            if not a.is_bot_pool:
                counts[a.state.value] += 1
        return counts

    # -- internals -----------------------------------------------------------------------
    def _stage_agent(
        self,
        tx: _Tx,
        new: AgentSnapshot,
        now: datetime,
        *,
        disposition: str | None = None,
        contact_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        old = self.agents.get(new.id)
        self.agents[new.id] = new
        tx.agents[new.id] = new
        if old is None or old.state is not new.state or old.state_reason != new.state_reason:
            why = new.state_reason or reason
            tx.history.append(
                AgentStateHistoryRow(
                    agent_id=new.id,
                    state=new.state.value,
                    previous_state=old.state.value if old else None,
                    reason=why,
                    disposition=disposition,
                    contact_id=contact_id,
                    at=now,
                )
            )
            tx.events.append(
                AgentState(
                    contact_id=contact_id, at=now, agent_id=new.id, state=new.state, reason=why
                )
            )

    def _requeue(self, tx: _Tx, entry: QueueEntry, now: datetime, reason: str) -> None:
        entry.status, entry.agent_id, entry.ring_deadline, entry.offered_at = (
            "waiting",
            None,
            None,
            None,
        )
        entry.attempts += 1
        entry.last_reason = reason
        self.entries[entry.contact.id] = entry
        tx.entries[entry.contact.id] = (entry, "waiting")
        tx.decisions.append(self._decision_row(entry, Decision.wait(reason), now))
        tx.events.append(
            RoutingQueued(
                contact_id=entry.contact.id,
                at=now,
                queue=entry.contact.queue_id,
                priority=entry.contact.priority,
                reason=reason,
            )
        )

    def _decision_row(self, entry: QueueEntry, d: Decision, now: datetime) -> RoutingDecisionRow:
        return RoutingDecisionRow(
            contact_id=entry.contact.id,
            queue_id=entry.contact.queue_id,
            kind=d.kind,
            agent_id=d.agent_id,
            target=str(d.target) if d.target else None,
            reason=d.reason,
            ring=d.ring,
            waited_s=waited_s(entry.contact, now),
            decided_at=now,
        )

    def _dispatch(
        self, tx: _Tx, now: datetime, *, exclude: set[str] | None = None
    ) -> dict[str, Decision]:
        """Route every waiting contact; stage offers, overflows and changed waits."""
        waiting = [e.contact for e in self.entries.values() if e.status == "waiting"]
        if not waiting:
            return {}
        agents = list(self.agents.values())
        if exclude:
            # whoever just rejected or missed a contact sits out this round
            agents = [a for a in agents if a.id not in exclude]
        decided: dict[str, Decision] = {}
        plans = plan(waiting, agents, self.queues, self.policy, now, seed=self._seed)
        for c, d in plans:
            entry = self.entries[c.id]
            decided[c.id] = d
            if d.kind == "assign" and d.agent_id is not None:
                agent = state.offer(self.agents[d.agent_id], c.id, c.channel, now)
                self._stage_agent(tx, agent, now, contact_id=c.id)
                entry.status, entry.agent_id = "offered", d.agent_id
                entry.offered_at = now
                entry.ring_deadline = now + timedelta(seconds=self.policy.ring_timeout_s)
                entry.last_reason = d.reason
                tx.entries[c.id] = (entry, "offered")
                tx.decisions.append(self._decision_row(entry, d, now))
                tx.events.append(
                    RoutingAssigned(
                        contact_id=c.id,
                        at=now,
                        queue=c.queue_id,
                        agent_id=d.agent_id,
                        reason=d.reason,
                        waited_s=waited_s(c, now),
                    )
                )
            elif d.kind == "overflow" and d.target is not None:
                tx.decisions.append(self._decision_row(entry, d, now))
                self._overflow(tx, entry, d, now)
            elif d.reason != entry.last_reason:
                entry.last_reason = d.reason
                tx.decisions.append(self._decision_row(entry, d, now))
        return decided

    def _overflow(self, tx: _Tx, entry: QueueEntry, d: Decision, now: datetime) -> None:
        target = d.target
        assert target is not None
        cid = entry.contact.id
        entry.last_reason = d.reason
        if target.kind in ("queue", "bot"):
            if target.queue_id not in self.queues:
                log.warning("routing.overflow_target_missing", queue=target.queue_id)
                return
            entry.contact = replace(entry.contact, queue_id=target.queue_id)
            tx.entries[cid] = (entry, "waiting")
            tx.events.append(
                RoutingQueued(
                    contact_id=cid,
                    at=now,
                    queue=target.queue_id,
                    priority=entry.contact.priority,
                    reason=d.reason,
                )
            )
        elif target.kind == "callback":
            entry.contact = replace(entry.contact, callback=True)
            tx.entries[cid] = (entry, "waiting")
            tx.callbacks.append(
                CallbackRow(
                    id=uuid.uuid4().hex,
                    contact_id=cid,
                    queue_id=entry.contact.queue_id,
                    requested_at=now,
                    place_enqueued_at=entry.contact.enqueued_at,
                )
            )
        else:  # voicemail
            tx.entries[cid] = (entry, "voicemail")

    async def _commit(
        self,
        tx: _Tx,
        *,
        skills_for: AgentSnapshot | None = None,
        name: str = "",
        completed: tuple[str, ...] = (),
    ) -> None:
        """Write the staged changes in one transaction, then publish; reload on failure."""
        now = self._clock.now()
        try:
            async with self._sessions.begin() as s:
                for a in tx.agents.values():
                    row = await s.get(AgentRow, a.id)
                    if row is None:
                        row = AgentRow(id=a.id, name=name or a.id, version=0)
                        s.add(row)
                    _agent_to_row(a, row, now)
                if skills_for is not None:
                    await s.execute(
                        delete(AgentSkillRow).where(AgentSkillRow.agent_id == skills_for.id)
                    )
                    await s.flush()
                    for sk, lvl in skills_for.skills.items():
                        s.add(AgentSkillRow(agent_id=skills_for.id, skill=sk, level=lvl))
                for cid, (entry, status) in tx.entries.items():
                    row = await s.get(QueuedContactRow, cid)
                    if row is None:
                        row = QueuedContactRow(contact_id=cid, version=0)
                        s.add(row)
                    _entry_to_row(entry, status, row, now)
                for cid in completed:
                    row = await s.get(QueuedContactRow, cid)
                    if row is not None:
                        row.status, row.updated_at = "completed", now
                s.add_all(tx.decisions)
                s.add_all(tx.history)
                s.add_all(tx.callbacks)
        except SQLAlchemyError as e:
            await self.recover()
            raise StoreError(f"routing store write failed: {type(e).__name__}") from e
        for cid, (entry, status) in tx.entries.items():
            if status not in OPEN:
                self.entries.pop(cid, None)
            if status == "connected":
                self.connected[cid] = entry
        for cid in completed:
            self.connected.pop(cid, None)
        for ev in tx.events:
            await self._bus.publish(ev)


# --- row codecs --------------------------------------------------------------------------


def _agent_to_row(a: AgentSnapshot, row: AgentRow, now: datetime) -> None:
    row.languages = sorted(a.languages)
    row.capacity = {str(k): v for k, v in a.capacity.items()}
    row.region = a.region
    row.is_bot_pool = a.is_bot_pool
    row.state = a.state.value
    row.state_reason = a.state_reason
    row.state_since = a.state_since
    row.idle_since = a.idle_since
    row.last_assigned_at = a.last_assigned_at
    row.wrap_up_until = a.wrap_up_until
    row.offers = {k: str(v) for k, v in a.offers.items()}
    row.active = {k: str(v) for k, v in a.active.items()}
    row.last_contact_ids = list(a.last_contact_ids)
    row.version = (row.version or 0) + 1
    row.updated_at = now


def _agent_from_row(r: AgentRow, skills: dict[str, int]) -> AgentSnapshot:
    return AgentSnapshot(
        id=r.id,
        skills=skills,
        languages=frozenset(r.languages or ()),
        state=AgentStatus(r.state),
        capacity={Channel(k): int(v) for k, v in (r.capacity or {}).items()},
        offers={k: Channel(v) for k, v in (r.offers or {}).items()},
        active={k: Channel(v) for k, v in (r.active or {}).items()},
        idle_since=r.idle_since,
        last_assigned_at=r.last_assigned_at,
        last_contact_ids=tuple(r.last_contact_ids or ()),
        region=r.region,
        is_bot_pool=r.is_bot_pool,
        state_reason=r.state_reason,
        state_since=r.state_since,
        wrap_up_until=r.wrap_up_until,
    )


def _entry_to_row(e: QueueEntry, status: str, row: QueuedContactRow, now: datetime) -> None:
    c = e.contact
    row.queue_id = c.queue_id
    row.channel = c.channel.value
    row.skills = dict(c.skills_needed)
    row.language = c.language
    row.priority = c.priority
    row.vip = c.vip
    row.last_agent = c.last_agent
    row.caller_area = c.caller_area
    row.callback = c.callback
    row.enqueued_at = c.enqueued_at
    row.status = status
    row.agent_id = e.agent_id if status in ("offered", "connected") else None
    row.offered_at = e.offered_at
    row.ring_deadline = e.ring_deadline if status == "offered" else None
    row.attempts = e.attempts
    row.version = (row.version or 0) + 1
    row.updated_at = now


def _entry_from_row(r: QueuedContactRow) -> QueueEntry:
    contact = ContactRequest(
        id=r.contact_id,
        enqueued_at=r.enqueued_at,
        queue_id=r.queue_id,
        channel=Channel(r.channel),
        skills_needed=dict(r.skills or {}),
        language=r.language,
        priority=r.priority,
        vip=r.vip,
        last_agent=r.last_agent,
        caller_area=r.caller_area,
        callback=r.callback,
    )
    return QueueEntry(
        contact,
        status=r.status,
        agent_id=r.agent_id,
        offered_at=r.offered_at,
        ring_deadline=r.ring_deadline,
        attempts=r.attempts,
    )
