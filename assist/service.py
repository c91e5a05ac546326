"""AssistService: the live-assist subscriber of one process (consumer group ``assist``).

It follows every contact from ``contact.started`` to ``contact.ended`` and turns what it
hears into ``assist.suggestion`` events for the agent's sidebar:

- ``knowledge``: a customer utterance has a KB passage above ``min_cosine`` (``kb:<passage>``)
- ``script``: an intent is detected or the agent completes a step (``script:<intent>/<step>``)
- ``deescalation``: emotion turns angry/frustrated, or ``escalate`` (``deescalation:<kind>``)
- ``disclosure``: one becomes required (score 0) or is said (score 1) (``disclosure:<key>``)
- ``compliance``: forbidden phrase, full card or Chinese ID number (``compliance:<key>``)
- ``entity``: an amount, date, account ending… is captured (``entity:<name>:<origin>``)
- ``summary``: on ``contact.ended``, the after-contact summary (``summary:<outcome>``)

The sidebar shows an "ask a supervisor" button for ``deescalation:escalate``; the click
becomes a stored help request (:mod:`assist.help`).

Idempotent on event id (scale-out buses redeliver). KB search (embedding + FAISS + BM25)
runs in a worker thread, in a task beside the consumer, so neither the loop nor the next
event waits for it (measured: with the search inline, a burst of 20 questions delayed other
contacts' compliance alerts by over a second); compliance checks are pure string work and
go out at once, well inside the 1 s alert target. A contact's summary waits for its
pending lookups.
Never imports bots/ or channels/: it only knows the events of core/events.py.
"""

from __future__ import annotations

import asyncio
import os
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from assist.compliance import (
    ComplianceRules,
    check_utterance,
    disclosures_said,
    disclosures_triggered,
    load_rules,
)
from assist.entities import extract_entities
from assist.kb import KnowledgeBase
from assist.scripts import ScriptBook, load_scripts, pick
from assist.summary import ContactRecord, ContactSummary, summarise
from assist.tokens import has_han, tokenize
from core.bus.base import Bus, Subscription
from core.clock import Clock
from core.events import (
    AssistSuggestion,
    BotReply,
    ContactEnded,
    ContactStarted,
    EmotionResult,
    Event,
    NluResult,
    TranscriptFinal,
)

log = structlog.get_logger("hotline.assist")

GROUP = "assist"
CONSUMES = (
    "contact.started", "transcript.final", "nlu.result", "emotion.result", "bot.reply",
    "contact.ended",
)  # fmt: skip
# E5 cosines are compressed high, and more so in Chinese: on the demo KB, off-topic chatter
# ("ok thanks", "今天天气怎么样") scored 0.79–0.82 (EN) and 0.85–0.88 (ZH), real questions
# 0.86–0.91. A hit must also have keyword (BM25) support, which small talk lacks.
MIN_COSINE = {"en": 0.83, "zh": 0.89}
MIN_QUESTION_TOKENS = 2
NO_INTENT = frozenset({"oos", "out_of_scope", "nlu_fallback", "greet", "goodbye", "affirm", "deny"})


class AssistStoreWriter(Protocol):
    """Where suggestions and summaries are kept (the sidebar catches up from it)."""

    async def save_suggestion(self, event: AssistSuggestion) -> None: ...

    async def save_summary(self, summary: ContactSummary) -> None: ...


@dataclass
class _Contact:
    record: ContactRecord
    intent: str | None = None
    announced: set[str] = field(default_factory=set)
    shown_passages: set[str] = field(default_factory=set)
    scripted: tuple[str, str] | None = None
    upset_sent: set[str] = field(default_factory=set)
    entities_sent: set[tuple[str, str]] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    searches: set[asyncio.Task[None]] = field(default_factory=set)
    last_search: asyncio.Task[None] | None = None  # answers publish in utterance order


