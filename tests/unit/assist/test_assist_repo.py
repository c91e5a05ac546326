"""Assist store queries on a real SQLite database (the assist tables created directly,
since the Alembic migration for them is written by the store owner)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assist.articles import parse_article
from assist.repo import (
    StoreWriter,
    edit_summary,
    list_suggestions,
    rate_suggestion,
    save_article_version,
    source_ratings,
)
from assist.summary import ContactSummary
from core.errors import NotFoundError
from core.events import AssistSuggestion
from core.store import Store, open_store
from core.store.tables import assist as tables
from core.store.tables.base import Base

ASSIST_TABLES = [
    Base.metadata.tables[t.__tablename__]
    for t in (tables.KbArticle, tables.KbArticleVersion, tables.AssistSuggestionRow,
              tables.SuggestionRating, tables.ContactSummaryRow)
]  # fmt: skip
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = open_store(f"sqlite+aiosqlite:///{tmp_path / 'assist.db'}")
    async with s.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all, tables=ASSIST_TABLES)
    yield s
    await s.close()


def _sug(i: int, source: str = "kb:en-fees#1@v1") -> AssistSuggestion:
    return AssistSuggestion(id=f"s{i}", contact_id="c1", at=T0 + timedelta(seconds=i),
                            kind="knowledge", title="Fees", body="…", source=source)  # fmt: skip


async def test_suggestions_are_stored_once_and_replayed_in_order(store: Store):
    writer = StoreWriter(store.sessions)
    for ev in (_sug(2), _sug(1), _sug(2)):  # redelivery of s2
        await writer.save_suggestion(ev)
    async with store.sessions() as session:
        rows = await list_suggestions(session, contact_id="c1")
        assert [r.id for r in rows] == ["s1", "s2"]
        later = await list_suggestions(session, contact_id="c1", since=T0 + timedelta(seconds=1))
        assert [r.id for r in later] == ["s2"]


async def test_ratings_upsert_and_aggregate_by_source(store: Store):
    writer = StoreWriter(store.sessions)
    await writer.save_suggestion(_sug(1))
    await writer.save_suggestion(_sug(2, source="kb:en-lost-stolen-card#0@v1"))
    async with store.sessions.begin() as session:
        await rate_suggestion(session, suggestion_id="s1", agent_id="a1", useful=False)
        await rate_suggestion(session, suggestion_id="s1", agent_id="a1", useful=True)  # changed
        await rate_suggestion(session, suggestion_id="s1", agent_id="a2", useful=True)
        await rate_suggestion(session, suggestion_id="s2", agent_id="a1", useful=False)
        with pytest.raises(NotFoundError):
            await rate_suggestion(session, suggestion_id="nope", agent_id="a1", useful=True)
    async with store.sessions() as session:
        assert await source_ratings(session) == {
            "kb:en-fees#1@v1": (2, 0), "kb:en-lost-stolen-card#0@v1": (0, 1)
        }  # fmt: skip


async def test_summary_keeps_the_agents_edit_when_regenerated(store: Store):
    summary = ContactSummary(
        "c1", "zh", "客户来电挂失银行卡", ("办理了银行卡挂失",), "通话中已解决", "resolved", (),
        {"account_last4": "4821"},
    )  # fmt: skip
    writer = StoreWriter(store.sessions)
    await writer.save_summary(summary)
    async with store.sessions.begin() as session:
        await edit_summary(session, contact_id="c1", text="客户挂失，已补卡", edited_by="a1")
    await writer.save_summary(summary)
    async with store.sessions() as session:
        row = await session.get(tables.ContactSummaryRow, "c1")
        assert row.edited_text == "客户挂失，已补卡" and row.generated_text.startswith("来电原因：")
        assert row.entities == {"account_last4": "4821"}
        with pytest.raises(NotFoundError):
            await edit_summary(session, contact_id="c9", text="x", edited_by="a1")


async def test_article_versions_are_kept(store: Store):
    text = "---\ntitle: T\nlanguage: en\nvalid_from: 2026-01-01\n---\nBody {}"
    async with store.sessions.begin() as session:
        for v in (1, 2):
            art = parse_article(text.format(v), article_id="en-t").with_version(v)
            await save_article_version(session, article=art, edited_by="admin")
    async with store.sessions() as session:
        head = await session.get(tables.KbArticle, "en-t")
        assert head.current_version == 2
