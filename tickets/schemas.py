"""Ticket shapes, one per direction: create, update (all optional), public, list envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["open", "pending", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]


class TicketCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=20_000)
    kind: str = Field("general", min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")
    priority: Priority = "normal"
    customer_id: str | None = Field(None, max_length=64)
    contact_id: str | None = Field(None, max_length=64)
    queue: str | None = Field(None, max_length=64)
    assignee: str | None = Field(None, max_length=64)
    fields: dict[str, Any] = Field(default_factory=dict)


class TicketUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    priority: Priority | None = None
    assignee: str | None = Field(None, max_length=64)
    note: str | None = Field(None, max_length=2000)


class TicketPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    description: str
    kind: str
    status: Status
    priority: Priority
    customer_id: str | None
    contact_id: str | None
    queue: str | None
    assignee: str | None
    created_by: str | None
    fields: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class TicketList(BaseModel):
    data: list[TicketPublic]
    count: int
