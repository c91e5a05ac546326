"""Agent-selection strategies: each is an ordering of eligible agents (lowest key wins).

A strategy is data — a sort key plus the contact-dependent parameter it reads — rather
than a loop, so the same definition serves the linear scan (small centers, simulator) and
the pre-sorted :class:`routing.index.AgentIndex` (10 000 agents, issue 7 target), and both
are guaranteed to pick the same agent. Ties always end on a deterministic tiebreaker:
the agent id, or a seeded hash of it when the caller passes ``seed``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime

from routing.errors import UnknownStrategy
from routing.model import AgentSnapshot, ContactRequest

INF = float("inf")


def _ts(dt: datetime | None, missing: float = INF) -> float:
    return dt.timestamp() if dt is not None else missing


def tiebreak(agent_id: str, seed: int | None) -> tuple[str, str]:
    """Deterministic tiebreaker; a seed reshuffles ties reproducibly."""
    if seed is None:
        return (agent_id, agent_id)
    h = hashlib.blake2b(f"{seed}:{agent_id}".encode(), digest_size=8).hexdigest()
    return (h, agent_id)


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """One strategy: ``key(agent, param)`` orders agents; ``param`` reads the contact."""

    name: str
    key: Callable[[AgentSnapshot, Hashable], tuple]
    param: Callable[[ContactRequest, str | None], Hashable]
    describe: Callable[[AgentSnapshot, Hashable, datetime], str]


def _no_param(contact: ContactRequest, rank_skill: str | None) -> Hashable:
    return None


def _rank_skill(contact: ContactRequest, rank_skill: str | None) -> Hashable:
    return rank_skill


def _area(contact: ContactRequest, rank_skill: str | None) -> Hashable:
    return contact.caller_area


def _idle_s(agent: AgentSnapshot, now: datetime) -> str:
    if agent.idle_since is None:
        return "idle time unknown"
    return f"idle {max(0.0, (now - agent.idle_since).total_seconds()):.0f}s"


def longest_idle_key(agent: AgentSnapshot, param: Hashable) -> tuple:
    return (_ts(agent.idle_since),)


def skill_level_key(agent: AgentSnapshot, param: Hashable) -> tuple:
    level = agent.skills.get(param, 0) if isinstance(param, str) else sum(agent.skills.values())
    return (-level, _ts(agent.idle_since))


def round_robin_key(agent: AgentSnapshot, param: Hashable) -> tuple:
    # least recently assigned first; never-assigned agents lead the rotation
    return (_ts(agent.last_assigned_at, -INF),)


def least_occupied_key(agent: AgentSnapshot, param: Hashable) -> tuple:
    return (agent.occupancy, _ts(agent.idle_since))


def caller_area_key(agent: AgentSnapshot, param: Hashable) -> tuple:
    same = param is not None and agent.region == param
    return (0 if same else 1, _ts(agent.idle_since))


SPECS: dict[str, StrategySpec] = {
    "longest_idle": StrategySpec(
        "longest_idle",
        longest_idle_key,
        _no_param,
        lambda a, p, now: f"longest_idle: {a.id} {_idle_s(a, now)}",
    ),
    "skill_level": StrategySpec(
        "skill_level",
        skill_level_key,
        _rank_skill,
        lambda a, p, now: (
            f"skill_level: {a.id} has {p} level {a.skills.get(p, 0)}"
            if isinstance(p, str)
            else f"skill_level: {a.id} total level {sum(a.skills.values())}"
        ),
    ),
    "round_robin": StrategySpec(
        "round_robin",
        round_robin_key,
        _no_param,
        lambda a, p, now: (
            f"round_robin: {a.id} next in rotation (never assigned)"
            if a.last_assigned_at is None
            else f"round_robin: {a.id} least recently assigned"
        ),
    ),
    "least_occupied": StrategySpec(
        "least_occupied",
        least_occupied_key,
        _no_param,
        lambda a, p, now: f"least_occupied: {a.id} at {a.occupancy:.0%} of capacity",
    ),
    "caller_area": StrategySpec(
        "caller_area",
        caller_area_key,
        _area,
        lambda a, p, now: (
            f"caller_area: {a.id} serves region {p}, {_idle_s(a, now)}"
            if p is not None and a.region == p
            else f"caller_area: no agent in region {p}; {a.id} {_idle_s(a, now)}"
        ),
    ),
    # sticky routing is handled in decide(); when the last agent cannot take the contact
    # it falls back to longest idle.
    "last_agent_first": StrategySpec(
        "last_agent_first",
        longest_idle_key,
        _no_param,
        lambda a, p, now: f"last_agent_first: fallback longest idle {a.id} {_idle_s(a, now)}",
    ),
}


def spec(name: str) -> StrategySpec:
    """Look a strategy up by name, with a clear error listing the valid names."""
    try:
        return SPECS[name]
    except KeyError:
        raise UnknownStrategy(f"unknown strategy {name!r}; use one of {', '.join(SPECS)}") from None