class AssistService:
    """Consumes a contact's events, publishes ``assist.suggestion`` events."""

    def __init__(
        self,
        bus: Bus,
        kb: KnowledgeBase,
        *,
        clock: Clock,
        store_writer: AssistStoreWriter | None = None,
        scripts: ScriptBook | None = None,
        rules: ComplianceRules | None = None,
        min_cosine: Mapping[str, float] | None = None,
        min_intent_confidence: float = 0.5,
        parallel_searches: int | None = None,
    ):
        self.bus = bus
        self.kb = kb
        self.clock = clock
        self.store_writer = store_writer
        self.book = scripts or load_scripts()
        self.rules = rules or load_rules()
        self.min_cosine = dict(MIN_COSINE if min_cosine is None else min_cosine)
        self.min_intent_confidence = min_intent_confidence
        self._contacts: dict[str, _Contact] = {}
        # One search per core, first come first served: embeddings time-sliced on too few
        # cores all finish late, queued ones finish in order.
        self._search_slots = asyncio.Semaphore(parallel_searches or min(4, os.cpu_count() or 1))
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_max = 100_000

    def subscribe(self) -> Subscription:
        """Register on the bus as consumer group ``assist``."""
        return self.bus.subscribe(GROUP, self.handle, types=CONSUMES)

    async def close(self) -> None:
        """Let running lookups finish and flush a write-behind store writer (shutdown)."""
        searches = [t for c in self._contacts.values() for t in c.searches]
        if searches:
            await asyncio.gather(*searches, return_exceptions=True)
        close = getattr(self.store_writer, "close", None)
        if close is not None:
            await close()

    def record(self, contact_id: str) -> ContactRecord | None:
        c = self._contacts.get(contact_id)
        return c.record if c else None

    # -- dispatch ----------------------------------------------------------------------------
    async def handle(self, event: Event) -> None:
        if event.id in self._seen or event.contact_id is None:
            return
        contact = self._contact(event)
        async with contact.lock:
            if event.id in self._seen:
                return
            match event:
                case ContactStarted():
                    await self._on_started(contact, event)
                case TranscriptFinal():
                    await self._on_transcript(contact, event)
                case NluResult():
                    await self._on_nlu(contact, event)
                case EmotionResult():
                    await self._on_emotion(contact, event)
                case BotReply():
                    await self._on_bot_reply(contact, event)
                case ContactEnded():
                    await self._on_ended(contact, event)
            self._seen[event.id] = None
            if len(self._seen) > self._seen_max:
                self._seen.popitem(last=False)

    def _contact(self, event: Event) -> _Contact:
        cid = event.contact_id
        assert cid is not None
        c = self._contacts.get(cid)
        if c is None:
            lang = getattr(event, "language", None) or "en"
            c = self._contacts[cid] = _Contact(ContactRecord(cid, language=_lang(lang)))
        return c

    async def _publish(
        self,
        c: _Contact,
        kind: str,
        title: str,
        body: str = "",
        *,
        source: str,
        score: float | None = None,
    ) -> None:
        ev = AssistSuggestion(
            contact_id=c.record.contact_id, at=self.clock.now(), kind=kind,  # type: ignore[arg-type]
            title=title, body=body, source=source, score=score,
        )  # fmt: skip
        await self.bus.publish(ev)
        if self.store_writer is not None:
            await self.store_writer.save_suggestion(ev)

    # -- handlers ----------------------------------------------------------------------------
    async def _on_started(self, c: _Contact, ev: ContactStarted) -> None:
        if ev.language:
            c.record.language = _lang(ev.language)
        c.record.customer_id = ev.customer_id
        for d in self.rules.disclosures:
            if d.required == "always":
                await self._announce(c, d.key)

    async def _announce(self, c: _Contact, key: str) -> None:
        if key in c.announced or key in c.record.disclosures_said:
            return
        c.announced.add(key)
        c.record.disclosures_required.add(key)
        d = self.rules.disclosure(key)
        lang = c.record.language
        await self._publish(c, "disclosure", pick(d.name, lang), pick(d.say, lang),
                            source=f"disclosure:{key}", score=0.0)  # fmt: skip

    async def _tick(self, c: _Contact, text: str) -> None:
        for key in sorted(disclosures_said(text, self.rules) - c.record.disclosures_said):
            c.record.disclosures_said.add(key)
            if key in c.announced:  # an unrequired disclosure said anyway is not news
                d = self.rules.disclosure(key)
                await self._publish(c, "disclosure", pick(d.name, c.record.language),
                                    pick(d.say, c.record.language),
                                    source=f"disclosure:{key}", score=1.0)  # fmt: skip

    async def _entities(self, c: _Contact, pairs: list[tuple[str, str]], origin: str) -> None:
        for name, value in pairs:
            c.record.entities[name] = value
            if (name, value) in c.entities_sent:
                continue
            c.entities_sent.add((name, value))
            await self._publish(c, "entity", name, value, source=f"entity:{name}:{origin}")

    async def _on_transcript(self, c: _Contact, ev: TranscriptFinal) -> None:
        text = ev.text.strip()
        if not text:
            return
        if ev.language and not c.record.transcript:
            c.record.language = _lang(ev.language)
        speaker = str(ev.speaker)
        c.record.transcript.append((speaker, text))
        lang = c.record.language
        for alert in check_utterance(text, language=lang, speaker=speaker, rules=self.rules):
            c.record.alerts.append(alert)
            await self._publish(c, "compliance", alert.title, alert.evidence,
                                source=f"compliance:{alert.key}",
                                score=1.0 if alert.severity == "high" else 0.5)  # fmt: skip
        for key in sorted(disclosures_triggered(text, None, self.rules)):
            await self._announce(c, key)
        if speaker in ("agent", "bot"):
            await self._tick(c, text)
            await self._steps_said(c, text)
            return
        await self._entities(c, extract_entities(text), "transcript")
        # The search (~50 ms of embedding) runs beside the consumer, not in it: the next
        # event — another contact's compliance alert — must not queue behind it.
        task = asyncio.create_task(
            self._knowledge(c, text, after=c.last_search), name=f"assist-kb-{c.record.contact_id}"
        )
        c.last_search = task
        c.searches.add(task)
        task.add_done_callback(c.searches.discard)

    async def _knowledge(
        self, c: _Contact, text: str, *, after: asyncio.Task[None] | None = None
    ) -> None:
        try:
            await self._search_and_suggest(c, text, after=after)
        except Exception as e:  # a failed lookup loses one hint, never the contact's state
            log.warning("assist.knowledge_failed", contact_id=c.record.contact_id,
                        error=type(e).__name__)  # fmt: skip
            raise

    async def _search_and_suggest(
        self, c: _Contact, text: str, *, after: asyncio.Task[None] | None = None
    ) -> None:
        """Search beside the consumer; publish only after the contact's previous search has,
        so the agent sees answers in the order the customer asked (and the same passage is
        credited to the first question that found it, however the searches interleave)."""
        hits = []
        # the words decide the KB language: callers switch, and ASR's language tag may not
        lang = "zh" if has_han(text) else "en"
        if len(tokenize(text)) >= MIN_QUESTION_TOKENS:  # "yes", "ok": nothing to look up
            async with self._search_slots:
                # require_keyword: a hit is shown only with BM25 support (below), so a
                # question no passage shares a keyword with is not embedded at all
                hits = await asyncio.to_thread(
                    self.kb.search, text, k=1, language=lang, require_keyword=True
                )
        if after is not None and not after.done():
            await asyncio.wait({after})  # its failure is its own; our cancellation propagates
        if not hits:
            return
        hit = hits[0]
        if hit.bm25 is None or (hit.cosine or 0.0) < self.min_cosine.get(lang, 0.9):
            return
        if hit.passage_id in c.shown_passages:
            return
        c.shown_passages.add(hit.passage_id)
        c.record.articles_shown.append(hit.title)
        source = f"kb:{hit.passage_id}@v{hit.version}"
        await self._publish(c, "knowledge", hit.title, hit.text, source=source, score=hit.score)

    async def _steps_said(self, c: _Contact, text: str) -> None:
        intents = [i for i in dict.fromkeys(self.book.resolve(x) for x in c.record.intents) if i]
        changed = False
        for intent in intents:
            done = c.record.steps_done.setdefault(intent, [])
            for step in sorted(self.book.steps_said(intent, text) - set(done)):
                done.append(step)
                changed = True
        if changed:
            await self._script(c)

    async def _script(self, c: _Contact) -> None:
        """Publish the next-best step of the current intent, if it is not already showing."""
        intent = self.book.resolve(c.intent) or "default"
        step = self.book.next_step(intent, set(c.record.steps_done.get(intent, ())))
        if step is None or c.scripted == (intent, step.step):
            return
        c.scripted = (intent, step.step)
        lang = c.record.language
        title = f"{pick(self.book.script(intent).reason, lang)} · {step.step}"
        await self._publish(c, "script", title, pick(step.say, lang),
                            source=f"script:{intent}/{step.step}")  # fmt: skip

    async def _on_nlu(self, c: _Contact, ev: NluResult) -> None:
        if ev.language and not c.record.transcript:
            c.record.language = _lang(ev.language)
        await self._entities(c, [(e.entity, e.value) for e in ev.entities], "nlu")
        name = ev.intent.name
        if name in NO_INTENT or ev.intent.confidence < self.min_intent_confidence:
            return
        if name not in c.record.intents:
            c.record.intents.append(name)
        c.intent = name
        for key in sorted(disclosures_triggered("", self.book.resolve(name) or name, self.rules)):
            await self._announce(c, key)
        await self._script(c)

    async def _on_emotion(self, c: _Contact, ev: EmotionResult) -> None:
        if str(ev.speaker) != "customer":
            return
        kinds = []
        if ev.label in ("angry", "frustrated"):
            kinds.append(ev.label)
            c.record.upset = True
        elif ev.label in ("neutral", "satisfied"):
            c.upset_sent -= {"angry", "frustrated"}  # calmed down: a new outburst is news again
        if ev.escalate:
            kinds.append("escalate")
            c.record.upset = True
        for kind in kinds:
            if kind in c.upset_sent:
                continue
            c.upset_sent.add(kind)
            title, say = self.book.deescalation[kind]
            lang = c.record.language
            await self._publish(c, "deescalation", pick(title, lang), pick(say, lang),
                                source=f"deescalation:{kind}", score=ev.confidence)  # fmt: skip

    async def _on_bot_reply(self, c: _Contact, ev: BotReply) -> None:
        await self._tick(c, ev.text)
        intent = self.book.resolve(c.intent)
        if intent and ev.step and any(s.step == ev.step for s in self.book.intents[intent].steps):
            done = c.record.steps_done.setdefault(intent, [])
            if ev.step not in done:
                done.append(ev.step)
                await self._script(c)

    async def _on_ended(self, c: _Contact, ev: ContactEnded) -> None:
        if c.searches:  # the summary lists the articles shown: let lookups finish first
            await asyncio.gather(*c.searches, return_exceptions=True)
        c.record.ended_reason = ev.reason
        c.record.outcome = ev.outcome
        summary = summarise(c.record, book=self.book, rules=self.rules)
        await self._publish(c, "summary", summary.reason, summary.render(),
                            source=f"summary:{summary.outcome_code}")  # fmt: skip
        if self.store_writer is not None:
            await self.store_writer.save_summary(summary)
        self._contacts.pop(c.record.contact_id, None)
        log.info("assist.contact_summarised", contact_id=c.record.contact_id,
                 outcome=summary.outcome_code)  # fmt: skip


def _lang(language: str) -> str:
    return "zh" if language.lower().startswith("zh") else "en"
