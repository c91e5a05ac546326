"""Demo CRM / core-banking tables: customers, accounts, cards and follow-up records (issue 6).

These back ``bots.crm.StoreCrm``, the demo implementation of the CRM adapter; a real bank
plugs its own adapter in and these tables stay empty. Money is stored in integer cents.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.store.tables.base import Base


class CrmCustomerRow(Base):
    __tablename__ = "crm_customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32), index=True)  # E.164
    dob: Mapped[str] = mapped_column(String(10))  # ISO date, compared as text
    address: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    segment: Mapped[str] = mapped_column(String(32), default="retail")


class CrmAccountRow(Base):
    __tablename__ = "crm_accounts"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("crm_customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # checking | savings | credit
    balance_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")


class CrmCardRow(Base):
    __tablename__ = "crm_cards"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("crm_customers.id", ondelete="CASCADE"), index=True
    )
    last4: Mapped[str] = mapped_column(String(4))
    kind: Mapped[str] = mapped_column(String(16), default="debit")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | blocked
    blocked_at: Mapped[datetime | None]


class CrmFollowUpRow(Base):
    """A follow-up record opened by the bot: dispute, complaint, address change, callback."""

    __tablename__ = "crm_follow_ups"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the reference read out
    customer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    contact_id: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
