"""The voice path's ``Responder`` on top of the dialogue engine: same flows as chat.

``bots.voice_pipeline`` awaits ``respond(text, contact_id=..., language=...)`` per caller turn;
this adapter sends it through :class:`BotService` on the ``voice`` channel (pauses become
sentence breaks, buttons are dropped) and joins the replies into one utterance. The call's
own ``contact_id`` is used, and the pipeline keeps publishing the contact's start, transcript,
bot replies and end; the bot adds NLU, emotion and handoff events to the same contact. The caller's
number, when the transport knows it (ANI), is passed as metadata so verification can start
from it.
"""

from __future__ import annotations

from bots.dialogue.service import BotService


class DialogueResponder:
    """Implements ``bots.responder.Responder``."""

    def __init__(self, service: BotService, *, ani: dict[str, str] | None = None):
        self.service = service
        self.ani = ani or {}  # contact_id → caller number, filled by the telephony edge

    async def respond(self, text: str, *, contact_id: str, language: str | None) -> str:
        if not text.strip():
            return ""
        meta = {"phone": self.ani[contact_id]} if contact_id in self.ani else None
        replies = await self.service.handle_message(
            f"voice:{contact_id}",
            text,
            channel="voice",
            language=language if language in ("en", "zh") else None,
            metadata=meta,
            contact_id=contact_id,
        )
        return " ".join(r.text for r in replies if r.text)

    async def hangup(self, contact_id: str) -> str | None:
        """The call ended: close the conversation and return its containment outcome.

        The voice pipeline owns ``contact.ended``; it should put this outcome in that event.
        """
        return await self.service.end_conversation(f"voice:{contact_id}", reason="hangup")
