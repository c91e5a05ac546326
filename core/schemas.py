"""Request and response shapes of the core API (auth, users, contacts)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from core.domain import Role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenPublic(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    roles: list[Role]


class MePublic(BaseModel):
    subject: str
    username: str
    roles: list[Role]
    via: str


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    roles: list[Role] = Field(min_length=1)


class ApiKeyCreated(BaseModel):
    id: str
    name: str
    roles: list[Role]
    key: str = Field(description="Shown once; only its hash is stored")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    username: str
    full_name: str
    roles: list[Role]
    active: bool


class UserList(BaseModel):
    data: list[UserPublic]
    count: int


class ContactPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    channel: str
    direction: str
    language: str | None
    customer_id: str | None
    queue: str | None
    agent_id: str | None
    status: str
    outcome: str | None
    started_at: datetime
    ended_at: datetime | None
    summary: str | None


class ContactList(BaseModel):
    data: list[ContactPublic]
    count: int


class TimelinePublic(BaseModel):
    contact_id: str
    data: list[dict]
    count: int


class StageTiming(BaseModel):
    stage: str
    turn: int | None
    started_at: datetime
    duration_ms: float
    detail: str | None = None


class TracePublic(BaseModel):
    contact_id: str
    stages: list[StageTiming]


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(min_length=1, max_length=64)
    payload: dict = Field(default_factory=dict)


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    status: str
    attempts: int
    created_at: datetime
    finished_at: datetime | None
    result: dict | None
    error: str | None
