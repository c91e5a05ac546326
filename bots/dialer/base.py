"""The dialer interface: place a call, hang it up, and report what happened to it.

Adapters (Asterisk ARI, Twilio-style REST, the browser test phone) turn their wire events into
:class:`CallUpdate` values and hand them to one async handler the scheduler installs. Outcomes
arrive asynchronously (websocket events, HTTP status callbacks), never as the return value of
``originate``, which only says "the platform accepted the call" and returns its id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class CallStatus(StrEnum):
    RINGING = "ringing"
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    INVALID = "invalid"
    COMPLETED = "completed"


FINAL_STATUSES = frozenset(
    {
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.INVALID,
        CallStatus.COMPLETED,
    }
)


@dataclass(frozen=True)
class DialRequest:
    attempt_id: str
    to: str
    caller_id: str
    campaign_id: str
    contact_id: str
    ring_timeout_s: int = 25
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallUpdate:
    call_id: str
    status: CallStatus
    answered_by: str | None = None  # "human" | "machine" when the platform detected it
    cause: str = ""
    attempt_id: str | None = None


UpdateHandler = Callable[[CallUpdate], Awaitable[None]]


@runtime_checkable
class Dialer(Protocol):
    name: str

    def set_handler(self, handler: UpdateHandler) -> None:
        """Install the one receiver of call updates (the scheduler)."""
        ...

    async def originate(self, request: DialRequest) -> str:
        """Ask the platform to call; returns its call id. Raises DialerError on refusal."""
        ...

    async def hangup(self, call_id: str) -> None: ...

    async def close(self) -> None: ...
