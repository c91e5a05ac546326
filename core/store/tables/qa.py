"""QA tables: automatic scores with per-item evidence, overrides, disputes, calibration, cards.

A score row is never updated in place by re-scoring: a new scorecard revision adds a new
``qa_scores`` row, so a bad card can never wipe what was there. Analyst changes are rows
of their own (``qa_overrides``), so the automatic verdict stays visible for calibration.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.store.tables.base import Base


def _now() -> datetime:
    return datetime.now(UTC)


class Scorecard(Base):
    """A scorecard's YAML text, one row per (name, revision); ``active`` marks the one in use."""

    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("name", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    revision: Mapped[int]
    yaml_text: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)


class QaScore(Base):
    """The automatic score of one contact by one scorecard revision."""

    __tablename__ = "qa_scores"
    __table_args__ = (
        UniqueConstraint("contact_id", "scorecard_name", "scorecard_revision"),
        Index("ix_qa_scores_agent_scored", "agent_id", "scored_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # contact.ended id
    scorecard_name: Mapped[str] = mapped_column(String(64))
    scorecard_revision: Mapped[int]
    score: Mapped[float | None]
    auto_fail: Mapped[bool] = mapped_column(default=False)
    agent_id: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    channel: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="auto")  # auto | backfill
    # scored | unscorable (no transcript / no agent turns): every ended contact gets a row
    status: Mapped[str] = mapped_column(String(16), default="scored")
    error: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[datetime] = mapped_column(default=_now, index=True)

    items: Mapped[list[QaItemResult]] = relationship(
        back_populates="score_row", cascade="all, delete-orphan", lazy="selectin"
    )


class QaItemResult(Base):
    """One item's automatic verdict; ``evidence`` = [{turn, start, end, speaker, matched, …}]."""

    __tablename__ = "qa_item_results"
    __table_args__ = (UniqueConstraint("score_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    score_id: Mapped[str] = mapped_column(ForeignKey("qa_scores.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(64), index=True)
    verdict: Mapped[str] = mapped_column(String(8))  # pass | fail | na
    score: Mapped[float | None]
    weight: Mapped[float]
    auto_fail: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list] = mapped_column(default=list)

    score_row: Mapped[QaScore] = relationship(back_populates="items")


class QaOverride(Base):
    """An analyst's correction of one item verdict, with the reason."""

    __tablename__ = "qa_overrides"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    score_id: Mapped[str] = mapped_column(
        ForeignKey("qa_scores.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[str] = mapped_column(String(64))
    old_verdict: Mapped[str] = mapped_column(String(8))
    new_verdict: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text)
    analyst_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)


class QaDispute(Base):
    """An agent contests a score or an item; an analyst accepts or rejects it."""

    __tablename__ = "qa_disputes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    score_id: Mapped[str] = mapped_column(
        ForeignKey("qa_scores.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[str | None] = mapped_column(String(64))
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|accepted|rejected
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    resolved_at: Mapped[datetime | None]


class QaCalibrationScore(Base):
    """An analyst's blind verdict on an item during a calibration session."""

    __tablename__ = "qa_calibration_scores"
    __table_args__ = (UniqueConstraint("session", "contact_id", "analyst_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    session: Mapped[str] = mapped_column(String(64), index=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    analyst_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=_now)
