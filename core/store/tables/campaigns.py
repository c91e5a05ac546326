"""Outbound campaign tables: campaigns, their contacts, every call attempt, DNC and consent
(issue 10).

Restart safety lives in these rows, not in memory: a contact is *claimed* by one scheduler
(``status='dialing'``, ``lease_owner``, ``lease_until``) in the same transaction that inserts
its ``call_attempts`` row, before the dialer is asked to call. A crash between claim and hangup
leaves a leased contact that a later scheduler settles instead of re-dialing it at once, and
``uq_call_attempts_contact_seq`` makes a second attempt with the same sequence impossible.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.store.tables.base import Base

CAMPAIGN_STATUSES = ("draft", "running", "paused", "stopped", "completed")
CONTACT_STATUSES = ("pending", "dialing", "done", "dnc", "invalid")


class CampaignRow(Base):
    """A campaign: its bot script, its settings (windows, retries, pacing) and its state."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    template: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16), default="en")
    script: Mapped[dict] = mapped_column(JSON, default=dict)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        CheckConstraint(
            "status IN ('draft','running','paused','stopped','completed')", name="status"
        ),
    )


class CampaignContactRow(Base):
    """One number to call in one campaign, with its variables and its progress.

    status: pending (due at ``next_attempt_at``) | dialing (claimed, leased) | done (final
    disposition) | dnc (blocked at dial time) | invalid (bad number).
    """

    __tablename__ = "campaign_contacts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    phone_e164: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    variables: Mapped[dict] = mapped_column(JSON, default=dict)
    region: Mapped[str | None] = mapped_column(String(4))
    time_zones: Mapped[list] = mapped_column(JSON, default=list)
    row_number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dials: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    last_disposition: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("campaign_id", "phone_e164", name="uq_campaign_contacts_phone"),
        Index("ix_campaign_contacts_due", "campaign_id", "status", "next_attempt_at"),
        CheckConstraint("status IN ('pending','dialing','done','dnc','invalid')", name="status"),
    )


class CallAttemptRow(Base):
    """One dial of one contact: from claim to final disposition (append-only history)."""

    __tablename__ = "call_attempts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("campaigns.id", ondelete="CASCADE")
    )
    contact_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("campaign_contacts.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(Integer)
    dialer: Mapped[str] = mapped_column(String(32), default="")
    call_id: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), default="dialing")
    disposition: Mapped[str | None] = mapped_column(String(32))
    answered_by: Mapped[str | None] = mapped_column(String(16))
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    abandoned: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    amd_confidence: Mapped[float | None] = mapped_column(Float)
    claimed_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("contact_id", "seq", name="uq_call_attempts_contact_seq"),
        Index("ix_call_attempts_campaign_ended", "campaign_id", "ended_at"),
    )


class DncEntryRow(Base):
    """A number that must not be called: globally (``campaign_id`` NULL) or for one campaign."""

    __tablename__ = "dnc_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]


class ConsentRecordRow(Base):
    """Append-only consent / opt-out evidence: who said what, where, when."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    attempt_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]

    __table_args__ = (CheckConstraint("kind IN ('consent','opt_out')", name="kind"),)


CAMPAIGN_TABLES = (
    CampaignRow.__table__,
    CampaignContactRow.__table__,
    CallAttemptRow.__table__,
    DncEntryRow.__table__,
    ConsentRecordRow.__table__,
)
