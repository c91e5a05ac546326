"""The routing view of the world: agents, contacts, queues and policy as frozen values.

Everything here is immutable so :func:`routing.decide.decide` can be a pure function of
its arguments (DESIGN.md, "routing"). A bot pool is an agent with ``is_bot_pool`` and a
capacity, so "bot first" and "overflow to bot" are queue rules, not special code (issue 7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from core.domain import AgentStatus, Channel
from routing.errors import CapacityExceeded, RoutingError, SkillLevelOutOfRange, UnknownStrategy

MIN_LEVEL = 1
MAX_LEVEL = 10

STRATEGIES = (
    "longest_idle",
    "skill_level",
    "round_robin",
    "least_occupied",
    "last_agent_first",
    "caller_area",
)
Strategy = Literal[
    "longest_idle",
    "skill_level",
    "round_robin",
    "least_occupied",
    "last_agent_first",
    "caller_area",
]
Workers = Literal["human", "bot", "any"]


def check_levels(skills: Mapping[str, int], *, owner: str) -> None:
    """Refuse skill levels outside 1..10 with a clear error naming the owner and skill."""
    for name, level in skills.items():
        if not isinstance(level, int) or isinstance(level, bool):
            raise SkillLevelOutOfRange(f"{owner}: skill {name!r} level must be an integer 1..10")
        if not MIN_LEVEL <= level <= MAX_LEVEL:
            raise SkillLevelOutOfRange(
                f"{owner}: skill {name!r} level {level} is outside {MIN_LEVEL}..{MAX_LEVEL}"
            )


@dataclass(frozen=True, slots=True)
class AgentSnapshot:
    """One agent (or bot pool) as routing sees it at one instant.

    ``offers`` are contacts ringing at the agent, ``active`` the contacts it is handling;
    both map contact id to channel, and together they make the per-channel load.
    """

    id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    state: AgentStatus = AgentStatus.OFFLINE
    capacity: Mapping[Channel, int] = field(default_factory=lambda: {Channel.VOICE: 1})
    offers: Mapping[str, Channel] = field(default_factory=dict)
    active: Mapping[str, Channel] = field(default_factory=dict)
    idle_since: datetime | None = None
    last_assigned_at: datetime | None = None
    last_contact_ids: tuple[str, ...] = ()
    region: str | None = None
    is_bot_pool: bool = False
    state_reason: str | None = None
    state_since: datetime | None = None
    wrap_up_until: datetime | None = None

    def __post_init__(self) -> None:
        check_levels(self.skills, owner=f"agent {self.id}")
        for ch, n in self.capacity.items():
            if n < 0:
                raise CapacityExceeded(f"agent {self.id}: capacity for {ch} must be >= 0")

    def load(self, channel: Channel) -> int:
        """Contacts offered or handled on one channel."""
        return sum(1 for c in self.offers.values() if c == channel) + sum(
            1 for c in self.active.values() if c == channel
        )

    @property
    def total_load(self) -> int:
        return len(self.offers) + len(self.active)

    @property
    def occupancy(self) -> float:
        """Share of total capacity in use (0..1), for the least-occupied strategy."""
        cap = sum(self.capacity.values())
        return self.total_load / cap if cap else 1.0

    def can_take(self, channel: Channel) -> bool:
        """Whether a new contact on ``channel`` may be offered now.

        Humans take work when available, or when busy on non-voice work with spare capacity
        on that channel (3 chats at once, never a call on top of a call or a chat on a call).
        A bot pool only needs to be online with spare capacity.
        """
        if not self.offers and not self.active:  # fast path: nothing open
            if self.capacity.get(channel, 0) <= 0:
                return False
            return self.state is AgentStatus.AVAILABLE or (
                self.is_bot_pool and self.state is not AgentStatus.OFFLINE
            )
        if self.load(channel) >= self.capacity.get(channel, 0):
            return False
        if self.is_bot_pool:
            return self.state is not AgentStatus.OFFLINE
        if self.state is AgentStatus.AVAILABLE:
            return True
        if self.state is AgentStatus.BUSY and channel is not Channel.VOICE:
            return self.load(Channel.VOICE) == 0
        return False


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """A contact that needs a worker; ``skills_needed`` maps skill to minimum level."""

    id: str
    enqueued_at: datetime
    queue_id: str = "default"
    channel: Channel = Channel.VOICE
    skills_needed: Mapping[str, int] = field(default_factory=dict)
    language: str | None = None
    priority: int = 0
    vip: bool = False
    last_agent: str | None = None
    caller_area: str | None = None
    callback: bool = False  # a queued callback: the caller hung up and keeps its place

    def __post_init__(self) -> None:
        check_levels(self.skills_needed, owner=f"contact {self.id}")


@dataclass(frozen=True, slots=True)
class BullseyeRing:
    """One Genesys-style bullseye ring: after ``after_s`` of waiting, widen the pool.

    ``level_drop`` lowers every minimum level (never below 1), ``drop_skills`` stops
    requiring those skills, ``any_language`` stops requiring the caller's language.
    """

    after_s: float
    level_drop: int = 0
    drop_skills: frozenset[str] = frozenset()
    any_language: bool = False


OverflowKind = Literal["queue", "bot", "voicemail", "callback"]


@dataclass(frozen=True, slots=True)
class OverflowTarget:
    """Where a contact goes when it leaves its queue; ``queue_id`` for queue/bot targets."""

    kind: OverflowKind
    queue_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind in ("queue", "bot") and not self.queue_id:
            raise RoutingError(f"overflow to {self.kind} needs a queue_id", code="invalid_input")

    def __str__(self) -> str:
        return f"{self.kind}:{self.queue_id}" if self.queue_id else self.kind


@dataclass(frozen=True, slots=True)
class OverflowRule:
    """Leave the queue once the wait or the queue length crosses a threshold."""

    target: OverflowTarget
    after_wait_s: float | None = None
    max_queue_length: int | None = None


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Weekly opening windows (weekday 0=Monday → ((open, close), …)) in a timezone."""

    timezone: str = "UTC"
    weekly: Mapping[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()

    def closed_reason(self, now: datetime) -> str | None:
        """None when open, else why it is closed (holiday or outside hours)."""
        local = now.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return f"holiday {local.date().isoformat()}"
        t = local.time()
        for start, end in self.weekly.get(local.weekday(), ()):
            if start <= t < end:
                return None
        return f"outside business hours ({local:%a %H:%M} {self.timezone})"


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue: required skills (name → minimum level), priority, strategy and rules."""

    id: str
    skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 0
    strategy: Strategy = "longest_idle"
    bullseye: tuple[BullseyeRing, ...] = ()
    overflow: tuple[OverflowRule, ...] = ()
    hours: BusinessHours | None = None
    closed_target: OverflowTarget = OverflowTarget("voicemail")
    sticky_timeout_s: float = 30.0
    workers: Workers = "human"
    sl_threshold_s: float = 20.0
    aht_s: float = 300.0

    def __post_init__(self) -> None:
        check_levels(self.skills, owner=f"queue {self.id}")
        if self.strategy not in STRATEGIES:
            raise UnknownStrategy(f"queue {self.id}: unknown strategy {self.strategy!r}")


@dataclass(frozen=True, slots=True)
class Policy:
    """Center-wide routing knobs.

    ``aging_per_s`` adds priority per second waited so a low-priority contact eventually
    outranks any newcomer: that is what makes the queue starvation-free.
    """

    strategy: Strategy | None = None
    vip_priority: int = 10
    aging_per_s: float = 0.1
    ring_timeout_s: float = 20.0
    wrap_up_s: float = 30.0
    missed_reason: str = "missed"
    dispositions: frozenset[str] = frozenset(
        {"resolved", "follow_up", "escalated", "wrong_number", "no_answer", "other"}
    )
