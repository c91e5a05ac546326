"""Routing (ACD) tables: agents, their skills and state history, queues, the live queue,
every routing decision, and queued callbacks (issue 7).

``queued_contacts`` is the durable queue: the router's in-memory state is rebuilt from it
at start, so a restart mid-queue neither loses nor double-assigns a contact. ``version``
columns let the service detect a concurrent writer.
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
)
from sqlalchemy.orm import Mapped, mapped_column

from core.store.tables.base import Base


class AgentRow(Base):
    """An agent or a bot pool, with its current state (one state at a time)."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    user_id: Mapped[str | None] = mapped_column(String(64), index=True)
    languages: Mapped[list] = mapped_column(JSON, default=list)
    capacity: Mapped[dict] = mapped_column(JSON, default=dict)
    region: Mapped[str | None] = mapped_column(String(64))
    is_bot_pool: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="offline")
    state_reason: Mapped[str | None] = mapped_column(String(64))
    state_since: Mapped[datetime | None]
    idle_since: Mapped[datetime | None]
    last_assigned_at: Mapped[datetime | None]
    wrap_up_until: Mapped[datetime | None]
    offers: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[dict] = mapped_column(JSON, default=dict)
    last_contact_ids: Mapped[list] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(
            "state IN ('available','ringing','busy','wrap_up','break','offline')", name="state"
        ),
    )


class AgentSkillRow(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 10", name="level_range"),
        Index("ix_agent_skills_skill_level", "skill", "level"),
    )


class AgentStateHistoryRow(Base):
    """Append-only: every state change, for reports (time in state, dispositions)."""

    __tablename__ = "agent_state_history"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(64), ForeignKey("agents.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    previous_state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    disposition: Mapped[str | None] = mapped_column(String(64))
    contact_id: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]

    __table_args__ = (Index("ix_agent_state_history_agent_at", "agent_id", "at"),)


class QueueRow(Base):
    """A queue's configuration (the full QueueConfig as JSON, main fields as columns)."""

    __tablename__ = "queues"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    strategy: Mapped[str] = mapped_column(String(32), default="longest_idle")
    workers: Mapped[str] = mapped_column(String(8), default="human")
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime | None]


class QueuedContactRow(Base):
    """One contact in the ACD, from enqueue until it is connected or leaves.

    status: waiting | offered (ringing at ``agent_id`` until ``ring_deadline``) |
    connected | abandoned | voicemail | overflowed | completed. ``enqueued_at`` never
    changes on re-queue or callback, so the contact keeps its place in line.
    """

    __tablename__ = "queued_contacts"

    contact_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    queue_id: Mapped[str] = mapped_column(String(64), ForeignKey("queues.id"))
    channel: Mapped[str] = mapped_column(String(16), default="voice")
    skills: Mapped[dict] = mapped_column(JSON, default=dict)
    language: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    last_agent: Mapped[str | None] = mapped_column(String(64))
    caller_area: Mapped[str | None] = mapped_column(String(64))
    callback: Mapped[bool] = mapped_column(Boolean, default=False)
    enqueued_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    agent_id: Mapped[str | None] = mapped_column(String(64))
    offered_at: Mapped[datetime | None]
    ring_deadline: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_queued_contacts_status_queue", "status", "queue_id"),
        Index("ix_queued_contacts_agent", "agent_id"),
    )


class RoutingDecisionRow(Base):
    """Every decision the router took, with its reason (append-only audit)."""

    __tablename__ = "routing_decisions"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    queue_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text, default="")
    ring: Mapped[int] = mapped_column(Integer, default=0)
    waited_s: Mapped[float] = mapped_column(Float, default=0.0)
    decided_at: Mapped[datetime] = mapped_column(index=True)


class CallbackRow(Base):
    """A caller who chose to be called back; the queued contact keeps its place."""

    __tablename__ = "callbacks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(64), index=True)
    queue_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    requested_at: Mapped[datetime]
    place_enqueued_at: Mapped[datetime]
    agent_id: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None]
