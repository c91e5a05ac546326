"""Call control for agents: hold, mute, transfer (blind/warm), conference, hang up, monitor.

The ACD (``routing.service``) owns who handles a contact; this module owns what is happening
*on* a handled contact: held or not, the agent's microphone muted, a consult in progress,
who else is in a three-way conference and which supervisors listen, whisper or barge. Each
change calls the ``listeners`` (the live fan-out and the media bridge subscribe in
``app.py``), so the desktop, the supervisor view and the audio follow one state.

Transfers never drop the contact: the agent's leg ends (wrap-up) and the contact goes back
through the ACD to the target queue (keeping its original arrival time, so its place in
line), to a skill group, or with the target agent as its sticky last agent. A transfer to
an external number is recorded (the demo has no PSTN leg) and ends the agent's leg.

Errors (all ``routing.errors``): ``UnknownContact`` when the agent is not on the contact,
``UnknownQueue`` / ``UnknownAgent`` for a missing target, ``InvalidTransition`` for an
action that makes no sense in the current state (hold on a chat, resume when not held,
complete without a consult), ``RoutingError(code="invalid_number")`` for a bad number.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

import phonenumbers
import structlog

from core.bus.base import Bus
from core.clock import Clock
from core.domain import AgentStatus, Channel, Speaker
from core.events import TranscriptFinal
from routing.errors import (
    InvalidTransition,
    RoutingError,
    UnknownAgent,
    UnknownContact,
    UnknownQueue,
)
from routing.service import RoutingService

log = structlog.get_logger("hotline.routing.call_control")

TargetKind = Literal["agent", "queue", "skill", "external"]
MonitorMode = Literal["listen", "whisper", "barge"]
MONITOR_MODES: tuple[str, ...] = ("listen", "whisper", "barge")
TRANSFER_PRIORITY = 10  # a transferred contact is served before new arrivals


@dataclass(frozen=True, slots=True)
class TransferTarget:
    """Where a transfer or consult goes: an agent id, a queue id, a skill or an E.164 number."""

    kind: TargetKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(slots=True)
class ControlState:
    """What is happening on one handled contact right now."""

    contact_id: str
    agent_id: str
    channel: Channel
    held: bool = False
    muted: bool = False
    consult: TransferTarget | None = None
    conference: list[str] = field(default_factory=list)  # agent ids or numbers added
    monitors: dict[str, str] = field(default_factory=dict)  # supervisor -> mode
    ended: str | None = None  # why the agent's leg ended (hangup, transfer:…)
    updated_at: datetime | None = None

    def public(self) -> dict[str, object]:
        return {
            "contact_id": self.contact_id,
            "agent_id": self.agent_id,
            "channel": self.channel.value,
            "held": self.held,
            "muted": self.muted,
            "consult": str(self.consult) if self.consult else None,
            "conference": list(self.conference),
            "monitors": dict(self.monitors),
            "ended": self.ended,
        }


Listener = Callable[[ControlState], Awaitable[None]]


class CallControl:
    """Per-contact call-control state on top of the routing service."""

    def __init__(
        self,
        *,
        routing: RoutingService,
        clock: Clock,
        region: str = "US",
        bus: Bus | None = None,
    ):
        self._routing = routing
        self._clock = clock
        self._bus = bus
        self._region = region
        self.states: dict[str, ControlState] = {}
        self.listeners: list[Listener] = []

    # -- lookups -------------------------------------------------------------------------
    def owned(self, agent_id: str, contact_id: str) -> ControlState:
        """The state of a contact this agent is handling (created on first use)."""
        agent = self._routing.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(f"agent {agent_id!r} does not exist")
        channel = agent.active.get(contact_id)
        if channel is None:
            raise UnknownContact(f"agent {agent_id} is not handling contact {contact_id}")
        st = self.states.get(contact_id)
        if st is None or st.agent_id != agent_id or st.ended:
            st = ControlState(contact_id, agent_id, Channel(channel))
            self.states[contact_id] = st
        return st

    def participant(self, user: str, contact_id: str) -> bool:
        """Whether ``user`` may join this contact's media (handler, conference, consult)."""
        st = self.states.get(contact_id)
        agent = self._routing.agents.get(user)
        if agent is not None and contact_id in agent.active:
            return True
        if st is None or st.ended:
            return False
        return user in st.conference or (st.consult is not None and st.consult.value == user)

    def handler_of(self, contact_id: str) -> str | None:
        for a in self._routing.agents.values():
            if contact_id in a.active:
                return a.id
        return None

    # -- actions -------------------------------------------------------------------------
    async def hold(self, agent_id: str, contact_id: str) -> ControlState:
        st = self._voice(agent_id, contact_id, "hold")
        if st.held:
            raise InvalidTransition(f"contact {contact_id} is already on hold")
        st.held = True
        return await self._changed(st)

    async def resume(self, agent_id: str, contact_id: str) -> ControlState:
        st = self._voice(agent_id, contact_id, "resume")
        if not st.held:
            raise InvalidTransition(f"contact {contact_id} is not on hold")
        st.held = False
        return await self._changed(st)

    async def mute(self, agent_id: str, contact_id: str, *, on: bool) -> ControlState:
        st = self._voice(agent_id, contact_id, "mute")
        st.muted = on
        return await self._changed(st)

    async def transfer(
        self,
        agent_id: str,
        contact_id: str,
        target: TransferTarget,
        *,
        mode: Literal["blind", "warm"] = "blind",
    ) -> ControlState:
        """Blind: hand over now. Warm: hold the caller and consult the target first."""
        st = self.owned(agent_id, contact_id)
        self.check_target(target, exclude=agent_id)
        if mode == "warm":
            if st.consult is not None:
                raise InvalidTransition(f"contact {contact_id} already has a consult in progress")
            st.consult = target
            st.held = st.channel is Channel.VOICE
            return await self._changed(st)
        return await self._hand_over(st, target)

    async def complete_transfer(self, agent_id: str, contact_id: str) -> ControlState:
        st = self.owned(agent_id, contact_id)
        if st.consult is None:
            raise InvalidTransition(f"contact {contact_id} has no consult to complete")
        return await self._hand_over(st, st.consult)

    async def cancel_consult(self, agent_id: str, contact_id: str) -> ControlState:
        st = self.owned(agent_id, contact_id)
        if st.consult is None:
            raise InvalidTransition(f"contact {contact_id} has no consult to cancel")
        st.consult, st.held = None, False
        return await self._changed(st)

    async def conference(
        self, agent_id: str, contact_id: str, target: TransferTarget
    ) -> ControlState:
        """Three-way: add an agent (or a number) to the contact; the handler stays on."""
        st = self.owned(agent_id, contact_id)
        if target.kind not in ("agent", "external"):
            raise InvalidTransition("a conference adds an agent or an external number")
        self.check_target(target, exclude=agent_id)
        if target.value not in st.conference:
            st.conference.append(target.value)
        if st.consult == target:
            st.consult = None
        st.held = False
        return await self._changed(st)

    async def hang_up(self, agent_id: str, contact_id: str) -> ControlState:
        """The agent ends the contact: the agent goes to wrap-up."""
        st = self.owned(agent_id, contact_id)
        await self._routing.end_contact(agent_id, contact_id)
        st.ended = "hangup"
        return await self._changed(st)

    async def send_message(self, agent_id: str, contact_id: str, text: str) -> ControlState:
        """The agent writes to a chat customer. It is published as the agent's transcript
        line, so the chat channel delivers it and the timeline, QA and assist see it like
        speech on a call."""
        st = self.owned(agent_id, contact_id)
        if st.channel != Channel.CHAT:
            raise InvalidTransition("messages can only be sent on a chat; this is a call")
        text = text.strip()
        if not text:
            raise RoutingError("an empty message", code="invalid_input")
        if self._bus is None:
            raise RoutingError("chat messages need the bus", code="unavailable")
        await self._bus.publish(
            TranscriptFinal(
                contact_id=contact_id,
                at=self._clock.now(),
                speaker=Speaker.AGENT,
                text=text,
            )
        )
        return st

    async def monitor(self, supervisor: str, contact_id: str, mode: str | None) -> ControlState:
        """Listen / whisper (to the agent only) / barge (to both); ``None`` stops."""
        if mode is not None and mode not in MONITOR_MODES:
            raise RoutingError(
                f"monitor mode {mode!r}: use one of {', '.join(MONITOR_MODES)}",
                code="invalid_input",
            )
        handler = self.handler_of(contact_id)
        if handler is None:
            raise UnknownContact(f"contact {contact_id} is not being handled by an agent")
        st = self.owned(handler, contact_id)
        if mode is None:
            st.monitors.pop(supervisor, None)
        else:
            st.monitors[supervisor] = mode
        return await self._changed(st)

    def forget(self, contact_id: str) -> None:
        self.states.pop(contact_id, None)

    # -- validation ----------------------------------------------------------------------
    def check_target(self, target: TransferTarget, *, exclude: str | None = None) -> None:
        """Refuse a target that does not exist, with the reason in the message."""
        if target.kind == "queue":
            if target.value not in self._routing.queues:
                raise UnknownQueue(f"transfer target queue {target.value!r} does not exist")
        elif target.kind == "agent":
            agent = self._routing.agents.get(target.value)
            if agent is None or agent.is_bot_pool:
                raise UnknownAgent(f"transfer target agent {target.value!r} does not exist")
            if target.value == exclude:
                raise InvalidTransition("an agent cannot transfer a contact to themselves")
            if agent.state is AgentStatus.OFFLINE:
                raise InvalidTransition(f"agent {target.value} is offline")
        elif target.kind == "skill":
            if not any(target.value in a.skills for a in self._routing.agents.values()):
                raise RoutingError(f"no agent has the skill {target.value!r}", code="unknown_skill")
        else:
            self.normalise_number(target.value)

    def normalise_number(self, number: str) -> str:
        try:
            parsed = phonenumbers.parse(number, self._region)
        except phonenumbers.NumberParseException as e:
            raise RoutingError(
                f"{number!r} is not a phone number: {e}", code="invalid_number"
            ) from e
        if not phonenumbers.is_valid_number(parsed):
            raise RoutingError(f"{number!r} is not a valid phone number", code="invalid_number")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    # -- internals -----------------------------------------------------------------------
    def _voice(self, agent_id: str, contact_id: str, action: str) -> ControlState:
        st = self.owned(agent_id, contact_id)
        if st.channel is not Channel.VOICE:
            raise InvalidTransition(f"{action} is only available on calls, not on {st.channel}")
        return st

    async def _hand_over(self, st: ControlState, target: TransferTarget) -> ControlState:
        entry = self._routing.connected.get(st.contact_id)
        if entry is None:
            raise UnknownContact(f"contact {st.contact_id} is not connected")
        contact = entry.contact
        if target.kind == "queue":
            moved = replace(contact, queue_id=target.value, priority=TRANSFER_PRIORITY)
        elif target.kind == "skill":
            moved = replace(
                contact,
                queue_id=self._queue_for_skill(target.value, contact.queue_id),
                skills_needed={target.value: 1},
                priority=TRANSFER_PRIORITY,
            )
        elif target.kind == "agent":
            moved = replace(
                contact, skills_needed={}, last_agent=target.value, priority=TRANSFER_PRIORITY
            )
        else:
            moved = None
        await self._routing.end_contact(st.agent_id, st.contact_id)
        if moved is not None:
            await self._routing.enqueue(moved)
        st.ended = f"transfer:{target}"
        st.consult, st.held = None, False
        log.info("routing.transfer", contact=st.contact_id, agent=st.agent_id, target=str(target))
        return await self._changed(st)

    def _queue_for_skill(self, skill: str, current: str) -> str:
        """A queue that asks for the skill, else one that asks for nothing (queue skills add
        to the contact's, so the current queue's own requirement must not stay on)."""
        queues = self._routing.queues
        for q in queues.values():
            if skill in q.skills:
                return q.id
        for q in queues.values():
            if not q.skills and q.workers != "bot":
                return q.id
        return current

    async def _changed(self, st: ControlState) -> ControlState:
        st.updated_at = self._clock.now()
        for listener in list(self.listeners):
            try:
                await listener(st)
            except Exception:  # a broken page or socket never breaks the call
                log.exception("routing.call_control_listener_failed", contact=st.contact_id)
        return st
