"""The dialogue hook of the voice pipeline: caller text in, bot reply text out.

A small Protocol so the FAQ responder now and the dialogue engine later (bots issue) plug
into the same place; the pipeline only ever awaits ``respond``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Responder(Protocol):
    async def respond(self, text: str, *, contact_id: str, language: str | None) -> str:
        """The bot's answer to one caller turn ("" means: say nothing)."""
        ...
