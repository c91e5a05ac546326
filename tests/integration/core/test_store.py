"""The store on SQLite and PostgreSQL: migrations from empty, the append-only timeline."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from core.domain import Channel, Speaker
from core.events import ContactEnded, ContactStarted, TranscriptFinal
from core.store import Store
from core.store.tables.contacts import ContactRow
from core.store.timeline import append_event, read_timeline

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def test_migrated_schema_has_core_tables(store: Store) -> None:
    async with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            rows = await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
            assert mode == "wal"
        else:
            rows = await conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            )
        names = {r[0] for r in rows}
    assert {
        "contacts",
        "contact_events",
        "users",
        "api_keys",
        "audit_log",
        "alembic_version",
    } <= names


async def test_timeline_appends_in_order_and_is_idempotent(store: Store) -> None:
    events = [
        ContactStarted(contact_id="c1", at=T0, channel=Channel.CHAT, language="en"),
        TranscriptFinal(
            contact_id="c1",
            at=T0 + timedelta(seconds=2),
            speaker=Speaker.CUSTOMER,
            text="I lost my card",
        ),
        ContactEnded(contact_id="c1", at=T0 + timedelta(seconds=30), outcome="resolved"),
    ]
    async with store.sessions() as s:
        for e in events:
            assert await append_event(s, e)
        await s.commit()
    async with store.sessions() as s:  # redelivery of an already stored event
        assert not await append_event(s, events[1])
        await s.commit()
    replay = await read_timeline(store.sessions, "c1")
    assert replay == events
    async with store.sessions() as s:
        row = await s.get(ContactRow, "c1")
        assert (row.channel, row.status, row.outcome) == ("chat", "ended", "resolved")
        assert row.ended_at == T0 + timedelta(seconds=30)


async def test_event_before_contact_started_creates_contact(store: Store) -> None:
    e = TranscriptFinal(contact_id="c9", at=T0, speaker=Speaker.AGENT, text="hello")
    async with store.sessions() as s:
        await append_event(s, e)
        await s.commit()
    assert await read_timeline(store.sessions, "c9") == [e]
    assert await read_timeline(store.sessions, "other") == []
