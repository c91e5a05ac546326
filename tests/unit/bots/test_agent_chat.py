"""A human agent on a handed-off chat: joined notice, agent lines to the customer's outbox,
customer lines to the agent (no bot answer), the agent closing the chat — via the relay."""

from __future__ import annotations

from dataclasses import dataclass

from bots.agent_chat import AgentChatRelay
from core.domain import AgentStatus, Channel, Speaker
from core.events import AgentState, BotReply, TranscriptFinal
from tests.unit.bots.conftest import Harness


@dataclass
class Control:  # what call control hands its listeners (duck-typed by the relay)
    contact_id: str
    agent_id: str
    channel: Channel
    ended: str | None = None


async def _handed_off(bot: Harness) -> str:
    await bot.say("I want to speak to a human")
    t = await bot.service.tracker("s1")
    assert t is not None and t.status == "handed_off"
    await bot.service.take_outbox("s1")
    return t.contact_id


async def test_agent_and_customer_write_to_each_other_then_the_agent_closes(bot: Harness) -> None:
    relay = AgentChatRelay(bot.service)
    cid = await _handed_off(bot)

    await relay.on_event(AgentState(contact_id=cid, agent_id="agent1", state=AgentStatus.BUSY))
    await relay.on_event(TranscriptFinal(contact_id=cid, speaker=Speaker.AGENT, text="Hi, Anna."))
    out = await bot.service.take_outbox("s1")
    assert [m["from"] for m in out] == ["bot", "agent"]
    assert "colleague has joined" in out[0]["text"] and out[1]["text"] == "Hi, Anna."

    before = len([e for e in await bot.drained() if isinstance(e, BotReply)])
    assert await bot.say("I was charged twice") == []  # the agent answers, not the bot
    events = await bot.drained()
    assert len([e for e in events if isinstance(e, BotReply)]) == before
    assert any(
        isinstance(e, TranscriptFinal) and e.speaker == Speaker.CUSTOMER and "twice" in e.text
        for e in events
    )

    await relay.on_control(Control(cid, "agent1", Channel.CHAT, ended="hangup"))
    out = await bot.service.take_outbox("s1")
    assert "closed the chat" in out[-1]["text"]
    t = await bot.service.tracker("s1")
    assert t is not None and t.status == "ended" and t.outcome == "handed_off"
    assert await bot.service.desk.waiting() == []  # the queue row is closed as served


async def test_a_customer_who_leaves_the_queue_is_an_abandon(bot: Harness) -> None:
    cid = await _handed_off(bot)
    assert [w["contact_id"] for w in await bot.service.desk.waiting()] == [cid]
    await bot.service.end_conversation("s1", reason="hangup")
    assert await bot.service.desk.waiting() == []
    from sqlalchemy import select

    from core.store.tables.bots import BotHandoffRow

    async with bot.store.sessions() as s:
        status = await s.scalar(select(BotHandoffRow.status).where(BotHandoffRow.contact_id == cid))
    assert status == "abandoned"


async def test_first_agent_line_joins_when_the_agent_was_already_busy(bot: Harness) -> None:
    relay = AgentChatRelay(bot.service)
    cid = await _handed_off(bot)
    await relay.on_event(TranscriptFinal(contact_id=cid, speaker=Speaker.AGENT, text="Hello!"))
    out = await bot.service.take_outbox("s1")
    assert [m["from"] for m in out] == ["bot", "agent"]


async def test_waiting_customers_still_get_the_hold_message_and_others_are_ignored(
    bot: Harness,
) -> None:
    relay = AgentChatRelay(bot.service)
    cid = await _handed_off(bot)
    assert "still in the queue" in (await bot.say("hello?"))[0]
    # a voice call's agent speech, an unknown contact, a hang-up before anyone joined
    await relay.on_event(TranscriptFinal(contact_id="other", speaker=Speaker.AGENT, text="x"))
    await relay.on_control(Control(cid, "agent1", Channel.CHAT, ended="hangup"))
    await relay.on_control(Control(cid, "agent1", Channel.VOICE, ended="hangup"))
    assert await bot.service.take_outbox("s1") == []
    t = await bot.service.tracker("s1")
    assert t is not None and t.status == "handed_off"


async def test_an_agent_on_a_call_marks_it_served_without_chat_messages(bot: Harness) -> None:
    relay = AgentChatRelay(bot.service)
    await bot.say("I want to speak to a human", sender="v1", channel="voice")
    t = await bot.service.tracker("v1")
    assert t is not None and t.status == "handed_off" and t.channel == "voice"
    await bot.service.take_outbox("v1")
    await relay.on_event(
        AgentState(contact_id=t.contact_id, agent_id="agent1", state=AgentStatus.BUSY)
    )
    assert await bot.service.take_outbox("v1") == []  # the softphone talks, not the widget
    assert await bot.say("hello?", sender="v1", channel="voice") == []  # the bot stays quiet
    await bot.service.end_conversation("v1", reason="hangup")
    from sqlalchemy import select

    from core.store.tables.bots import BotHandoffRow

    async with bot.store.sessions() as s:
        status = await s.scalar(
            select(BotHandoffRow.status).where(BotHandoffRow.contact_id == t.contact_id)
        )
    assert status == "completed"
