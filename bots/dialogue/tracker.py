"""The conversation tracker: everything the engine knows about one conversation.

Plain dataclasses that round-trip through JSON (``to_dict``/``from_dict``), so a tracker can
live in memory for a test, in ``bot_conversations`` for the product, and be served as-is by
the tracker endpoint. The flow stack makes digressions cheap: a new flow is pushed on top and
the interrupted one resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_EVENTS = 400  # a tracker is not a transcript store: the timeline keeps everything
MAX_SEEN = 64  # message ids remembered for replay de-duplication


@dataclass
class Frame:
    flow: str
    step: str
    waiting: bool = False
    attempts: int = 0
    interrupted: bool = False  # a digression is on top; re-prompt when it returns
    history: list[str] = field(default_factory=list)  # steps already asked, for "go back"


@dataclass
class Tracker:
    sender_id: str
    contact_id: str
    channel: str = "chat"
    language: str = "en"
    status: str = "bot"  # bot | handed_off | ended
    slots: dict[str, str] = field(default_factory=dict)
    stack: list[Frame] = field(default_factory=list)
    verified: bool = False
    customer_id: str | None = None
    fallbacks: int = 0
    escalations: int = 0  # consecutive turns the NLU flagged `escalate`
    emotions: list[str] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    flows_done: list[str] = field(default_factory=list)
    resolved: bool = False
    handoff_reason: str | None = None
    outcome: str | None = None
    turn: int = 0
    last_seq: int | None = None
    last_replies: list[dict[str, Any]] = field(default_factory=list)
    latest_message: dict[str, Any] = field(default_factory=dict)
    seen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def active(self) -> Frame | None:
        return self.stack[-1] if self.stack else None

    def log(self, kind: str, **data: Any) -> None:
        """Append a Rasa-like tracker event (user, bot, action, slot, handoff…)."""
        self.events.append({"event": kind, "turn": self.turn, **data})
        if len(self.events) > MAX_EVENTS:
            del self.events[: len(self.events) - MAX_EVENTS]

    def set_slot(self, name: str, value: str | None) -> None:
        if value is None:
            self.slots.pop(name, None)
        else:
            self.slots[name] = value
        self.log("slot", name=name, value=None if value is None else "set")

    def remember(self, message_id: str, replies: list[dict[str, Any]]) -> None:
        self.seen[message_id] = replies
        while len(self.seen) > MAX_SEEN:
            self.seen.pop(next(iter(self.seen)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tracker:
        data = dict(data)
        data["stack"] = [Frame(**f) for f in data.get("stack", [])]
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    def public(self, *, sensitive: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The Rasa-style tracker shape for the tracker endpoint (``sensitive`` slots masked)."""
        slots = {k: ("***" if k in sensitive else v) for k, v in self.slots.items()}
        return {
            "sender_id": self.sender_id,
            "contact_id": self.contact_id,
            "channel": self.channel,
            "language": self.language,
            "status": self.status,
            "verified": self.verified,
            "slots": slots,
            "active_flow": self.active.flow if self.active else None,
            "active_step": self.active.step if self.active else None,
            "latest_message": self.latest_message,
            "outcome": self.outcome,
            "events": self.events,
        }
