"""Typed ids and small domain enums shared by every package."""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

ContactId = NewType("ContactId", str)
AgentId = NewType("AgentId", str)
QueueId = NewType("QueueId", str)
UserId = NewType("UserId", str)
EventId = NewType("EventId", str)


class Role(StrEnum):
    """The roles of the RBAC model (issue 3)."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    QA_ANALYST = "qa_analyst"
    CAMPAIGN_MANAGER = "campaign_manager"
    REPORT_VIEWER = "report_viewer"


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    SMS = "sms"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Speaker(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"


class AgentStatus(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    BREAK = "break"
    OFFLINE = "offline"
