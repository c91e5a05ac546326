"""Understanding for the whole contact, not only the bot's turns (consumer group ``nlu``).

The dialogue service parses what the customer says to the bot and publishes ``nlu.result`` and
``emotion.result`` for those turns. Once the contact is handed to people (``handoff.requested``
or ``routing.assigned``) nobody parsed the customer any more, so the agent's sidebar had no
intent or emotion and QA no per-turn labels for the agent part of a call. This subscriber
parses every customer ``transcript.final`` of that phase (intent, entities, emotion; in a
worker thread, never on the loop) and publishes the same two events. On ``contact.ended`` it
publishes one ``emotion.result`` with ``scope="call"``: the call's overall emotion, trend and
peak over all customer turns, the bot's and its own (:mod:`nlu.call_emotion`).

Idempotent on event id (durable buses redeliver). State is per contact and in memory: after a
restart mid-call the call summary covers the turns seen since. Known gap: when an agent hands
a chat back to the bot, no event says so, so those later turns are parsed twice (by the bot
and here) and count twice in the call's emotion.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from core.bus.base import Bus, Subscription
from core.clock import Clock
from core.domain import Speaker
from core.events import (
    ContactEnded,
    EmotionResult,
    Entity,
    Event,
    HandoffRequested,
    IntentScore,
    NluResult,
    RoutingAssigned,
    TranscriptFinal,
)
from nlu.call_emotion import SEVERITY, TurnEmotion, summarize_call
from nlu.emotion import TAXONOMY
from nlu.errors import NluInputError

log = structlog.get_logger("hotline.nlu")

GROUP = "nlu"
CONSUMES = (
    "transcript.final",
    "handoff.requested",
    "routing.assigned",
    "emotion.result",
    "contact.ended",
)
MAX_CONTACTS = 10_000  # contacts whose contact.ended never came are dropped oldest first


@dataclass
class _Contact:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    humans: bool = False  # handed off or assigned: the bot no longer parses the customer
    turns: list[TurnEmotion] = field(default_factory=list)


class UnderstandingSubscriber:
    """Parses the customer where no bot does; sums up each call's emotion at its end."""

    def __init__(self, bus: Bus, engine: Callable[[], Any], *, clock: Clock):
        """``engine`` returns the process's NluEngine (or None while it is not loaded)."""
        self.bus = bus
        self.engine = engine
        self.clock = clock
        self._contacts: OrderedDict[str, _Contact] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()
        # ids of our own emotion.result events (counted when published) and ended contacts
        # (our last events may come back after contact.ended): both bounded like _seen
        self._own: OrderedDict[str, None] = OrderedDict()
        self._ended: OrderedDict[str, None] = OrderedDict()

    def subscribe(self) -> Subscription:
        return self.bus.subscribe(GROUP, self.handle, types=CONSUMES)

    def _contact(self, contact_id: str) -> _Contact:
        c = self._contacts.get(contact_id)
        if c is None:
            c = self._contacts[contact_id] = _Contact()
            while len(self._contacts) > MAX_CONTACTS:
                self._contacts.popitem(last=False)
        return c

    async def handle(self, event: Event) -> None:
        if event.id in self._seen or event.contact_id is None or event.contact_id in self._ended:
            return
        c = self._contact(event.contact_id)
        async with c.lock:
            if event.id in self._seen:
                return
            match event:
                case HandoffRequested() | RoutingAssigned():
                    c.humans = True
                case TranscriptFinal() if event.speaker == Speaker.CUSTOMER and c.humans:
                    await self._understand(c, event)
                case EmotionResult() if event.scope == "utterance":
                    ours = event.id in self._own
                    self._own.pop(event.id, None)
                    if not ours and event.speaker == Speaker.CUSTOMER:
                        c.turns.append(_turn(event))
                case ContactEnded():
                    await self._summarize(c, event)
            _remember(self._seen, event.id)

    async def _understand(self, c: _Contact, ev: TranscriptFinal) -> None:
        engine = self.engine()
        if engine is None:
            return
        try:  # a language other than en/zh (or none) is routed by script in the engine
            result = await engine.aparse(ev.text, language=ev.language)
        except NluInputError:
            return  # empty or junk text ("...", a DTMF tone): nothing to understand
        except Exception as e:  # a broken model must not stop the contact's other events
            log.warning("nlu.parse_failed", contact_id=ev.contact_id, error=type(e).__name__)
            return
        at = self.clock.now()
        intent = result.intent
        await self.bus.publish(
            NluResult(
                contact_id=ev.contact_id,
                at=at,
                text=result.text,
                language=result.language,
                intent=IntentScore(name=intent["name"], confidence=float(intent["confidence"])),
                ranking=tuple(
                    IntentScore(name=r["name"], confidence=float(r["confidence"]))
                    for r in result.intent_ranking[:5]
                ),
                entities=tuple(
                    Entity(
                        entity=str(e["entity"]),
                        value=str(e["value"]),
                        start=e.get("start"),
                        end=e.get("end"),
                        extractor=e.get("extractor"),
                    )
                    for e in result.entities
                ),
            )
        )
        emo = result.emotion
        if not emo or emo.get("label") not in TAXONOMY:
            return
        out = EmotionResult(
            contact_id=ev.contact_id,
            at=at,
            label=emo["label"],
            confidence=float(emo["confidence"]),
            sentiment=max(-1.0, min(1.0, float(emo["sentiment"]))),
            escalate=bool(emo["escalate"]),
        )
        c.turns.append(_turn(out))  # counted now: contact.ended may come before it returns
        _remember(self._own, out.id)
        await self.bus.publish(out)

    async def _summarize(self, c: _Contact, ev: ContactEnded) -> None:
        assert ev.contact_id is not None
        self._contacts.pop(ev.contact_id, None)
        _remember(self._ended, ev.contact_id)
        summary = summarize_call(c.turns)
        if summary is None:
            return
        await self.bus.publish(
            EmotionResult(
                contact_id=ev.contact_id,
                at=self.clock.now(),
                scope="call",
                label=summary.label,
                confidence=summary.confidence,
                sentiment=summary.sentiment,
                escalate=summary.escalate,
                trend=summary.trend,
                peak=summary.peak if summary.peak in SEVERITY else None,
            )
        )
        log.info(
            "nlu.call_emotion", contact_id=ev.contact_id, label=summary.label, trend=summary.trend
        )


def _remember(ids: OrderedDict[str, None], key: str, limit: int = 100_000) -> None:
    ids[key] = None
    if len(ids) > limit:
        ids.popitem(last=False)


def _turn(ev: EmotionResult) -> TurnEmotion:
    return TurnEmotion(ev.label, ev.confidence, ev.sentiment, ev.escalate)
