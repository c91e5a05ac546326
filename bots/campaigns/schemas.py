"""Request and response shapes of the campaigns API (one shape per direction)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    template: str | None = None
    language: str | None = None
    script: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    script: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None


class CampaignPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    template: str | None
    language: str
    status: str
    script: dict[str, Any]
    settings: dict[str, Any]
    created_at: datetime
    started_at: datetime | None


class CampaignList(BaseModel):
    data: list[CampaignPublic]
    count: int


class TemplatePublic(BaseModel):
    name: str
    title: str
    language: str
    script: dict[str, Any]
    settings: dict[str, Any]


class RowErrorPublic(BaseModel):
    row: int
    code: str
    message: str
    column: str | None = None


class UploadResult(BaseModel):
    added: int
    total_rows: int
    encoding: str | None
    mapping: dict[str, str]
    errors: list[RowErrorPublic]


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    phone_e164: str
    name: str
    variables: dict[str, Any]
    time_zones: list[str]
    status: str
    attempts: int
    last_disposition: str | None
    next_attempt_at: datetime | None


class ContactList(BaseModel):
    data: list[ContactPublic]
    count: int


class DncCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: str
    campaign_id: str | None = None
    reason: str = ""
