"""Assist queries: suggestions (sidebar catch-up), ratings, summaries, article versions.

Keyword-only functions taking the session explicitly (the template's crud style), plus
the ``store_writer`` the composition root hands to AssistService: :class:`QueuedStoreWriter`
(write-behind, batched) over :class:`StoreWriter` (one transaction per write).
Tables: ``core/store/tables/assist.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import UTC, datetime

import structlog
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


async def save_suggestions(session: AsyncSession, *, events: list[AssistSuggestion]) -> int:
    """Keep a batch of suggestions in one round trip for the ids; returns how many were new."""
    fresh = {e.id: e for e in events}
    if not fresh:
        return 0
    known = await session.scalars(
        select(AssistSuggestionRow.id).where(AssistSuggestionRow.id.in_(list(fresh)))
    )
    for sid in known:
        fresh.pop(sid, None)
    session.add_all(
        AssistSuggestionRow(id=e.id, contact_id=e.contact_id or "", at=e.at, kind=e.kind,
                            title=e.title, body=e.body, source=e.source, score=e.score)
        for e in fresh.values()
    )  # fmt: skip
    return len(fresh)


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


log = structlog.get_logger("hotline.assist.repo")


class QueuedStoreWriter:
    """Write-behind ``store_writer``: suggestions are queued and stored in batches by one task.

    AssistService publishes compliance, entity and disclosure suggestions from inside its
    bus consumer. With :class:`StoreWriter` each one waited for its own transaction (a
    SELECT, an INSERT, a commit) before the consumer took the next event, so one contact's
    writes delayed every other contact's next suggestion (bench: ``hotline bench assist``,
    inline vs queued). Nothing needs the row at once: a sidebar catching up merges the
    store with the live fan-out's recent ring (:mod:`assist.live`). A summary is written
    after the suggestions queued before it; :meth:`close` flushes on shutdown. A batch that
    fails is retried once, then logged and counted in ``failed`` (the suggestions were
    already delivered live; only the catch-up copy is lost).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = 256):
        self.sessions = sessions
        self.inner = StoreWriter(sessions)
        self.max_batch = max_batch
        self.written = 0
        self.failed = 0
        self._pending: list[AssistSuggestion] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    async def save_suggestion(self, event: AssistSuggestion) -> None:
        self._pending.append(event)
        self._idle.clear()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="assist-store-writer")

    async def save_summary(self, summary: ContactSummary) -> None:
        await self.flush()
        await self.inner.save_summary(summary)

    async def flush(self) -> None:
        """Return once everything queued so far is stored (or given up on)."""
        if self._pending or not self._idle.is_set():
            await self._idle.wait()

    async def close(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._write(batch)
            self._idle.set()

    async def _write(self, batch: list[AssistSuggestion]) -> None:
        for attempt in (1, 2):
            try:
                async with self.sessions.begin() as session:
                    await save_suggestions(session, events=batch)
                self.written += len(batch)
                return
            except Exception as e:  # the store is down or busy: one retry, then count the loss
                if attempt == 2:
                    self.failed += len(batch)
                    log.error("assist.suggestions_not_stored", count=len(batch),
                              error=type(e).__name__)  # fmt: skip
                    return
                await asyncio.sleep(0.5)
