"""Bot tables: conversation trackers, the handoff queue and the handoff log (issue 6).

``bot_conversations`` keeps one tracker per channel sender (JSON state, so the flow schema can
evolve without migrations). ``bot_handoffs`` is the queue shown to agents until routing takes
over assignment; ``bot_handoff_log`` records both directions (bot → agent, agent → bot).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.store.tables.base import Base


class BotConversationRow(Base):
    __tablename__ = "bot_conversations"

    sender_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="bot")  # bot|handed_off|ended
    outcome: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class BotHandoffRow(Base):
    __tablename__ = "bot_handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(String(48))
    queue: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    agent_id: Mapped[str | None] = mapped_column(String(64))
    callback_phone: Mapped[str | None] = mapped_column(String(32))
    packet: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_bot_handoffs_status_created", "status", "created_at"),)


class BotHandoffLogRow(Base):
    __tablename__ = "bot_handoff_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # to_agent | to_bot
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime]
