"""Score every contact when it ends, and backfill stored contacts as a batch job.

``QaSubscriber`` consumes ``contact.ended`` (group ``qa``), rebuilds the transcript from the
contact's stored ``transcript.final`` events (plus ``contact.started`` for language, channel
and direction, ``routing.assigned`` for the agent, ``emotion.result`` for per-turn labels),
scores it off the event loop, stores the score with its evidence and publishes
``qa.scored``. It is idempotent on the event id and on (contact, card, revision), because
durable buses redeliver. An invalid scorecard is logged and nothing is written: existing
scores are never touched. A contact that cannot be scored (no transcript, no agent turn)
gets an ``unscorable`` row with the reason, so every ended contact is accounted for.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from core.bus.base import Bus
from core.events import (
    ContactEnded,
    ContactStarted,
    EmotionResult,
    Event,
    QaScored,
    RoutingAssigned,
    TranscriptFinal,
)
from qa import repo
from qa.checks import Embedder
from qa.errors import QaError, ScorecardError, TranscriptError
from qa.score import ContactScore, score_contact
from qa.scorecard import Scorecard
from qa.transcript import CallTranscript, Turn, detect_language, normalize_language, validate_turns

log = structlog.get_logger("hotline.qa")

LoadEvents = Callable[[str], Awaitable[list[Event]]]
ScorecardProvider = Callable[[], Scorecard | Awaitable[Scorecard]]


@dataclass(frozen=True)
class ContactMeta:
    """What QA needs about a contact besides its turns."""

    agent_id: str | None = None
    channel: str = "voice"


def transcript_from_events(contact_id: str, events: Iterable[Event]) -> CallTranscript:
    """Build a validated transcript from a contact's stored events.

    Timestamps from the recogniser are repaired, not trusted blindly: turns are sorted by
    start, a same-speaker overlap is clipped, and chat messages without times get their
    offset from the event time. With no agent turn but bot turns, the bot is scored in the
    agent's place (a fully automated contact still gets QA).
    """
    events = list(events)
    language: str | None = None
    channel, direction, agent_id = "voice", "inbound", None
    t0 = min((e.at for e in events), default=None)
    raw: list[dict] = []
    for e in events:
        if isinstance(e, ContactStarted):
            language = e.language or language
            channel, direction = e.channel.value, e.direction.value
        elif isinstance(e, RoutingAssigned):
            agent_id = e.agent_id
        elif isinstance(e, TranscriptFinal) and e.text.strip():
            offset = (e.at - t0).total_seconds() if t0 else 0.0
            start = e.start_s if e.start_s is not None else offset
            end = e.end_s if e.end_s is not None else start
            raw.append(
                {"speaker": e.speaker.value, "start": start, "end": max(end, start), "text": e.text}
            )
            language = language or e.language
        elif isinstance(e, EmotionResult) and e.scope == "utterance":
            for turn in reversed(raw):
                if turn["speaker"] == e.speaker.value and "emotion" not in turn:
                    turn["emotion"] = e.label
                    break
    raw.sort(key=lambda t: t["start"])
    last_end: dict[str, float] = {}
    for t in raw:
        prev = last_end.get(t["speaker"])
        if prev is not None and t["start"] < prev:
            t["start"] = prev
            t["end"] = max(t["end"], prev)
        last_end[t["speaker"]] = t["end"]
    raw.sort(key=lambda t: t["start"])
    if raw and not any(t["speaker"] == "agent" for t in raw):
        for t in raw:
            if t["speaker"] == "bot":
                t["speaker"] = "agent"
    turns = tuple(Turn(**t) for t in raw)
    try:
        lang = normalize_language(language, call_id=contact_id)
    except TranscriptError:  # untagged or "auto": read it off the script
        lang = detect_language([t.text for t in turns])
    call = CallTranscript(
        call_id=contact_id,
        language=lang,
        turns=turns,
        channel=channel,
        direction=direction,
        agent_id=agent_id,
    )
    validate_turns(call.turns, call_id=contact_id)
    return call


async def _card(provider: ScorecardProvider) -> Scorecard:
    card = provider()
    return await card if inspect.isawaitable(card) else card


def _default_loader(session_factory: async_sessionmaker) -> LoadEvents:
    from core.store.timeline import read_timeline

    types = {"contact.started", "routing.assigned", "transcript.final", "emotion.result"}
    return partial(read_timeline, session_factory, types=types)


@dataclass
class BackfillReport:
    scored: int = 0
    skipped: int = 0
    unscorable: int = 0
    failed: list[str] = field(default_factory=list)


async def _score_and_store(
    *,
    contact_id: str,
    card: Scorecard,
    session_factory: async_sessionmaker,
    load_events: LoadEvents,
    embedder: Embedder | None,
    event_id: str | None,
    source: str,
) -> tuple[ContactScore | None, bool]:
    """Score one contact and store the result; returns (score, stored_new_row)."""
    async with session_factory() as session:
        found = await repo.find_score(
            session,
            contact_id=contact_id,
            scorecard=card.name,
            revision=card.revision,
            event_id=event_id,
        )
        if found is not None:
            return None, False
    events = await load_events(contact_id)
    result: ContactScore | None = None
    error: TranscriptError | None = None
    call: CallTranscript | None = None
    try:
        call = transcript_from_events(contact_id, events)
        result = await asyncio.to_thread(score_contact, call, card, embedder=embedder)
    except TranscriptError as e:
        error = e
    async with session_factory() as session:
        if result is not None and call is not None:
            repo.add_score(
                session,
                result,
                contact_id=contact_id,
                event_id=event_id,
                agent_id=call.agent_id,
                channel=call.channel,
                source=source,
            )
        else:
            repo.add_unscorable(
                session,
                contact_id=contact_id,
                scorecard=card.name,
                revision=card.revision,
                error=f"{error.code}: {error}" if error else "unknown",
                event_id=event_id,
                source=source,
            )
        try:
            await session.commit()
        except IntegrityError:  # a concurrent redelivery stored it first
            await session.rollback()
            return None, False
    return result, True


class QaSubscriber:
    """Bus subscriber (group ``qa``) that scores each contact on ``contact.ended``."""

    group = "qa"

    def __init__(
        self,
        bus: Bus,
        session_factory: async_sessionmaker,
        scorecard_provider: ScorecardProvider,
        embedder: Embedder | None = None,
        *,
        load_events: LoadEvents | None = None,
    ):
        self.bus = bus
        self.session_factory = session_factory
        self.scorecard_provider = scorecard_provider
        self.embedder = embedder
        self.load_events = load_events or _default_loader(session_factory)
        self.scored = 0
        self.card_errors = 0

    def attach(self) -> None:
        self.bus.subscribe(self.group, self.handle, types=["contact.ended"])

    async def handle(self, event: Event) -> None:
        if not isinstance(event, ContactEnded) or event.contact_id is None:
            return
        try:
            card = await _card(self.scorecard_provider)
        except ScorecardError as e:
            # never score with (or wipe anything because of) a broken card
            self.card_errors += 1
            log.error("qa.scorecard_invalid", code=e.code, error=str(e))
            return
        result, stored = await _score_and_store(
            contact_id=event.contact_id,
            card=card,
            session_factory=self.session_factory,
            load_events=self.load_events,
            embedder=self.embedder,
            event_id=event.id,
            source="auto",
        )
        if not stored or result is None:
            return
        self.scored += 1
        await self.bus.publish(
            QaScored(
                contact_id=event.contact_id,
                scorecard=f"{card.name}@{card.revision}",
                score=result.score if result.score is not None else 0.0,
                auto_fail=result.auto_fail,
                failed_items=result.failed_items,
            )
        )


async def ended_contacts_without_score(
    session_factory: async_sessionmaker, *, scorecard: str, revision: int
) -> list[str]:
    """Ended contacts that have no row yet for this card revision (what backfill scores)."""
    from core.store.tables.contacts import ContactRow
    from core.store.tables.qa import QaScore

    scored = select(QaScore.contact_id).where(
        QaScore.scorecard_name == scorecard, QaScore.scorecard_revision == revision
    )
    async with session_factory() as session:
        rows = await session.scalars(
            select(ContactRow.id)
            .where(ContactRow.status == "ended", ContactRow.id.not_in(scored))
            .order_by(ContactRow.started_at)
        )
        return list(rows)


async def backfill(
    *,
    session_factory: async_sessionmaker,
    scorecard: Scorecard,
    contact_ids: Iterable[str] | None = None,
    load_events: LoadEvents | None = None,
    embedder: Embedder | None = None,
    bus: Bus | None = None,
) -> BackfillReport:
    """Score stored contacts (default: every ended contact without a score by this card).

    The card is an already validated :class:`Scorecard`, so a broken file fails before the
    job touches anything. Already scored contacts are skipped; one contact's failure is
    recorded in the report and the batch goes on.
    """
    loader = load_events or _default_loader(session_factory)
    if contact_ids is None:
        contact_ids = await ended_contacts_without_score(
            session_factory, scorecard=scorecard.name, revision=scorecard.revision
        )
    report = BackfillReport()
    for contact_id in contact_ids:
        try:
            result, stored = await _score_and_store(
                contact_id=contact_id,
                card=scorecard,
                session_factory=session_factory,
                load_events=loader,
                embedder=embedder,
                event_id=None,
                source="backfill",
            )
        except QaError as e:
            report.failed.append(f"{contact_id}: {e.code}: {e}")
            continue
        if not stored:
            report.skipped += 1
        elif result is None:
            report.unscorable += 1
        else:
            report.scored += 1
            if bus is not None:
                await bus.publish(
                    QaScored(
                        contact_id=contact_id,
                        scorecard=f"{scorecard.name}@{scorecard.revision}",
                        score=result.score if result.score is not None else 0.0,
                        auto_fail=result.auto_fail,
                        failed_items=result.failed_items,
                    )
                )
    return report
