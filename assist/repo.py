"""Assist queries: suggestions (sidebar catch-up), ratings, summaries, article versions.

Keyword-only functions taking the session explicitly (the template's crud style), plus
:class:`StoreWriter`, the ``store_writer`` the composition root hands to AssistService.
Tables: ``core/store/tables/assist.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from assist.articles import Article
from assist.summary import ContactSummary
from core.errors import NotFoundError
from core.events import AssistSuggestion
from core.store.tables.assist import (
    AssistSuggestionRow,
    ContactSummaryRow,
    KbArticle,
    KbArticleVersion,
    SuggestionRating,
)


async def save_suggestion(session: AsyncSession, *, event: AssistSuggestion) -> None:
    """Keep a published suggestion; a redelivered event (same id) is stored once."""
    if await session.get(AssistSuggestionRow, event.id) is not None:
        return
    session.add(
        AssistSuggestionRow(
            id=event.id,
            contact_id=event.contact_id or "",
            at=event.at,
            kind=event.kind,
            title=event.title,
            body=event.body,
            source=event.source,
            score=event.score,
        )
    )


async def list_suggestions(
    session: AsyncSession, *, contact_id: str, since: datetime | None = None
) -> list[AssistSuggestionRow]:
    """A contact's suggestions in order: what a reconnecting sidebar replays."""
    q = select(AssistSuggestionRow).where(AssistSuggestionRow.contact_id == contact_id)
    if since is not None:
        q = q.where(AssistSuggestionRow.at > since)
    return list((await session.scalars(q.order_by(AssistSuggestionRow.at))).all())


async def rate_suggestion(
    session: AsyncSession, *, suggestion_id: str, agent_id: str, useful: bool
) -> SuggestionRating:
    """Record (or change) an agent's useful / not-useful verdict on a suggestion."""
    sug = await session.get(AssistSuggestionRow, suggestion_id)
    if sug is None:
        raise NotFoundError(f"no suggestion {suggestion_id!r}")
    rating = await session.scalar(
        select(SuggestionRating).where(
            SuggestionRating.suggestion_id == suggestion_id, SuggestionRating.agent_id == agent_id
        )
    )
    if rating is None:
        rating = SuggestionRating(suggestion_id=suggestion_id, contact_id=sug.contact_id,
                                  agent_id=agent_id, useful=useful, source=sug.source)  # fmt: skip
        session.add(rating)
    else:
        rating.useful = useful
        rating.rated_at = datetime.now(UTC)
    await session.flush()
    return rating


async def source_ratings(
    session: AsyncSession, *, sources: Iterable[str] | None = None
) -> dict[str, tuple[int, int]]:
    """(useful, not useful) counts per suggestion source, e.g. ``kb:en-fees#2@v1``."""
    q = select(SuggestionRating.source, SuggestionRating.useful, func.count()).group_by(
        SuggestionRating.source, SuggestionRating.useful
    )
    if sources is not None:
        q = q.where(SuggestionRating.source.in_(list(sources)))
    out: dict[str, tuple[int, int]] = {}
    for source, useful, n in (await session.execute(q)).all():
        up, down = out.get(source, (0, 0))
        out[source] = (up + n, down) if useful else (up, down + n)
    return out


async def save_summary(session: AsyncSession, *, summary: ContactSummary) -> ContactSummaryRow:
    """Store the generated summary; an agent's edit already made is kept."""
    row = await session.get(ContactSummaryRow, summary.contact_id)
    fields = {
        "language": summary.language, "reason": summary.reason, "actions": list(summary.actions),
        "outcome": summary.outcome, "outcome_code": summary.outcome_code,
        "follow_ups": list(summary.follow_ups), "entities": dict(summary.entities),
        "generated_text": summary.render(), "updated_at": datetime.now(UTC),
    }  # fmt: skip
    if row is None:
        row = ContactSummaryRow(contact_id=summary.contact_id, **fields)
        session.add(row)
    else:
        for key, value in fields.items():
            setattr(row, key, value)
    await session.flush()
    return row


async def edit_summary(
    session: AsyncSession, *, contact_id: str, text: str, edited_by: str
) -> ContactSummaryRow:
    row = await session.get(ContactSummaryRow, contact_id)
    if row is None:
        raise NotFoundError(f"no summary for contact {contact_id!r}")
    row.edited_text = text
    row.edited_by = edited_by
    row.updated_at = datetime.now(UTC)
    await session.flush()
    return row


async def save_article_version(
    session: AsyncSession, *, article: Article, edited_by: str | None = None
) -> KbArticleVersion:
    """Mirror a KB article version (as numbered by the KnowledgeBase) into the store."""
    head = await session.get(KbArticle, article.id)
    if head is None:
        head = KbArticle(id=article.id, language=article.language)
        session.add(head)
    head.current_version = article.version
    head.retired = False
    head.updated_at = datetime.now(UTC)
    version = KbArticleVersion(
        article_id=article.id, version=article.version, title=article.title, body=article.body,
        language=article.language, tags=list(article.tags), product=article.product,
        valid_from=article.valid_from, valid_to=article.valid_to,
        fingerprint=article.fingerprint, source=article.source, edited_by=edited_by,
    )  # fmt: skip
    session.add(version)
    await session.flush()
    return version


class StoreWriter:
    """AssistService's ``store_writer`` on the SQL store: one short transaction per write."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]):
        self.sessions = sessions

    async def save_suggestion(self, event: AssistSuggestion) -> None:
        async with self.sessions.begin() as session:
            await save_suggestion(session, event=event)

    async def save_summary(self, summary: ContactSummary) -> None:
        async with self.sessions.begin() as session:
            await save_summary(session, summary=summary)
