"""Seed contacts for the QA review tests: events on the timeline, then the automatic score,
exactly as the subscriber would store them (transcript rebuilt from the stored events)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from core.domain import Channel, Direction, Speaker
from core.events import ContactEnded, ContactStarted, Event, RoutingAssigned, TranscriptFinal
from core.settings import FeatureSettings, Settings
from core.store.timeline import append_event, read_timeline
from qa import repo
from qa.score import score_contact
from qa.scorecard import load_default
from qa.subscriber import transcript_from_events

CALLS = Path(__file__).resolve().parents[2] / "fixtures" / "qa" / "calls"
NO_MODELS = FeatureSettings(voice=False, bots=False, assist=False, qa=False, campaigns=False)


def light_settings(settings: Settings) -> Settings:
    """The test settings with every model-backed feature off (the review needs none)."""
    return settings.model_copy(update={"features": NO_MODELS})


def fixture_call(name: str) -> dict:
    return json.loads((CALLS / f"{name}.json").read_text(encoding="utf-8"))


async def store_events(sessions: async_sessionmaker, *events: Event) -> None:
    """Append events to their contacts' timelines, as the timeline recorder would."""
    async with sessions() as session:
        for e in events:
            await append_event(session, e)
        await session.commit()


async def seed_scored_contact(
    sessions: async_sessionmaker,
    *,
    contact_id: str,
    agent_id: str,
    fixture: str,
    scored_at: datetime | None = None,
    recording_uri: str | None = None,
) -> str:
    """Store the fixture call as a contact's events and its automatic score; returns the
    score id."""
    call = fixture_call(fixture)
    events = [
        ContactStarted(
            contact_id=contact_id,
            channel=Channel.VOICE,
            direction=Direction(call.get("direction", "inbound")),
            language=call["language"],
        ),
        RoutingAssigned(contact_id=contact_id, queue="billing", agent_id=agent_id),
    ]
    for n, t in enumerate(call["turns"]):
        events.append(
            TranscriptFinal(
                contact_id=contact_id,
                speaker=Speaker(t["speaker"]),
                text=t["text"],
                language=call["language"],
                start_s=t["start"],
                end_s=t["end"],
                turn=n,
            )
        )
    events.append(ContactEnded(contact_id=contact_id))
    await store_events(sessions, *events)
    if recording_uri is not None:
        from core.store.tables.contacts import ContactRow

        async with sessions() as session:
            row = await session.get(ContactRow, contact_id)
            row.recording_uri = recording_uri
            await session.commit()
    stored = await read_timeline(sessions, contact_id)
    result = score_contact(transcript_from_events(contact_id, stored), load_default())
    async with sessions() as session:
        row = repo.add_score(
            session, result, contact_id=contact_id, agent_id=agent_id, channel="voice"
        )
        if scored_at is not None:
            row.scored_at = scored_at
        await session.commit()
        return row.id
