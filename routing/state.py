"""The agent state machine: pure functions from one :class:`AgentSnapshot` to the next.

An agent has exactly one ``state`` field, so it can never be in two states at once; every
move not in the table below raises :class:`InvalidTransition` naming from/to and why.

    offline  --login-->       available
    available --offer-->      ringing        (bot pools skip ringing: offer == active)
    ringing  --accept-->      busy
    ringing  --reject-->      available      --miss (no answer)--> break(reason="missed")
    busy     --end_contact--> wrap_up (timed) | busy (other contacts still open)
    wrap_up  --finish/expire--> available
    available|wrap_up|break --take_break--> break(reason)
    available|wrap_up|break --go_offline--> offline
    any      --disconnect-->  offline        (releases every contact so it is re-queued)

Multi-channel: a busy agent with spare chat capacity may be offered more chats; the agent
stays ``busy`` and the new chat is in ``offers`` until accepted.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from core.domain import AgentStatus, Channel
from routing.errors import CapacityExceeded, InvalidDisposition, InvalidTransition, UnknownContact
from routing.model import AgentSnapshot

S = AgentStatus


def _bad(agent: AgentSnapshot, action: str, why: str = "") -> InvalidTransition:
    extra = f": {why}" if why else ""
    return InvalidTransition(f"agent {agent.id}: cannot {action} while {agent.state.value}{extra}")


def _settle(agent: AgentSnapshot, now: datetime, **changes: object) -> AgentSnapshot:
    """Apply changes; ``state_since`` moves only when the state or its reason changes."""
    state = changes.get("state", agent.state)
    reason = changes.get("state_reason", agent.state_reason)
    if state is not agent.state or reason != agent.state_reason:
        changes["state_since"] = now
    return replace(agent, **changes)  # type: ignore[arg-type]


def login(agent: AgentSnapshot, now: datetime) -> AgentSnapshot:
    if agent.state is not S.OFFLINE:
        raise _bad(agent, "log in", "already logged in")
    return _settle(agent, now, state=S.AVAILABLE, state_reason=None, idle_since=now)


def make_available(agent: AgentSnapshot, now: datetime) -> AgentSnapshot:
    """Come back from break/wrap-up (or log in)."""
    if agent.state is S.AVAILABLE:
        return agent
    if agent.state is S.OFFLINE:
        return login(agent, now)
    if agent.state not in (S.BREAK, S.WRAP_UP):
        raise _bad(agent, "become available", "contacts are still open")
    return _settle(
        agent, now, state=S.AVAILABLE, state_reason=None, idle_since=now, wrap_up_until=None
    )


def take_break(agent: AgentSnapshot, reason: str, now: datetime) -> AgentSnapshot:
    if agent.state not in (S.AVAILABLE, S.WRAP_UP, S.BREAK):
        raise _bad(agent, "take a break", "contacts are still open")
    if not reason:
        raise InvalidTransition(f"agent {agent.id}: a break needs a reason")
    return _settle(agent, now, state=S.BREAK, state_reason=reason, wrap_up_until=None)


def go_offline(agent: AgentSnapshot, now: datetime) -> AgentSnapshot:
    if agent.state is S.OFFLINE:
        return agent
    if agent.offers or agent.active:
        raise _bad(agent, "log out", f"contacts {sorted([*agent.offers, *agent.active])} open")
    return _settle(agent, now, state=S.OFFLINE, state_reason=None, wrap_up_until=None)


def offer(agent: AgentSnapshot, contact_id: str, channel: Channel, now: datetime) -> AgentSnapshot:
    """Ring the agent with a contact (a bot pool takes it at once)."""
    if contact_id in agent.offers or contact_id in agent.active:
        raise _bad(agent, f"be offered {contact_id}", "already has it")
    if not agent.can_take(channel):
        if agent.load(channel) >= agent.capacity.get(channel, 0):
            raise CapacityExceeded(
                f"agent {agent.id}: no {channel.value} capacity left "
                f"({agent.load(channel)}/{agent.capacity.get(channel, 0)})"
            )
        raise _bad(agent, f"be offered a {channel.value} contact")
    if agent.is_bot_pool:
        return replace(agent, active={**agent.active, contact_id: channel}, last_assigned_at=now)
    state = S.BUSY if agent.active else S.RINGING
    return _settle(
        agent,
        now,
        state=state,
        state_reason=None,
        offers={**agent.offers, contact_id: channel},
        last_assigned_at=now,
    )


def _without(d: dict | object, key: str) -> dict:
    return {k: v for k, v in dict(d).items() if k != key}  # type: ignore[call-overload]


def accept(agent: AgentSnapshot, contact_id: str, now: datetime) -> AgentSnapshot:
    if contact_id in agent.active:
        return agent
    if contact_id not in agent.offers:
        raise UnknownContact(f"agent {agent.id}: contact {contact_id} is not ringing here")
    return _settle(
        agent,
        now,
        state=S.BUSY,
        offers=_without(agent.offers, contact_id),
        active={**agent.active, contact_id: agent.offers[contact_id]},
    )


def _after_release(agent: AgentSnapshot, offers: dict, now: datetime) -> AgentSnapshot:
    if agent.active:
        return _settle(agent, now, offers=offers, state=S.BUSY)
    if offers:
        return _settle(agent, now, offers=offers, state=S.RINGING)
    return _settle(agent, now, offers=offers, state=S.AVAILABLE, idle_since=now)


def reject(agent: AgentSnapshot, contact_id: str, now: datetime) -> AgentSnapshot:
    """The agent declines a ringing contact; it goes back to the queue."""
    if contact_id not in agent.offers:
        raise UnknownContact(f"agent {agent.id}: contact {contact_id} is not ringing here")
    return _after_release(agent, _without(agent.offers, contact_id), now)


def miss(
    agent: AgentSnapshot, contact_id: str, now: datetime, *, reason: str = "missed"
) -> AgentSnapshot:
    """No answer before the ring timeout: the agent is parked on break(missed)."""
    if contact_id not in agent.offers:
        raise UnknownContact(f"agent {agent.id}: contact {contact_id} is not ringing here")
    offers = _without(agent.offers, contact_id)
    if agent.active or offers:
        return _after_release(agent, offers, now)
    return _settle(agent, now, offers=offers, state=S.BREAK, state_reason=reason)


def end_contact(
    agent: AgentSnapshot, contact_id: str, now: datetime, *, wrap_up_s: float
) -> AgentSnapshot:
    """A handled contact ends; the last one opens a timed wrap-up."""
    if contact_id not in agent.active:
        raise UnknownContact(f"agent {agent.id}: contact {contact_id} is not active here")
    active = _without(agent.active, contact_id)
    history = (*agent.last_contact_ids, contact_id)[-10:]
    if agent.is_bot_pool:
        return replace(agent, active=active, last_contact_ids=history)
    agent = replace(agent, active=active, last_contact_ids=history)
    if active:
        return _settle(agent, now, state=S.BUSY)
    if agent.offers:
        return _settle(agent, now, state=S.RINGING)
    if wrap_up_s <= 0:
        return _settle(agent, now, state=S.AVAILABLE, state_reason=None, idle_since=now)
    return _settle(
        agent,
        now,
        state=S.WRAP_UP,
        state_reason=None,
        wrap_up_until=now + timedelta(seconds=wrap_up_s),
    )


def finish_wrap_up(
    agent: AgentSnapshot, now: datetime, *, disposition: str, allowed: frozenset[str]
) -> AgentSnapshot:
    """The agent submits the wrap-up form; the disposition code must be a known one."""
    if agent.state is not S.WRAP_UP:
        raise _bad(agent, "finish wrap-up")
    if disposition not in allowed:
        raise InvalidDisposition(
            f"agent {agent.id}: disposition {disposition!r} is not one of {sorted(allowed)}"
        )
    return make_available(agent, now)


def expire_wrap_up(agent: AgentSnapshot, now: datetime) -> AgentSnapshot:
    """The wrap-up timer ran out: available again (no-op before the deadline)."""
    if agent.state is S.WRAP_UP and agent.wrap_up_until is not None and now >= agent.wrap_up_until:
        return make_available(agent, now)
    return agent


def disconnect(agent: AgentSnapshot, now: datetime) -> tuple[AgentSnapshot, tuple[str, ...]]:
    """The agent's browser went away: force offline and release every contact.

    Returns the released contact ids so the service re-queues them (never drops them).
    """
    released = (*agent.offers, *agent.active)
    new = _settle(
        agent,
        now,
        state=S.OFFLINE,
        state_reason="disconnected",
        offers={},
        active={},
        wrap_up_until=None,
    )
    return new, released
