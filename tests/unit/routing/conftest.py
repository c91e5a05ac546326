"""Factories for routing tests: agents, contacts and queues with sensible defaults."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from core.domain import AgentStatus, Channel
from routing.model import AgentSnapshot, ContactRequest, QueueConfig

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday


def make_agent(
    agent_id: str,
    *,
    skills: dict[str, int] | None = None,
    languages: tuple[str, ...] = ("en",),
    state: AgentStatus = AgentStatus.AVAILABLE,
    idle_s: float | None = 0.0,
    **kw,
) -> AgentSnapshot:
    kw.setdefault("capacity", {Channel.VOICE: 1, Channel.CHAT: 3})
    return AgentSnapshot(
        id=agent_id,
        skills=skills if skills is not None else {"billing": 5},
        languages=frozenset(languages),
        state=state,
        idle_since=None if idle_s is None else NOW - timedelta(seconds=idle_s),
        **kw,
    )


def make_contact(contact_id: str = "c1", *, waited_s: float = 0.0, **kw) -> ContactRequest:
    kw.setdefault("queue_id", "q")
    return ContactRequest(id=contact_id, enqueued_at=NOW - timedelta(seconds=waited_s), **kw)


@pytest.fixture
def agent() -> Callable[..., AgentSnapshot]:
    return make_agent


@pytest.fixture
def contact() -> Callable[..., ContactRequest]:
    return make_contact


@pytest.fixture
def queues() -> dict[str, QueueConfig]:
    return {"q": QueueConfig("q")}
