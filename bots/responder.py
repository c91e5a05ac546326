"""The dialogue hook of the voice pipeline: caller text in, bot reply text out.

A small Protocol so the FAQ responder and the dialogue engine plug into the same place; the
pipeline only ever awaits ``respond``. A responder that also knows the conversation's state
(:class:`ConversationAware`, the dialogue responder) lets the pipeline play hold audio and
position messages while the caller waits for a person, hang up when the conversation ends,
and put the containment outcome on ``contact.ended``.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

# bot: the bot talks; waiting: handed off, in the queue for a person; connected: a person
# is on the call; ended: the conversation is over (goodbye said, callback booked).
CallStatus = Literal["bot", "waiting", "connected", "ended"]


@runtime_checkable
class Responder(Protocol):
    async def respond(self, text: str, *, contact_id: str, language: str | None) -> str:
        """The bot's answer to one caller turn ("" means: say nothing)."""
        ...


@runtime_checkable
class ConversationAware(Protocol):
    async def call_status(self, contact_id: str) -> CallStatus:
        """Where the call's conversation stands now."""
        ...

    async def hold_message(self, contact_id: str) -> tuple[str, str | None]:
        """The position/wait message for a waiting caller and its language ("" if not waiting)."""
        ...

    async def hangup(self, contact_id: str) -> str | None:
        """The call ended: close the conversation; returns its containment outcome."""
        ...
