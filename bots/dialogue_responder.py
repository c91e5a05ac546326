"""The voice path's ``Responder`` on top of the dialogue engine: same flows as chat.

``bots.voice_pipeline`` awaits ``respond(text, contact_id=..., language=...)`` per caller turn;
this adapter sends it through :class:`BotService` on the ``voice`` channel (pauses become
sentence breaks, buttons are dropped) and joins the replies into one utterance. The call's
own ``contact_id`` is used, and the pipeline keeps publishing the contact's start, transcript,
bot replies and end; the bot adds NLU, emotion and handoff events to the same contact. The
caller's number, when the transport knows it (ANI), is passed as metadata so verification
(and a callback request) can start from it.

It is also ``ConversationAware``: the pipeline asks it whether the caller is waiting for a
person (hold audio and position messages), whether a person has joined (``agent_connected``,
injected by the composition root: the media bridge / routing know it, bots may not import
them), and for the outcome when the call ends.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from bots.dialogue.service import OUTCOME_ABANDONED, BotService
from bots.responder import CallStatus

log = structlog.get_logger("hotline.bots.dialogue_responder")

AgentConnected = Callable[[str], bool]  # contact_id → a person is on the call's media


class DialogueResponder:
    """Implements ``bots.responder.Responder`` and ``ConversationAware``."""

    def __init__(
        self,
        service: BotService,
        *,
        ani: dict[str, str] | None = None,
        agent_connected: AgentConnected | None = None,
    ):
        self.service = service
        self.ani = ani or {}  # contact_id → caller number, filled by the telephony edge
        self.agent_connected = agent_connected

    @staticmethod
    def sender(contact_id: str) -> str:
        return f"voice:{contact_id}"

    def _agent_on(self, contact_id: str) -> bool:
        if self.agent_connected is None:
            return False
        try:
            return bool(self.agent_connected(contact_id))
        except Exception as e:  # a failing probe must not break the call
            log.warning("bots.voice.agent_probe_failed", error=str(e))
            return False

    async def expected_digits(self, contact_id: str) -> int | None:
        """The digits the bot's last question asks for (see ``BotService.expected_digits``)."""
        return await self.service.expected_digits(self.sender(contact_id))

    async def respond(self, text: str, *, contact_id: str, language: str | None) -> str:
        if not text.strip():
            return ""
        if self._agent_on(contact_id):
            return ""  # a person is talking to the caller: the bot keeps quiet
        if await self.service.status(self.sender(contact_id)) == "ended":
            return ""  # goodbye said, the call is hanging up: no new conversation on it
        meta = {"phone": self.ani[contact_id]} if contact_id in self.ani else None
        replies = await self.service.handle_message(
            self.sender(contact_id),
            text,
            channel="voice",
            language=language if language in ("en", "zh") else None,
            metadata=meta,
            contact_id=contact_id,
        )
        return " ".join(r.text for r in replies if r.text)

    async def call_status(self, contact_id: str) -> CallStatus:
        status = await self.service.status(self.sender(contact_id))
        if status == "ended":
            return "ended"
        if status == "handed_off":
            return "connected" if self._agent_on(contact_id) else "waiting"
        return "bot"

    async def hold_message(self, contact_id: str) -> tuple[str, str | None]:
        replies = await self.service.hold_update(self.sender(contact_id))
        t = await self.service.tracker(self.sender(contact_id)) if replies else None
        return " ".join(r.text for r in replies if r.text), (t.language if t else None)

    async def hangup(self, contact_id: str) -> str | None:
        """The call ended: close the conversation and return its containment outcome
        (``resolved_by_bot`` / ``handed_off`` / ``abandoned``) for ``contact.ended``."""
        outcome = await self.service.end_conversation(self.sender(contact_id), reason="hangup")
        return outcome or OUTCOME_ABANDONED  # the caller never said anything
