"""Core HTTP API: login, API keys, users, contacts and their timeline/trace."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy import func, select

from core.auth import authenticate, create_api_key, issue_token
from core.deps import (
    ANY_ROLE,
    ClockDep,
    CurrentPrincipal,
    SessionDep,
    SettingsDep,
    StoreDep,
    require_roles,
)
from core.domain import Role
from core.events import StageTimed
from core.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ContactList,
    ContactPublic,
    JobCreate,
    JobPublic,
    LoginRequest,
    MePublic,
    StageTiming,
    TimelinePublic,
    TokenPublic,
    TracePublic,
    UserList,
    UserPublic,
)
from core.store.tables.auth import AuditRow, UserRow
from core.store.tables.contacts import ContactRow
from core.store.timeline import read_timeline

auth_router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
contacts_router = APIRouter(prefix="/contacts", tags=["contacts"])
jobs_router = APIRouter(prefix="/jobs", tags=["jobs"])

CONTACT_READERS = (Role.SUPERVISOR, Role.AGENT, Role.QA_ANALYST, Role.REPORT_VIEWER)


@auth_router.post("/login", response_model=TokenPublic)
async def login(
    body: LoginRequest, session: SessionDep, settings: SettingsDep, clock: ClockDep
) -> TokenPublic:
    """Exchange username and password for a JWT (open route: it is how you get a token)."""
    user = await authenticate(session, body.username, body.password)
    now = clock.now()
    ttl = timedelta(minutes=settings.auth.token_ttl_min)
    token = issue_token(
        user,
        secret=settings.secret_key.get_secret_value(),
        algorithm=settings.auth.jwt_algorithm,
        ttl=ttl,
        now=now,
    )
    session.add(AuditRow(at=now, actor=user.id, action="auth.login", target=None, detail={}))
    await session.commit()
    return TokenPublic(
        access_token=token, expires_in=int(ttl.total_seconds()), roles=[Role(r) for r in user.roles]
    )


@auth_router.get("/me", response_model=MePublic, dependencies=[require_roles(*ANY_ROLE)])
async def me(principal: CurrentPrincipal) -> MePublic:
    return MePublic(
        subject=principal.subject,
        username=principal.username,
        roles=sorted(principal.roles),
        via=principal.via,
    )


@auth_router.post(
    "/api-keys", response_model=ApiKeyCreated, dependencies=[require_roles(Role.ADMIN)]
)
async def create_key(
    body: ApiKeyCreate, session: SessionDep, principal: CurrentPrincipal, clock: ClockDep
) -> ApiKeyCreated:
    now = clock.now()
    row, key = await create_api_key(
        session, name=body.name, roles=body.roles, user_id=None, now=now
    )
    session.add(
        AuditRow(at=now, actor=principal.subject, action="api_key.create", target=row.id, detail={})
    )
    await session.commit()
    return ApiKeyCreated(id=row.id, name=row.name, roles=body.roles, key=key)


@users_router.get("", response_model=UserList, dependencies=[require_roles(Role.ADMIN)])
async def list_users(session: SessionDep) -> UserList:
    rows = (await session.scalars(select(UserRow).order_by(UserRow.username))).all()
    return UserList(data=[UserPublic.model_validate(r) for r in rows], count=len(rows))


@contacts_router.get("", response_model=ContactList, dependencies=[require_roles(*CONTACT_READERS)])
async def list_contacts(session: SessionDep, limit: int = 50, offset: int = 0) -> ContactList:
    limit = max(1, min(limit, 500))
    total = await session.scalar(select(func.count()).select_from(ContactRow))
    rows = (
        await session.scalars(
            select(ContactRow).order_by(ContactRow.started_at.desc()).limit(limit).offset(offset)
        )
    ).all()
    return ContactList(data=[ContactPublic.model_validate(r) for r in rows], count=total or 0)


@contacts_router.get(
    "/{contact_id}", response_model=ContactPublic, dependencies=[require_roles(*CONTACT_READERS)]
)
async def get_contact(contact_id: str, session: SessionDep) -> ContactPublic:
    row = await session.get(ContactRow, contact_id)
    if row is None:
        raise HTTPException(404, detail={"code": "not_found", "message": "no such contact"})
    return ContactPublic.model_validate(row)


@contacts_router.get(
    "/{contact_id}/events",
    response_model=TimelinePublic,
    dependencies=[require_roles(*CONTACT_READERS)],
)
async def contact_events(contact_id: str, store: StoreDep) -> TimelinePublic:
    """The contact's append-only timeline, in order (replayable through parse_event)."""
    events = await read_timeline(store.sessions, contact_id)
    return TimelinePublic(
        contact_id=contact_id, data=[e.model_dump(mode="json") for e in events], count=len(events)
    )


@contacts_router.get(
    "/{contact_id}/trace",
    response_model=TracePublic,
    dependencies=[require_roles(*CONTACT_READERS)],
)
async def contact_trace(contact_id: str, store: StoreDep) -> TracePublic:
    """Per-stage timings of the contact's pipeline runs (VAD, ASR, NLU, dialogue, TTS)."""
    events = await read_timeline(store.sessions, contact_id, types={"stage.timed"})
    stages = [
        StageTiming(
            stage=e.stage,
            turn=e.turn,
            started_at=e.started_at,
            duration_ms=e.duration_ms,
            detail=e.detail,
        )
        for e in events
        if isinstance(e, StageTimed)
    ]
    return TracePublic(contact_id=contact_id, stages=stages)


JOB_ROLES = (Role.SUPERVISOR, Role.QA_ANALYST)


@jobs_router.post(
    "", response_model=JobPublic, status_code=202, dependencies=[require_roles(*JOB_ROLES)]
)
async def submit_job(body: JobCreate, request: Request) -> JobPublic:
    """Queue a batch job (e.g. re-transcribe recordings, QA backfill)."""
    jobs = request.app.state.jobs
    return JobPublic.model_validate(await jobs.get(await jobs.submit(body.kind, body.payload)))


@jobs_router.get("/{job_id}", response_model=JobPublic, dependencies=[require_roles(*JOB_ROLES)])
async def get_job(job_id: str, request: Request) -> JobPublic:
    return JobPublic.model_validate(await request.app.state.jobs.get(job_id))
