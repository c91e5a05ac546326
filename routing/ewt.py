"""Position in line and estimated wait time (EWT), and the sentence that announces them.

EWT uses the "position × AHT ÷ staffed agents" estimate (Genesys's AHT mode): callers
ahead of you plus you, served in parallel by the agents who could take you, each taking
one AHT. It is cheap, monotone in position, and honest about being an estimate; the
announcement rounds it to whole minutes so callers are not promised seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from core.domain import AgentStatus
from routing.decide import contact_order, requirements, waited_s
from routing.errors import UnknownContact, UnknownQueue
from routing.index import workers_match
from routing.model import AgentSnapshot, ContactRequest, Policy, QueueConfig


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """1-based place in its queue, how many are ahead, and the estimated wait."""

    contact_id: str
    queue_id: str
    position: int
    ahead: int
    ewt_s: float


def estimated_wait_s(ahead: int, staffed: int, aht_s: float, *, available: int = 0) -> float:
    """Seconds until a worker is likely free for a caller with ``ahead`` callers before it."""
    if available > ahead:
        return 0.0
    if staffed <= 0:
        return math.inf
    return (ahead + 1) * aht_s / staffed


def queue_position(
    contact_id: str,
    waiting: Iterable[ContactRequest],
    agents: Iterable[AgentSnapshot],
    queues: Mapping[str, QueueConfig],
    policy: Policy,
    now: datetime,
) -> QueuePosition:
    """Where ``contact_id`` stands in its queue (same order the router serves)."""
    waiting = list(waiting)
    me = next((c for c in waiting if c.id == contact_id), None)
    if me is None:
        raise UnknownContact(f"contact {contact_id} is not waiting")
    queue = queues.get(me.queue_id)
    if queue is None:
        raise UnknownQueue(f"queue {me.queue_id!r} does not exist")
    same = sorted(
        (c for c in waiting if c.queue_id == me.queue_id),
        key=lambda c: contact_order(c, queues, policy, now),
    )
    ahead = next(i for i, c in enumerate(same) if c.id == contact_id)
    req = requirements(me, queue, waited_s(me, now))
    staffed = available = 0
    for a in agents:
        if a.state is AgentStatus.OFFLINE or not workers_match(a, queue.workers):
            continue
        if not req.met_by(a):
            continue
        staffed += 1
        available += a.can_take(me.channel)
    ewt = estimated_wait_s(ahead, staffed, queue.aht_s, available=available)
    return QueuePosition(contact_id, me.queue_id, ahead + 1, ahead, ewt)


def announcement(pos: QueuePosition, language: str = "en") -> str:
    """The sentence the voice bot speaks (TTS) and the chat widget shows."""
    zh = language.lower().startswith("zh")
    if math.isinf(pos.ewt_s):
        if zh:
            return f"您前面还有{pos.ahead}位客户。目前没有座席在线,我们会尽快为您服务。"
        return (
            f"You are number {pos.position} in line. No agent is signed in right now; "
            "we will answer as soon as one is."
        )
    minutes = max(1, round(pos.ewt_s / 60))
    if zh:
        return f"您前面还有{pos.ahead}位客户,预计等待约{minutes}分钟。"
    unit = "minute" if minutes == 1 else "minutes"
    return f"You are number {pos.position} in line. The expected wait is about {minutes} {unit}."
