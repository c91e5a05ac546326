"""The conversation service: one customer message in, the bot's replies out, on any channel.

It owns everything around the engine: finding or creating the tracker (an unknown sender
starts a new conversation and a ``contact.started``), replay and out-of-order protection
(message ids and sequence numbers), truncating very long messages with a notice, language
choice, hot reload of flows, publishing the contact's events (transcript turns, NLU,
emotion, bot replies, handoff, ``contact.ended`` with the containment outcome) and putting
handoffs in the queue. Events go out fire-and-forget so a slow bus never slows a turn.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import OrderedDict
from typing import Any, Protocol

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bots.dialogue.engine import DialogueEngine, TurnResult
from bots.dialogue.render import Reply
from bots.dialogue.tracker import Tracker
from bots.dialogue.understanding import Understander, Understanding, parse_payload
from bots.handoff import HandoffDesk, QueuePosition, build_packet
from core.bus.base import Bus
from core.clock import Clock
from core.domain import Channel, Speaker
from core.events import (
    BotReply,
    ContactEnded,
    ContactStarted,
    EmotionResult,
    Entity,
    Event,
    IntentScore,
    NluResult,
    TranscriptFinal,
)
from core.store.tables.bots import BotConversationRow

log = structlog.get_logger("hotline.bots.service")

CHANNEL_OWNED = "channel_owned_contact"
OUTCOME_RESOLVED = "resolved_by_bot"
OUTCOME_HANDED_OFF = "handed_off"
OUTCOME_ABANDONED = "abandoned"
EMOTION_LABELS = frozenset({"angry", "frustrated", "anxious", "sad", "neutral", "satisfied"})
CALLBACK_INTENT = "request_callback"  # button payload /request_callback on the hold message
_CALLBACK_WORDS = re.compile(r"\bcall(ing)? me back\b|\bcallback\b|回电|回拨|打回来", re.I)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str, current: str | None, supported: tuple[str, ...]) -> str:
    """Chinese characters → zh; a few Latin letters and no CJK → en; else keep the current one."""
    if _CJK.search(text) and "zh" in supported:
        return "zh"
    if len(_LATIN.findall(text)) >= 3 and "en" in supported:
        return "en"
    return current or supported[0]


class TrackerStore(Protocol):
    async def get(self, sender_id: str) -> Tracker | None: ...

    async def save(self, tracker: Tracker) -> None: ...

    async def sender_of(self, contact_id: str) -> str | None: ...


class MemoryTrackerStore:
    """Trackers in a dict (tests, benchmarks, a single-process demo without persistence)."""

    def __init__(self) -> None:
        self.trackers: dict[str, dict[str, Any]] = {}

    async def get(self, sender_id: str) -> Tracker | None:
        data = self.trackers.get(sender_id)
        return Tracker.from_dict(data) if data is not None else None

    async def save(self, tracker: Tracker) -> None:
        self.trackers[tracker.sender_id] = tracker.to_dict()

    async def sender_of(self, contact_id: str) -> str | None:
        for sender, data in self.trackers.items():
            if data.get("contact_id") == contact_id:
                return sender
        return None


class SqlTrackerStore:
    """Trackers in ``bot_conversations`` (JSON state), with a small write-through cache."""

    def __init__(self, *, sessions: async_sessionmaker, clock: Clock, cache_size: int = 1000):
        self.sessions = sessions
        self.clock = clock
        self.cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.cache_size = cache_size

    async def get(self, sender_id: str) -> Tracker | None:
        data = self.cache.get(sender_id)
        if data is None:
            async with self.sessions() as s:
                row = await s.get(BotConversationRow, sender_id)
                if row is None:
                    return None
                data = row.state
        return Tracker.from_dict(data)

    async def save(self, tracker: Tracker) -> None:
        state = tracker.to_dict()
        now = self.clock.now()
        async with self.sessions() as s:
            row = await s.get(BotConversationRow, tracker.sender_id)
            if row is None:
                row = BotConversationRow(sender_id=tracker.sender_id, started_at=now)
                s.add(row)
            row.contact_id, row.channel, row.language = (
                tracker.contact_id,
                tracker.channel,
                tracker.language,
            )
            row.status, row.outcome, row.state, row.updated_at = (
                tracker.status,
                tracker.outcome,
                state,
                now,
            )
            await s.commit()
        self.cache[tracker.sender_id] = state
        self.cache.move_to_end(tracker.sender_id)
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)

    async def sender_of(self, contact_id: str) -> str | None:
        for sender, data in reversed(self.cache.items()):
            if data.get("contact_id") == contact_id:
                return sender
        async with self.sessions() as s:
            return await s.scalar(
                select(BotConversationRow.sender_id)
                .where(BotConversationRow.contact_id == contact_id)
                .limit(1)
            )

    async def idle(self, *, before: Any) -> list[str]:
        async with self.sessions() as s:
            rows = await s.scalars(
                select(BotConversationRow.sender_id).where(
                    BotConversationRow.status != "ended", BotConversationRow.updated_at < before
                )
            )
            return list(rows)


class BotService:
    """Entry point for every channel (REST, web chat, voice through DialogueResponder)."""

    def __init__(
        self,
        *,
        engine: DialogueEngine,
        understander: Understander,
        trackers: TrackerStore,
        bus: Bus,
        clock: Clock,
        desk: HandoffDesk | None = None,
    ):
        self.engine = engine
        self.understander = understander
        self.trackers = trackers
        self.bus = bus
        self.clock = clock
        self.desk = desk
        self._locks: dict[str, asyncio.Lock] = {}

    # --- events -------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        self.bus.publish_nowait(event)

    def _lock(self, sender_id: str) -> asyncio.Lock:
        lock = self._locks.get(sender_id)
        if lock is None:
            if len(self._locks) > 10_000:
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[sender_id] = asyncio.Lock()
        return lock

    async def _new_tracker(
        self,
        sender_id: str,
        *,
        channel: str,
        language: str,
        metadata: dict[str, str],
        contact_id: str | None,
    ) -> Tracker:
        t = Tracker(
            sender_id=sender_id,
            contact_id=contact_id or uuid.uuid4().hex,
            channel=channel,
            language=language,
            metadata=dict(metadata),
        )
        if contact_id is not None:
            # The channel (the voice pipeline) owns this contact: it publishes the start, the
            # transcript, bot replies and the end; the bot adds understanding and handoff.
            t.metadata[CHANNEL_OWNED] = "1"
            t.log("session_started", channel=channel)
            return t
        self._emit(
            ContactStarted(
                contact_id=t.contact_id,
                at=self.clock.now(),
                channel=Channel(channel) if channel in Channel._value2member_map_ else Channel.CHAT,
                language=language,
            )
        )
        t.log("session_started", channel=channel)
        return t

    # --- the turn -------------------------------------------------------------------------
    async def handle_message(
        self,
        sender_id: str,
        text: str,
        *,
        channel: str = "chat",
        message_id: str | None = None,
        seq: int | None = None,
        language: str | None = None,
        metadata: dict[str, str] | None = None,
        contact_id: str | None = None,
    ) -> list[Reply]:
        """Process one customer message; returns the bot's replies (possibly none).

        ``contact_id`` is given by channels that own the contact's lifecycle events (voice);
        without it the service starts a contact of its own for a new sender.
        """
        async with self._lock(sender_id):
            return await self._handle(
                sender_id,
                text,
                channel=channel,
                message_id=message_id,
                seq=seq,
                language=language,
                metadata=metadata or {},
                contact_id=contact_id,
            )

    async def _handle(
        self,
        sender_id: str,
        text: str,
        *,
        channel: str,
        message_id: str | None,
        seq: int | None,
        language: str | None,
        metadata: dict[str, str],
        contact_id: str | None,
    ) -> list[Reply]:
        self.engine.library.refresh()
        settings = self.engine.book.settings
        t = await self.trackers.get(sender_id)
        if t is not None and message_id and message_id in t.seen:
            log.info("bots.message.replayed", sender=sender_id)
            return [Reply(**r) for r in t.seen[message_id]]
        if t is not None and seq is not None and t.last_seq is not None and seq <= t.last_seq:
            log.info("bots.message.out_of_order", sender=sender_id, seq=seq, last=t.last_seq)
            t.log("out_of_order", seq=seq)
            await self.trackers.save(t)
            return []
        if t is None or t.status == "ended":
            lang = language or detect_language(text, None, settings.languages)
            t = await self._new_tracker(
                sender_id, channel=channel, language=lang, metadata=metadata, contact_id=contact_id
            )
        elif metadata:
            t.metadata.update(metadata)
        if seq is not None:
            t.last_seq = seq
        if language or parse_payload(text) is None:  # a button/key payload is no language
            t.language = language or detect_language(text, t.language, settings.languages)
        t.turn += 1
        prefix: list[Reply] = []
        if len(text) > settings.max_message_chars:
            text = text[: settings.max_message_chars]
            notice = TurnResult()
            self.engine.say(t, notice, "utter_truncated")
            prefix = notice.replies
        owned = CHANNEL_OWNED in t.metadata
        if not owned:
            self._emit(
                TranscriptFinal(
                    contact_id=t.contact_id,
                    at=self.clock.now(),
                    speaker=Speaker.CUSTOMER,
                    text=text,
                    language=t.language,
                    turn=t.turn,
                )
            )
        if t.status == "handed_off" and t.metadata.get("agent_id"):
            result = TurnResult()  # a human is on the chat: the line above reached them
        elif t.status == "handed_off":
            result = await self._hold(t, text)
        else:
            u = parse_payload(text) or await self.understander.understand(text, language=t.language)
            self._publish_understanding(t, u)
            result = await self.engine.handle(t, u)
            if result.handoff is not None:
                await self._queue_handoff(t, result)
        await self._note_callback(t)
        result.replies[:0] = prefix
        for r in [] if owned else result.replies:
            self._emit(
                BotReply(
                    contact_id=t.contact_id,
                    at=self.clock.now(),
                    text=r.text,
                    language=t.language,
                    flow=result.flow,
                    step=result.step,
                )
            )
            self._emit(
                TranscriptFinal(
                    contact_id=t.contact_id,
                    at=self.clock.now(),
                    speaker=Speaker.BOT,
                    text=r.text,
                    language=t.language,
                    turn=t.turn,
                )
            )
        if result.ended:
            self._end(t, reason="bot_ended")
        dumped = [
            {"text": r.text, "response": r.response, "buttons": list(r.buttons), "ssml": r.ssml}
            for r in result.replies
        ]
        if message_id:
            t.remember(message_id, dumped)
        await self.trackers.save(t)
        return result.replies

    def _publish_understanding(self, t: Tracker, u: Understanding) -> None:
        at = self.clock.now()
        self._emit(
            NluResult(
                contact_id=t.contact_id,
                at=at,
                text=u.text,
                language=t.language,
                intent=IntentScore(name=u.intent, confidence=u.confidence),
                ranking=tuple(IntentScore(name=n, confidence=c) for n, c in u.ranking[:5]),
                entities=tuple(
                    Entity(
                        entity=str(e.get("entity")),
                        value=str(e.get("value")),
                        start=e.get("start"),
                        end=e.get("end"),
                        extractor=e.get("extractor"),
                    )
                    for e in u.entities
                ),
            )
        )
        emo = u.emotion
        if emo and emo.get("label") in EMOTION_LABELS:
            self._emit(
                EmotionResult(
                    contact_id=t.contact_id,
                    at=at,
                    label=emo["label"],
                    confidence=float(emo.get("confidence", 0.0)),
                    sentiment=max(-1.0, min(1.0, float(emo.get("sentiment", 0.0)))),
                    escalate=bool(emo.get("escalate", False)),
                )
            )

    async def _queue_handoff(self, t: Tracker, result: TurnResult) -> None:
        assert result.handoff is not None
        h = result.handoff
        packet = build_packet(
            contact_id=t.contact_id,
            reason=h.reason,
            language=t.language,
            intents=t.intents,
            slots=t.slots,
            sensitive=self.engine.sensitive_slots(),
            customer_id=t.customer_id,
            verified=t.verified,
            emotions=t.emotions,
            default_queue=self.engine.book.settings.default_queue,
            at=self.clock.now(),
            queue=h.queue,
            skills=h.skills,
            channel=t.channel if t.channel in ("voice", "chat") else None,
        )
        self._emit(packet)
        t.log("handoff_requested", reason=h.reason, queue=packet.queue)
        if self.desk is not None:
            pos = await self.desk.enqueue(packet, sender_id=t.sender_id)
            self._say_position(t, result, pos, "utter_handoff_queued")
        else:
            self.engine.say(t, result, "utter_handoff")

    def _say_position(self, t: Tracker, out: TurnResult, pos: QueuePosition, name: str) -> None:
        """Say ``name`` with the queue position and wait (routing's when it knows them); when
        nobody who could take the contact is signed in, ``<name>_no_agents`` if the flows
        define it (an infinite wait is never read out as a number of minutes)."""
        t.slots["queue_position"] = str(max(pos.position, 1))
        t.slots["wait_min"] = str(pos.wait_min)
        # English needs the unit inflected ("1 minute"); Chinese templates write {wait_min}分钟
        t.slots["wait_minutes"] = f"{pos.wait_min} minute{'' if pos.wait_min == 1 else 's'}"
        t.log("queue_position", position=pos.position, ewt_s=pos.ewt_s, source=pos.source)
        if not pos.agents_available and f"{name}_no_agents" in self.engine.book.responses:
            name = f"{name}_no_agents"
        self.engine.say(t, out, name)

    async def _hold(self, t: Tracker, text: str) -> TurnResult:
        """The customer writes while waiting for an agent: position and wait, or — if they
        ask for it — leave the queue for a callback (the flow ``callback`` takes the number).
        """
        out = TurnResult()
        u = parse_payload(text)
        wants_callback = (u is not None and u.intent == CALLBACK_INTENT) or bool(
            _CALLBACK_WORDS.search(text)
        )
        if wants_callback and "callback" in self.engine.book.flows:
            t.status = "bot"
            t.log("callback_requested")
            self.engine.start_flow(t, "callback")
            ani = t.metadata.get("phone")
            if ani:
                t.set_slot("callback_phone", ani)  # a phone caller's own number (ANI)
            await self.engine.run(t, out)
            return out
        await self._hold_message(t, out)
        return out

    async def _hold_message(self, t: Tracker, out: TurnResult) -> None:
        if self.desk is not None:
            pos = await self.desk.position(t.contact_id)
            self._say_position(t, out, pos, "utter_hold")
        else:
            self.engine.say(t, out, "utter_hold")

    async def _note_callback(self, t: Tracker) -> None:
        """A callback number taken while queued turns the queue entry into a callback."""
        phone = t.slots.get("callback_phone")
        if phone and self.desk is not None and t.metadata.get("callback_noted") != phone:
            await self.desk.request_callback(t.contact_id, phone)
            t.metadata["callback_noted"] = phone

    def _end(self, t: Tracker, *, reason: str) -> None:
        t.outcome = outcome_of(t)
        t.status = "ended"
        t.log("session_ended", reason=reason, outcome=t.outcome)
        if CHANNEL_OWNED in t.metadata:
            return  # the channel publishes contact.ended (with this outcome, see report)
        self._emit(
            ContactEnded(
                contact_id=t.contact_id, at=self.clock.now(), reason=reason, outcome=t.outcome
            )
        )

    # --- outside a turn -------------------------------------------------------------------
    async def end_conversation(self, sender_id: str, *, reason: str = "hangup") -> str | None:
        """Close a conversation (hang-up, widget closed, idle); returns its outcome."""
        async with self._lock(sender_id):
            t = await self.trackers.get(sender_id)
            if t is None or t.status == "ended":
                return t.outcome if t else None
            was_queued = t.status == "handed_off"
            served = bool(t.metadata.get("agent_id"))
            self._end(t, reason=reason)
            await self.trackers.save(t)
            if was_queued and self.desk is not None:
                # leaving while in line is an abandon, not a contact still waiting for an agent
                await self.desk.close_open(t.contact_id, served=served)
            return t.outcome

    async def expire_idle(self, *, idle_s: float = 900.0) -> int:
        """End conversations silent for ``idle_s`` (outcome: usually abandoned); returns count.

        Meant for a periodic task in the composition root; needs the SQL tracker store.
        """
        from datetime import timedelta

        idle = getattr(self.trackers, "idle", None)
        if idle is None:
            return 0
        senders = await idle(before=self.clock.now() - timedelta(seconds=idle_s))
        for sender in senders:
            await self.end_conversation(sender, reason="idle")
        return len(senders)

    async def hand_back(
        self, sender_id: str, *, agent_id: str, flow: str | None = None
    ) -> list[Reply]:
        """Agent → bot: the bot takes the conversation again (optionally starting ``flow``)."""
        async with self._lock(sender_id):
            t = await self.trackers.get(sender_id)
            if t is None or t.status != "handed_off":
                return []
            if self.desk is not None:
                await self.desk.hand_back(t.contact_id, agent_id=agent_id, reason=flow or "")
            t.status = "bot"
            t.metadata.pop("agent_id", None)
            t.log("handed_back", agent=agent_id, flow=flow)
            out = TurnResult()
            self.engine.say(t, out, "utter_back_with_bot")
            if flow and flow in self.engine.book.flows:
                self.engine.start_flow(t, flow)
                await self.engine.run(t, out)
            dumped = [
                {"text": r.text, "response": r.response, "buttons": list(r.buttons)}
                for r in out.replies
            ]
            t.outbox.extend(dumped)
            for r in out.replies:
                self._emit(
                    BotReply(
                        contact_id=t.contact_id,
                        at=self.clock.now(),
                        text=r.text,
                        language=t.language,
                    )
                )
            await self.trackers.save(t)
            return out.replies

    # --- a human agent on the chat (issue 7: agents type into chats) ----------------------
    async def agent_joined(self, contact_id: str, agent_id: str) -> bool:
        """An agent took this handed-off chat: tell the customer (once); from now on their
        messages go to the agent (as transcript lines) and get no bot answer. On a call the
        agent's softphone does the talking; the conversation only notes it was served."""
        sender = await self.trackers.sender_of(contact_id) if contact_id else None
        if sender is None:
            return False
        async with self._lock(sender):
            t = await self.trackers.get(sender)
            if t is None or t.status != "handed_off":
                return False
            if t.channel != "chat":
                if not t.metadata.get("agent_id"):
                    t.metadata["agent_id"] = agent_id
                    t.log("agent_joined", agent=agent_id)
                    await self.trackers.save(t)
                return False
        return await self._to_customer(contact_id, None, agent_id=agent_id)

    async def agent_wrote(self, contact_id: str, agent_id: str | None, text: str) -> bool:
        """A line the agent typed, delivered to the customer's chat."""
        return await self._to_customer(contact_id, None, agent_id=agent_id, text=text)

    async def agent_closed(self, contact_id: str, agent_id: str | None = None) -> bool:
        """The agent ended the chat: the customer is told and the conversation ends."""
        return await self._to_customer(
            contact_id, "utter_agent_left", agent_id=agent_id, note="agent_closed", end=True
        )

    async def _to_customer(
        self,
        contact_id: str,
        response: str | None,
        *,
        agent_id: str | None,
        text: str | None = None,
        note: str | None = None,
        end: bool = False,
    ) -> bool:
        sender = await self.trackers.sender_of(contact_id) if contact_id else None
        if sender is None:
            return False
        async with self._lock(sender):
            t = await self.trackers.get(sender)
            if t is None or t.status != "handed_off" or t.channel != "chat":
                return False  # not a chat waiting for / talking to a human
            joined = t.metadata.get("agent_id")
            if agent_id and joined and agent_id != joined:
                return False  # only the agent on the chat writes to it
            out = TurnResult()
            if not joined:
                if end:
                    return False  # nobody had joined: nothing to close
                # first sign of the agent (accepted, or wrote first): the customer is told
                t.metadata["agent_id"] = agent_id or "agent"
                t.log("agent_joined", agent=agent_id)
                if "utter_agent_joined" in self.engine.book.responses:
                    self.engine.say(t, out, "utter_agent_joined")
            if text is not None:
                out.replies.append(Reply(text=text, extra={"from": "agent"}))
            elif joined and response is not None and response in self.engine.book.responses:
                self.engine.say(t, out, response)
            t.outbox.extend(
                {"text": r.text, "response": r.response, "from": r.extra.get("from", "bot")}
                for r in out.replies
            )
            if end:
                t.log(note or "agent_closed", agent=agent_id)
                t.metadata.pop("agent_id", None)
                self._end(t, reason="agent_hangup")
            await self.trackers.save(t)
            if end and self.desk is not None:
                await self.desk.close_open(t.contact_id, served=True)
            return bool(out.replies) or end

    async def expected_digits(self, sender_id: str) -> int | None:
        """How many digits the step waiting for the customer's answer expects, when it asks
        for spoken digits (``grammar: digits``): the count from its ``\\d{N}`` pattern, else 0
        (any number); None when the next answer is free speech."""
        t = await self.trackers.get(sender_id)
        frame = t.active if t is not None else None
        if frame is None or not frame.waiting or frame.flow not in self.engine.book.flows:
            return None
        steps = self.engine.book.flows[frame.flow].steps
        step = next((s for s in steps if s.id == frame.step), None)
        if step is None or step.grammar != "digits":
            return None
        pattern = step.validate_.pattern if step.validate_ else None
        m = re.search(r"\\d\{(\d+)\}", pattern or "")
        return int(m.group(1)) if m else 0

    async def take_outbox(self, sender_id: str) -> list[dict[str, Any]]:
        """Messages produced outside a customer turn (hand-back), for polling channels."""
        async with self._lock(sender_id):
            t = await self.trackers.get(sender_id)
            if t is None or not t.outbox:
                return []
            msgs, t.outbox = t.outbox, []
            await self.trackers.save(t)
            return msgs

    async def tracker(self, sender_id: str) -> Tracker | None:
        return await self.trackers.get(sender_id)

    async def status(self, sender_id: str) -> str | None:
        """``bot``, ``handed_off`` (waiting for or talking to a person), ``ended``; None if
        the sender never wrote."""
        t = await self.trackers.get(sender_id)
        return None if t is None else t.status

    async def hold_update(self, sender_id: str) -> list[Reply]:
        """The periodic "you are number N, about M minutes" message for a customer waiting
        for an agent (the voice pipeline speaks it between hold music); [] if not waiting.

        Not a customer turn: no transcript or reply events here (the channel that speaks it
        publishes what it said, as for every voice reply).
        """
        async with self._lock(sender_id):
            t = await self.trackers.get(sender_id)
            if t is None or t.status != "handed_off":
                return []
            out = TurnResult()
            await self._hold_message(t, out)
            t.log("hold_update", position=t.slots.get("queue_position"))
            await self.trackers.save(t)
            return out.replies


def outcome_of(t: Tracker) -> str:
    """Containment outcome: any handoff (or callback request) counts as handed off."""
    if t.handoff_reason or t.status == "handed_off":
        return OUTCOME_HANDED_OFF
    if t.resolved:
        return OUTCOME_RESOLVED
    return OUTCOME_ABANDONED
