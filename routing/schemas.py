"""Request and response bodies of the routing API (one shape per direction)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from routing.model import AgentSnapshot


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StateChange(_In):
    """Agent state switch. ``reason`` is required for a break (lunch, training, …)."""

    state: Literal["login", "available", "break", "offline"]
    reason: str | None = Field(default=None, max_length=64)


class TransferIn(_In):
    kind: Literal["agent", "queue", "skill", "external"]
    target: str = Field(min_length=1, max_length=64)
    mode: Literal["blind", "warm"] = "blind"


class ConferenceIn(_In):
    kind: Literal["agent", "external"]
    target: str = Field(min_length=1, max_length=64)


class MuteIn(_In):
    on: bool = True


class MessageIn(_In):
    """A line the agent types into a chat."""

    text: str = Field(min_length=1, max_length=4000)


class WrapUpIn(_In):
    disposition: str = Field(min_length=1, max_length=64)
    notes: str = Field(default="", max_length=4000)


class MonitorIn(_In):
    mode: Literal["listen", "whisper", "barge"] | None = "listen"


class AgentOut(BaseModel):
    agent_id: str
    state: str
    reason: str | None
    offers: list[str]
    active: list[str]
    skills: dict[str, int]
    languages: list[str]
    wrap_up_until: str | None

    @classmethod
    def of(cls, a: AgentSnapshot) -> AgentOut:
        return cls(
            agent_id=a.id,
            state=a.state.value,
            reason=a.state_reason,
            offers=sorted(a.offers),
            active=sorted(a.active),
            skills=dict(a.skills),
            languages=sorted(a.languages),
            wrap_up_until=a.wrap_up_until.isoformat() if a.wrap_up_until else None,
        )


class ControlOut(BaseModel):
    contact_id: str
    agent_id: str
    channel: str
    held: bool
    muted: bool
    consult: str | None
    conference: list[str]
    monitors: dict[str, str]
    ended: str | None


class WrapUpOut(BaseModel):
    agent: AgentOut
    contact_id: str | None
    disposition: str
    notes: str


class LiveStats(BaseModel):
    type: str
    at: str
    queues: list[dict[str, Any]]
    agents: list[dict[str, Any]]
    counts: dict[str, int]
