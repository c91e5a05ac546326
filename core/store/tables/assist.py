"""Assist tables: knowledge-base articles (versioned), suggestions, ratings, contact summaries.

An article edit never overwrites: it adds a ``kb_article_versions`` row and moves
``kb_articles.current_version``. Suggestions are kept so a sidebar that reconnects mid-call
catches up from the store, and ratings (useful / not) refer to them to improve ranking.
A summary is stored as generated and, separately, as the agent edited it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.store.tables.base import Base


def _now() -> datetime:
    return datetime.now(UTC)


class KbArticle(Base):
    """One article; its content lives in versions. ``retired`` takes it out of search."""

    __tablename__ = "kb_articles"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # e.g. en-lost-stolen-card
    language: Mapped[str] = mapped_column(String(8), index=True)
    current_version: Mapped[int] = mapped_column(default=1)
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now)


class KbArticleVersion(Base):
    """The full content of one version of an article (Markdown body + front-matter fields)."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    product: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    fingerprint: Mapped[str] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(300))  # file it was imported from
    edited_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)


class AssistSuggestionRow(Base):
    """An ``assist.suggestion`` event as shown to the agent (the event id is the key)."""

    __tablename__ = "assist_suggestions"
    __table_args__ = (Index("ix_assist_suggestions_contact_at", "contact_id", "at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # event id
    contact_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(String(200), index=True)
    score: Mapped[float | None] = mapped_column(Float)


class SuggestionRating(Base):
    """An agent's verdict on a suggestion; one per (suggestion, agent), latest wins."""

    __tablename__ = "suggestion_ratings"
    __table_args__ = (UniqueConstraint("suggestion_id", "agent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    suggestion_id: Mapped[str] = mapped_column(
        ForeignKey("assist_suggestions.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64))
    useful: Mapped[bool]
    source: Mapped[str | None] = mapped_column(String(200), index=True)  # e.g. kb:<passage>
    rated_at: Mapped[datetime] = mapped_column(default=_now)


class ContactSummaryRow(Base):
    """The after-contact summary: as generated, and as the agent edited it."""

    __tablename__ = "contact_summaries"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    actions: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(Text)
    outcome_code: Mapped[str] = mapped_column(String(32))
    follow_ups: Mapped[list] = mapped_column(JSON, default=list)
    entities: Mapped[dict] = mapped_column(JSON, default=dict)
    generated_text: Mapped[str] = mapped_column(Text)
    edited_text: Mapped[str | None] = mapped_column(Text)
    edited_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now)


class HelpRequestRow(Base):
    """An agent's "ask a supervisor" on a contact and how far it got (issue 8).

    ``status``: open → acknowledged (a supervisor is coming) → joined (listening in) →
    closed. One open request per (contact, agent): asking again returns the same one.
    """

    __tablename__ = "help_requests"
    __table_args__ = (Index("ix_help_requests_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    reason: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(String(200))
    supervisor_id: Mapped[str | None] = mapped_column(String(64))
    mode: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    updated_at: Mapped[datetime] = mapped_column(default=_now)
    closed_at: Mapped[datetime | None]
