"""QaSubscriber and backfill against a real SQLite store and the in-memory bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.bus.memory import MemoryBus
from core.domain import Channel, Speaker
from core.events import (
    ContactEnded,
    ContactStarted,
    Event,
    QaScored,
    RoutingAssigned,
    TranscriptFinal,
)
from core.store.engine import make_engine, make_sessionmaker
from core.store.tables import contacts as contact_tables
from core.store.tables import qa as qa_tables
from core.store.tables.base import Base
from core.store.timeline import append_event
from qa import repo
from qa.errors import ScorecardError
from qa.scorecard import Scorecard
from qa.subscriber import QaSubscriber, backfill, transcript_from_events

TABLES = [
    contact_tables.ContactRow.__table__,
    contact_tables.ContactEventRow.__table__,
    *(
        m.__table__
        for m in (
            qa_tables.Scorecard,
            qa_tables.QaScore,
            qa_tables.QaItemResult,
            qa_tables.QaOverride,
            qa_tables.QaDispute,
            qa_tables.QaCalibrationScore,
        )
    ),
]


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'qa.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=TABLES))
    yield make_sessionmaker(engine)
    await engine.dispose()


def contact_events(contact_id: str, *, agent: bool = True) -> list[Event]:
    lines = [
        ("agent", "Hello, thank you for calling, this call may be recorded. How can I help?"),
        ("customer", "What time do you close today?"),
        ("agent", "We close at six. Is there anything else I can help with?"),
        ("customer", "No thanks."),
        ("agent", "Thanks for calling, goodbye."),
    ]
    if not agent:
        lines = [ln for ln in lines if ln[0] == "customer"]
    events: list[Event] = [
        ContactStarted(contact_id=contact_id, channel=Channel.VOICE, language="en"),
        RoutingAssigned(contact_id=contact_id, queue="q", agent_id="agent-7"),
    ]
    t = 0.0
    for i, (speaker, text) in enumerate(lines):
        events.append(
            TranscriptFinal(
                contact_id=contact_id,
                speaker=Speaker(speaker),
                text=text,
                start_s=t,
                end_s=t + 3,
                turn=i,
            )
        )
        t += 4
    return events


async def store_events(sessions, events: list[Event]) -> None:
    async with sessions() as session:
        for e in events:
            await append_event(session, e)
        await session.commit()


async def count_scores(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(qa_tables.QaScore))


async def test_scores_on_contact_ended_idempotently(sessions, card: Scorecard) -> None:
    bus = MemoryBus()
    published: list[QaScored] = []
    got = asyncio.Event()

    async def on_scored(event: Event) -> None:
        published.append(event)  # type: ignore[arg-type]
        got.set()

    sub = QaSubscriber(bus, sessions, lambda: card)
    sub.attach()
    bus.subscribe("test", on_scored, types=["qa.scored"])
    await bus.start()
    try:
        await store_events(sessions, contact_events("c1"))
        ended = ContactEnded(contact_id="c1")
        await store_events(sessions, [ended])
        await bus.publish(ended)
        await asyncio.wait_for(got.wait(), timeout=30)
        await sub.handle(ended)  # redelivery: no second row, no second event
    finally:
        await bus.close()
    assert await count_scores(sessions) == 1
    assert len(published) == 1 and published[0].contact_id == "c1"
    async with sessions() as session:
        row = await session.scalar(select(qa_tables.QaScore))
        items = {i.item_id: i for i in row.items}
    assert row.agent_id == "agent-7" and row.event_id == ended.id and row.status == "scored"
    assert items["greeting"].verdict == "pass" and items["greeting"].evidence[0]["turn"] == 0
    assert items["identity_verification"].verdict == "na"


async def test_bad_scorecard_never_wipes_scores(sessions, card: Scorecard) -> None:
    await store_events(sessions, contact_events("c1"))
    await QaSubscriber(MemoryBus(), sessions, lambda: card).handle(ContactEnded(contact_id="c1"))
    assert await count_scores(sessions) == 1

    def broken() -> Scorecard:
        raise ScorecardError("weights add up to 90", code="scorecard_weights", source="x.yaml")

    sub = QaSubscriber(MemoryBus(), sessions, broken)
    await store_events(sessions, contact_events("c2"))
    await sub.handle(ContactEnded(contact_id="c2"))
    assert sub.card_errors == 1
    assert await count_scores(sessions) == 1
    async with sessions() as session:
        with pytest.raises(ScorecardError):
            await repo.save_scorecard(session, yaml_text="version: 1\nname: default\n")
    assert await count_scores(sessions) == 1


async def test_backfill_scores_every_ended_contact(sessions, card: Scorecard) -> None:
    for cid in ("b1", "b2"):
        await store_events(sessions, [*contact_events(cid), ContactEnded(contact_id=cid)])
    await store_events(
        sessions, [*contact_events("b3", agent=False), ContactEnded(contact_id="b3")]
    )
    await store_events(sessions, contact_events("live"))  # not ended: not scored
    report = await backfill(session_factory=sessions, scorecard=card)
    assert (report.scored, report.unscorable, report.skipped) == (2, 1, 0)
    again = await backfill(session_factory=sessions, scorecard=card)
    assert again.scored == 0 and again.skipped == 0  # nothing left without a row
    async with sessions() as session:
        rows = (await session.scalars(select(qa_tables.QaScore))).all()
    by_contact = {r.contact_id: r for r in rows}
    assert set(by_contact) == {"b1", "b2", "b3"}
    assert by_contact["b3"].status == "unscorable" and "transcript" in by_contact["b3"].error


async def test_override_dispute_and_calibration(sessions, card: Scorecard) -> None:
    await store_events(sessions, contact_events("c1"))
    await QaSubscriber(MemoryBus(), sessions, lambda: card).handle(ContactEnded(contact_id="c1"))
    async with sessions() as session:
        score = await session.scalar(select(qa_tables.QaScore))
        await repo.override_item(
            session,
            score_id=score.id,
            item_id="closing",
            verdict="fail",
            comment="agent hung up early",
            analyst_id="qa1",
        )
        dispute = repo.open_dispute(
            session, score_id=score.id, agent_id="agent-7", reason="I did close", item_id="closing"
        )
        await session.flush()
        await repo.resolve_dispute(
            session,
            dispute_id=dispute.id,
            accept=True,
            resolution="recording confirms",
            analyst_id="qa2",
            verdict="pass",
        )
        for analyst, v in (("qa1", "pass"), ("qa2", "fail")):
            repo.add_calibration_verdict(
                session,
                calibration="week1",
                contact_id="c1",
                analyst_id=analyst,
                item_id="greeting",
                verdict=v,
            )
        await session.commit()
        verdicts = await repo.effective_verdicts(session, score_id=score.id)
        ratings = await repo.calibration_ratings(session, calibration="week1")
    assert verdicts["closing"] == "pass"
    assert {(r.rater, r.verdict) for r in ratings if r.item_id == "greeting"} == {
        ("qa1", "pass"),
        ("qa2", "fail"),
        ("auto", "pass"),
    }


def test_transcript_from_events_repairs_and_uses_bot_when_no_agent() -> None:
    events = contact_events("x", agent=False)
    events.append(
        TranscriptFinal(
            contact_id="x", speaker=Speaker.BOT, text="Hello, goodbye", start_s=1, end_s=2
        )
    )
    call = transcript_from_events("x", events)
    assert [t.speaker for t in call.turns].count("agent") == 1
    assert call.language == "en" and call.agent_id == "agent-7"
