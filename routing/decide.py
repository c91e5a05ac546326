"""The routing decision: a pure function of (contact, agents, queues, policy, now).

``decide`` picks a worker for one contact or says why it waits or overflows; it never
reads a clock, does I/O or draws randomness (a ``seed`` only reshuffles ties). The
queue side — which waiting contact a freed agent gets — is :func:`pick_contact`, and
:func:`plan` runs a whole queue through ``decide`` in priority order. The simulator, the
benchmark, the `hotline route` tool and the service all call these same functions.

Fairness: contacts are served by effective priority = queue priority + contact priority
(+ VIP bonus) + ``policy.aging_per_s`` × seconds waited, then by arrival. The aging term
grows without bound, so every waiting contact eventually outranks any newcomer.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from core.domain import AgentStatus
from routing.errors import UnknownQueue
from routing.index import AgentIndex, Bucket, workers_match
from routing.model import AgentSnapshot, ContactRequest, OverflowTarget, Policy, QueueConfig
from routing.state import offer
from routing.strategies import StrategySpec, spec, tiebreak

DecisionKind = Literal["assign", "wait", "overflow"]


@dataclass(frozen=True, slots=True)
class Decision:
    """``assign`` (agent_id), ``wait`` or ``overflow`` (target), always with a reason."""

    kind: DecisionKind
    reason: str
    agent_id: str | None = None
    target: OverflowTarget | None = None
    ring: int = 0

    @classmethod
    def assign(cls, agent_id: str, reason: str, ring: int = 0) -> Decision:
        return cls("assign", reason, agent_id=agent_id, ring=ring)

    @classmethod
    def wait(cls, reason: str, ring: int = 0) -> Decision:
        return cls("wait", reason, ring=ring)

    @classmethod
    def overflow(cls, target: OverflowTarget, reason: str) -> Decision:
        return cls("overflow", reason, target=target)


@dataclass(frozen=True, slots=True)
class Requirements:
    """What an agent must have for this contact now (after bullseye widening)."""

    skills: Mapping[str, int]
    language: str | None
    ring: int

    def met_by(self, agent: AgentSnapshot) -> bool:
        if self.language is not None and self.language not in agent.languages:
            return False
        have = agent.skills
        for name, level in self.skills.items():  # noqa: SIM110 - hot path, no genexpr
            if have.get(name, 0) < level:
                return False
        return True

    def describe(self) -> str:
        parts = [f"{s}≥{lvl}" for s, lvl in self.skills.items()]
        if self.language:
            parts.append(f"language {self.language}")
        text = ", ".join(parts) or "no skill requirement"
        return f"{text} (bullseye ring {self.ring})" if self.ring else text


def waited_s(contact: ContactRequest, now: datetime) -> float:
    return max(0.0, (now - contact.enqueued_at).total_seconds())


def requirements(contact: ContactRequest, queue: QueueConfig, waited: float) -> Requirements:
    """Contact skills first (the first one ranks skill_level), then the queue's, widened
    by every bullseye ring whose ``after_s`` has passed."""
    skills: dict[str, int] = dict(contact.skills_needed)
    for name, level in queue.skills.items():
        skills[name] = max(skills.get(name, 0), level)
    language = contact.language
    # rings are cumulative: an outer ring never narrows what an inner one widened
    ring_no = level_drop = 0
    dropped: set[str] = set()
    for i, r in enumerate(queue.bullseye, start=1):
        if waited >= r.after_s:
            ring_no = max(ring_no, i)
            level_drop = max(level_drop, r.level_drop)
            dropped |= r.drop_skills
            if r.any_language:
                language = None
    if ring_no:
        skills = {s: max(1, lvl - level_drop) for s, lvl in skills.items() if s not in dropped}
    return Requirements(skills, language, ring_no)


def _eligible(
    agent: AgentSnapshot, contact: ContactRequest, queue: QueueConfig, req: Requirements
) -> bool:
    return (
        workers_match(agent, queue.workers)
        and agent.can_take(contact.channel)
        and req.met_by(agent)
    )


def _best_linear(
    agents: Iterable[AgentSnapshot],
    contact: ContactRequest,
    queue: QueueConfig,
    req: Requirements,
    key_fn: Callable[[AgentSnapshot, Hashable], tuple],
    param: Hashable,
    seed: int | None,
) -> AgentSnapshot | None:
    best = None
    best_key = None
    for a in agents:
        if not _eligible(a, contact, queue, req):
            continue
        k = (*key_fn(a, param), *tiebreak(a.id, seed))
        if best_key is None or k < best_key:
            best, best_key = a, k
    return best


def _best_indexed(
    index: AgentIndex,
    contact: ContactRequest,
    queue: QueueConfig,
    req: Requirements,
    strategy: StrategySpec,
    param: Hashable,
    seed: int | None,
) -> AgentSnapshot | None:
    buckets: list[Bucket] = [("skill", s) for s in req.skills]
    if req.language is not None:
        buckets.append(("lang", req.language))
    bucket: Bucket = None
    if buckets:
        bucket = min(buckets, key=index.size)
        if index.size(bucket) == 0:
            return None
    for a in index.ordered(strategy, param, seed, contact.channel, queue.workers, bucket):
        if req.met_by(a):
            return a
    return None


def decide(
    contact: ContactRequest,
    agents: Sequence[AgentSnapshot] | AgentIndex,
    queues: Mapping[str, QueueConfig],
    policy: Policy,
    now: datetime,
    *,
    seed: int | None = None,
    queue_length: int = 0,
    roster: Mapping[str, AgentSnapshot] | None = None,
) -> Decision:
    """Route one contact: assign an agent, wait, or overflow — and say why.

    ``agents`` is either the snapshot itself (linear scan) or an :class:`AgentIndex`
    built from it (same answer, far fewer agents looked at). ``queue_length`` is how
    many contacts are ahead in the same queue, for length-based overflow. ``roster``
    (every agent by id, busy ones included) lets sticky routing see a busy last agent
    when ``agents`` holds only the agents with spare capacity.
    """
    queue = queues.get(contact.queue_id)
    if queue is None:
        raise UnknownQueue(f"contact {contact.id}: queue {contact.queue_id!r} does not exist")
    if queue.hours is not None:
        closed = queue.hours.closed_reason(now)
        if closed is not None:
            return Decision.overflow(queue.closed_target, f"queue {queue.id} closed: {closed}")
    waited = waited_s(contact, now)
    req = requirements(contact, queue, waited)
    strategy = spec(policy.strategy or queue.strategy)
    rank_skill = next(iter(req.skills), None)
    param = strategy.param(contact, rank_skill)

    fallback_note = ""
    if strategy.name == "last_agent_first" and contact.last_agent:
        if roster is not None:
            last = roster.get(contact.last_agent)
        elif isinstance(agents, AgentIndex):
            last = agents.agents.get(contact.last_agent)
        else:
            last = next((a for a in agents if a.id == contact.last_agent), None)
        if last is not None and _eligible(last, contact, queue, req):
            return Decision.assign(
                last.id, f"last_agent_first: returning to last agent {last.id}", req.ring
            )
        if (
            last is not None
            and last.state is not AgentStatus.OFFLINE
            and waited < queue.sticky_timeout_s
        ):
            return Decision.wait(
                f"last_agent_first: holding up to {queue.sticky_timeout_s:.0f}s for last agent "
                f"{last.id} ({last.state.value}), waited {waited:.0f}s",
                req.ring,
            )
        fallback_note = f" (last agent {contact.last_agent} unavailable)"

    if isinstance(agents, AgentIndex):
        best = _best_indexed(agents, contact, queue, req, strategy, param, seed)
    else:
        best = _best_linear(agents, contact, queue, req, strategy.key, param, seed)
    if best is not None:
        reason = strategy.describe(best, param, now) + fallback_note
        if req.ring:
            reason += f"; bullseye ring {req.ring} after {waited:.0f}s"
        return Decision.assign(best.id, reason, req.ring)

    for rule in queue.overflow:
        if contact.callback and rule.target.kind == "callback":
            continue  # already a callback: it keeps its place instead
        if rule.after_wait_s is not None and waited >= rule.after_wait_s:
            return Decision.overflow(
                rule.target,
                f"overflow to {rule.target}: waited {waited:.0f}s ≥ "
                f"{rule.after_wait_s:.0f}s with no agent for {req.describe()}",
            )
        if rule.max_queue_length is not None and queue_length >= rule.max_queue_length:
            return Decision.overflow(
                rule.target,
                f"overflow to {rule.target}: {queue_length} ahead in "
                f"{queue.id} ≥ {rule.max_queue_length}",
            )
    return Decision.wait(f"no available agent for {req.describe()}{fallback_note}", req.ring)


# --- the queue side --------------------------------------------------------------------


def effective_priority(
    contact: ContactRequest, queue: QueueConfig, policy: Policy, now: datetime
) -> float:
    """Queue + contact priority, VIP bonus and aging (see module docstring)."""
    base = queue.priority + contact.priority + (policy.vip_priority if contact.vip else 0)
    return base + policy.aging_per_s * waited_s(contact, now)


def contact_order(
    contact: ContactRequest, queues: Mapping[str, QueueConfig], policy: Policy, now: datetime
) -> tuple:
    """Sort key: highest effective priority first, then earliest arrival, then id."""
    queue = queues.get(contact.queue_id)
    prio = effective_priority(contact, queue, policy, now) if queue else float("-inf")
    return (-prio, contact.enqueued_at, contact.id)


def _sticky_hold(
    contact: ContactRequest,
    agent: AgentSnapshot,
    queue: QueueConfig,
    policy: Policy,
    now: datetime,
    last: AgentSnapshot | None,
) -> bool:
    """A sticky contact still waiting for its own (online) last agent skips others."""
    name = policy.strategy or queue.strategy
    return (
        name == "last_agent_first"
        and contact.last_agent is not None
        and contact.last_agent != agent.id
        and last is not None
        and last.state is not AgentStatus.OFFLINE
        and waited_s(contact, now) < queue.sticky_timeout_s
    )


def pick_contact(
    agent: AgentSnapshot,
    waiting: Iterable[ContactRequest],
    queues: Mapping[str, QueueConfig],
    policy: Policy,
    now: datetime,
    *,
    agents: Mapping[str, AgentSnapshot] | None = None,
) -> ContactRequest | None:
    """The waiting contact a just-freed agent should get (priority, then wait), or None."""
    best = None
    best_key = None
    for c in waiting:
        queue = queues.get(c.queue_id)
        if queue is None:
            continue
        if queue.hours is not None and queue.hours.closed_reason(now) is not None:
            continue
        req = requirements(c, queue, waited_s(c, now))
        if not _eligible(agent, c, queue, req):
            continue
        last = agents.get(c.last_agent) if agents is not None and c.last_agent else None
        if _sticky_hold(c, agent, queue, policy, now, last):
            continue
        k = contact_order(c, queues, policy, now)
        if best_key is None or k < best_key:
            best, best_key = c, k
    return best


def plan(
    waiting: Iterable[ContactRequest],
    agents: Iterable[AgentSnapshot],
    queues: Mapping[str, QueueConfig],
    policy: Policy,
    now: datetime,
    *,
    seed: int | None = None,
) -> list[tuple[ContactRequest, Decision]]:
    """Decide for every waiting contact in priority order, reserving assigned agents.

    An agent chosen for one contact has the offer added to its snapshot before the next
    decision, so one plan never gives an agent more than its capacity.
    """
    pool = {a.id: a for a in agents}
    # only agents with spare capacity on some channel can be chosen; once the queue is
    # long that is a handful, so a plan over 1 000 waiting contacts stays cheap
    free = {a.id: a for a in pool.values() if any(a.can_take(ch) for ch in a.capacity)}
    ordered = sorted(waiting, key=lambda c: contact_order(c, queues, policy, now))
    ahead: dict[str, int] = {}
    out: list[tuple[ContactRequest, Decision]] = []
    for c in ordered:
        n_ahead = ahead.get(c.queue_id, 0)
        d = decide(
            c,
            list(free.values()),
            queues,
            policy,
            now,
            seed=seed,
            queue_length=n_ahead,
            roster=pool,
        )
        if d.kind == "assign" and d.agent_id is not None:
            taken = offer(pool[d.agent_id], c.id, c.channel, now)
            pool[d.agent_id] = taken
            if any(taken.can_take(ch) for ch in taken.capacity):
                free[d.agent_id] = taken
            else:
                free.pop(d.agent_id, None)
        elif d.kind == "wait":
            ahead[c.queue_id] = n_ahead + 1
        out.append((c, d))
    return out
