"""Chat customer ⇄ human agent after a handoff (issue 7: agents type into chats).

The chat channel keeps owning the customer's conversation: when an agent takes the chat
(``agent.state`` busy on it, or the agent's first line when already busy with other chats)
the customer is told and their lines reach the agent as transcript events (no bot answer);
what the agent types arrives as an agent ``transcript.final`` (published by call control)
and is put in the customer's outbox, which the chat widget polls.
When the agent closes the chat (call control's hang-up), the customer is told and the
conversation ends. Voice contacts are ignored here: their audio goes through the media
bridge instead.
"""

from __future__ import annotations

from typing import Any

import structlog

from bots.dialogue.service import BotService
from core.bus.base import Bus
from core.domain import AgentStatus, Speaker
from core.events import AgentState, Event, TranscriptFinal

log = structlog.get_logger("hotline.bots.agent_chat")


class AgentChatRelay:
    """Bus subscriber + call-control listener that joins agents to chat conversations."""

    def __init__(self, bots: BotService) -> None:
        self.bots = bots

    def attach(self, bus: Bus) -> None:
        bus.subscribe("bots.agent_chat", self.on_event, types=["agent.state", "transcript.final"])

    async def on_event(self, event: Event) -> None:
        if isinstance(event, AgentState) and event.contact_id and event.state == AgentStatus.BUSY:
            if await self.bots.agent_joined(event.contact_id, event.agent_id):
                log.info("agent_chat.joined", contact_id=event.contact_id, agent=event.agent_id)
        elif (
            isinstance(event, TranscriptFinal)
            and event.speaker == Speaker.AGENT
            and event.contact_id
        ):
            await self.bots.agent_wrote(event.contact_id, None, event.text)

    async def on_control(self, state: Any) -> None:
        """Call-control listener: an agent's hang-up on a chat closes it for the customer."""
        channel = getattr(getattr(state, "channel", None), "value", None)
        if channel == "chat" and getattr(state, "ended", None) == "hangup":
            await self.bots.agent_closed(state.contact_id, state.agent_id)
