"""QueuedStoreWriter: suggestions are stored in batches, once each, off the caller's path;
a summary waits for the suggestions queued before it; close flushes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assist.repo import QueuedStoreWriter, list_suggestions
from assist.summary import ContactSummary
from core.events import AssistSuggestion
from core.store import Store, open_store
from core.store.tables import assist as tables
from core.store.tables.base import Base

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    names = (tables.AssistSuggestionRow.__tablename__, tables.ContactSummaryRow.__tablename__)
    async with s.engine.begin() as conn:
        await conn.run_sync(
            Base.metadata.create_all, tables=[Base.metadata.tables[n] for n in names]
        )
    yield s
    await s.close()


def _sug(i: int, contact: str = "c1") -> AssistSuggestion:
    return AssistSuggestion(id=f"s{i}", contact_id=contact, at=T0 + timedelta(seconds=i),
                            kind="entity", title="amount", body=str(i))  # fmt: skip


async def test_suggestions_are_written_behind_in_batches_once_each(store: Store) -> None:
    writer = QueuedStoreWriter(store.sessions, max_batch=4)
    for i in range(10):
        await writer.save_suggestion(_sug(i))  # returns at once: nothing awaited on the store
    await writer.save_suggestion(_sug(3))  # a redelivered event
    await writer.flush()
    async with store.sessions() as s:
        rows = await list_suggestions(s, contact_id="c1")
    assert [r.id for r in rows] == [f"s{i}" for i in range(10)]
    assert (writer.written, writer.failed) == (11, 0)

    summary = ContactSummary(
        contact_id="c1", language="en", reason="Card lost", actions=(), outcome="",
        outcome_code="resolved", follow_ups=(), entities={},
    )  # fmt: skip
    await writer.save_suggestion(_sug(10))
    await writer.save_summary(summary)  # after the suggestion queued before it
    async with store.sessions() as s:
        assert len(await list_suggestions(s, contact_id="c1")) == 11
        assert (await s.get(tables.ContactSummaryRow, "c1")).reason == "Card lost"
    await writer.save_suggestion(_sug(11))
    await writer.close()
    async with store.sessions() as s:
        assert len(await list_suggestions(s, contact_id="c1")) == 12
