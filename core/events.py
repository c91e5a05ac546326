"""The one event model: every fact about a contact is a typed, versioned event.

Events are frozen pydantic models with ``extra="forbid"``; ``type`` is a lowercase
``noun.verb`` literal and the class name matches it (``TranscriptFinal`` ↔
``transcript.final``). Payloads are typed fields, never a free dict. Decoding always goes
through :func:`parse_event` (one discriminated union). Adding an optional field keeps the
``version``; a breaking change bumps it and the old reader stays until retired.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from core.domain import AgentStatus, Channel, Direction, Speaker


def new_id() -> str:
    return uuid.uuid4().hex


class Event(BaseModel):
    """Fields every event carries. ``at`` comes from the injected clock (UTC)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_id)
    version: int = 1
    contact_id: str | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


# --- contact lifecycle -------------------------------------------------------------------


class ContactStarted(Event):
    type: Literal["contact.started"] = "contact.started"
    channel: Channel
    direction: Direction = Direction.INBOUND
    language: str | None = None
    customer_id: str | None = None
    queue: str | None = None
    campaign_id: str | None = None


class ContactEnded(Event):
    type: Literal["contact.ended"] = "contact.ended"
    reason: str = "hangup"
    duration_s: float | None = None
    outcome: str | None = None


class ContactError(Event):
    """Something went wrong on a contact; the contact may go on or end."""

    type: Literal["contact.error"] = "contact.error"
    code: str
    message: str
    stage: str | None = None
    recoverable: bool = False


# --- audio, speech, understanding --------------------------------------------------------


class AudioSegment(Event):
    """A stretch of stored audio (the samples live in the recording, not on the bus)."""

    type: Literal["audio.segment"] = "audio.segment"
    speaker: Speaker
    start_s: float
    end_s: float
    sample_rate_hz: int
    uri: str | None = None


class Word(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    text: str
    start_s: float
    end_s: float
    probability: float | None = None


class TranscriptPartial(Event):
    type: Literal["transcript.partial"] = "transcript.partial"
    speaker: Speaker
    text: str
    language: str | None = None
    start_s: float | None = None


class TranscriptFinal(Event):
    type: Literal["transcript.final"] = "transcript.final"
    speaker: Speaker
    text: str
    language: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    confidence: float | None = None
    words: tuple[Word, ...] = ()
    turn: int | None = None


class IntentScore(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    confidence: float


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    entity: str
    value: str
    start: int | None = None
    end: int | None = None
    extractor: str | None = None


class NluResult(Event):
    type: Literal["nlu.result"] = "nlu.result"
    text: str
    language: str | None = None
    intent: IntentScore
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()


class EmotionResult(Event):
    type: Literal["emotion.result"] = "emotion.result"
    speaker: Speaker = Speaker.CUSTOMER
    label: Literal["angry", "frustrated", "anxious", "sad", "neutral", "satisfied"]
    confidence: float
    sentiment: float = Field(ge=-1.0, le=1.0, description="-1 negative … +1 positive")
    escalate: bool = False
    scope: Literal["utterance", "call"] = "utterance"
    # scope "call" only (nlu/call_emotion.py): did the customer's mood improve, and the worst
    trend: Literal["improving", "worsening", "steady"] | None = None
    peak: Literal["angry", "frustrated", "anxious", "sad"] | None = None


# --- bots and handoff --------------------------------------------------------------------


class BotReply(Event):
    type: Literal["bot.reply"] = "bot.reply"
    text: str
    language: str | None = None
    flow: str | None = None
    step: str | None = None


class HandoffRequested(Event):
    """The bot asks for a human; the packet lets the agent start without re-asking."""

    type: Literal["handoff.requested"] = "handoff.requested"
    reason: str
    language: str | None = None
    summary: str = ""
    intent: str | None = None
    slots: dict[str, str] = Field(default_factory=dict)
    customer_id: str | None = None
    verified: bool = False
    emotions: tuple[str, ...] = ()
    queue: str | None = None
    skills: tuple[str, ...] = ()
    transcript_url: str | None = None
    channel: Channel | None = None


# --- routing and agents ------------------------------------------------------------------


class RoutingQueued(Event):
    type: Literal["routing.queued"] = "routing.queued"
    queue: str
    priority: int = 0
    position: int | None = None
    ewt_s: float | None = None
    reason: str = ""


class RoutingAssigned(Event):
    type: Literal["routing.assigned"] = "routing.assigned"
    queue: str
    agent_id: str
    reason: str = ""
    waited_s: float | None = None


class AgentState(Event):
    type: Literal["agent.state"] = "agent.state"
    agent_id: str
    state: AgentStatus
    reason: str | None = None


# --- subscribers' output -----------------------------------------------------------------


class AssistSuggestion(Event):
    type: Literal["assist.suggestion"] = "assist.suggestion"
    kind: Literal[
        "knowledge", "script", "deescalation", "disclosure", "compliance", "entity", "summary"
    ]
    title: str
    body: str = ""
    source: str | None = None
    score: float | None = None


class QaScored(Event):
    type: Literal["qa.scored"] = "qa.scored"
    scorecard: str
    score: float
    auto_fail: bool = False
    failed_items: tuple[str, ...] = ()


class TicketCreated(Event):
    type: Literal["ticket.created"] = "ticket.created"
    ticket_id: str
    title: str
    status: str = "open"
    queue: str | None = None


class TicketUpdated(Event):
    type: Literal["ticket.updated"] = "ticket.updated"
    ticket_id: str
    status: str
    note: str | None = None


class HelpRequested(Event):
    """An agent asks a supervisor for help on a live contact (the sidebar's button)."""

    type: Literal["help.requested"] = "help.requested"
    request_id: str
    agent_id: str
    reason: str = ""
    source: str | None = None  # the suggestion that prompted it, e.g. deescalation:escalate


class HelpUpdated(Event):
    """A help request moved on: a supervisor acknowledged it (is coming), joined the
    contact (``mode`` listen / whisper / barge), or it was closed."""

    type: Literal["help.updated"] = "help.updated"
    request_id: str
    status: Literal["acknowledged", "joined", "closed"]
    agent_id: str
    supervisor_id: str | None = None  # the supervisor handling it (none yet if never taken)
    mode: str | None = None
    by: str | None = None  # who made this change (the agent may close it)


class StageTimed(Event):
    """One pipeline stage's start/end, for the per-contact trace (HA assist_pipeline style)."""

    type: Literal["stage.timed"] = "stage.timed"
    stage: str
    started_at: datetime
    duration_ms: float
    turn: int | None = None
    detail: str | None = None


AnyEvent = Annotated[
    ContactStarted
    | ContactEnded
    | ContactError
    | AudioSegment
    | TranscriptPartial
    | TranscriptFinal
    | NluResult
    | EmotionResult
    | BotReply
    | HandoffRequested
    | RoutingQueued
    | RoutingAssigned
    | AgentState
    | AssistSuggestion
    | QaScored
    | TicketCreated
    | TicketUpdated
    | HelpRequested
    | HelpUpdated
    | StageTimed,
    Field(discriminator="type"),
]

_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)
EVENT_TYPES: dict[str, type[Event]] = {
    cls.model_fields["type"].default: cls
    for cls in Event.__subclasses__()
    if "type" in cls.model_fields
}


def parse_event(data: str | bytes | dict) -> Event:
    """Decode one event from JSON text or a dict; raises pydantic.ValidationError if invalid."""
    if isinstance(data, str | bytes):
        return _ADAPTER.validate_json(data)
    return _ADAPTER.validate_python(data)


def dump_event(event: Event) -> str:
    return event.model_dump_json()
