"""Help-request API (included in the assist router, so under ``/api/v1/assist``).

- ``POST /help-requests``: an agent asks a supervisor for help on a contact (201; asking
  again while one is active returns it with 200).
- ``GET /help-requests?contact_id=&status=``: active requests by default, oldest first.
- ``POST /help-requests/{id}/acknowledge`` · ``/join`` (supervisors): "coming" · listening in.
- ``POST /help-requests/{id}/close``: the agent or a supervisor ends it.
- ``WS /help-requests/live``: supervisors, every request; ``?contact_id=`` (agents too), one
  contact's. First the stored active requests, then ``{"type": "caught_up"}``, then changes.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response, WebSocket
from pydantic import BaseModel, Field

from assist.help import ACTIVE, ALL, STATUSES, HelpDesk, HelpLive, HelpRequest, list_requests
from assist.live_socket import catch_up_then_stream
from core.deps import CurrentPrincipal, SessionDep, require_roles
from core.domain import Role
from core.errors import FeatureDisabled, ForbiddenError

# its own guard too: the route-table test reads each route's guards, not the includer's
router = APIRouter(
    prefix="/help-requests", dependencies=[require_roles(Role.AGENT, Role.SUPERVISOR)]
)
SUPERVISORS = require_roles(Role.SUPERVISOR)


def _desk(request: Any) -> HelpDesk:
    desk = getattr(request.app.state, "help_desk", None)
    if desk is None:
        raise FeatureDisabled("help requests are not wired in this app")
    return desk


def _live(request: Any) -> HelpLive:
    live = getattr(request.app.state, "help_live", None)
    if live is None:
        raise FeatureDisabled("help requests are not wired in this app")
    return live


class HelpAsk(BaseModel):
    contact_id: str = Field(min_length=1, max_length=64)
    reason: str = Field("", max_length=2000)
    source: str | None = Field(None, max_length=200)


class HelpJoin(BaseModel):
    mode: Literal["listen", "whisper", "barge"] = "listen"


class HelpOut(BaseModel):
    id: str
    contact_id: str
    agent_id: str
    status: str
    reason: str
    source: str | None
    supervisor_id: str | None
    mode: str | None
    created_at: str
    updated_at: str


class HelpList(BaseModel):
    data: list[HelpOut]
    count: int


def _out(req: HelpRequest) -> HelpOut:
    msg = req.message()
    msg.pop("type")
    return HelpOut(**msg)


@router.post("", status_code=201)
async def ask_supervisor(
    body: HelpAsk, request: Request, response: Response, principal: CurrentPrincipal
) -> HelpOut:
    req, created = await _desk(request).ask(
        contact_id=body.contact_id, agent_id=principal.username, reason=body.reason,
        source=body.source,
    )  # fmt: skip
    if not created:
        response.status_code = 200
    return _out(req)


@router.get("")
async def list_help_requests(
    session: SessionDep,
    contact_id: str | None = Query(None, max_length=64),
    status: str = Query("active", pattern="^(active|all|open|acknowledged|joined|closed)$"),
) -> HelpList:
    statuses = ACTIVE if status == "active" else None if status == "all" else (status,)
    rows = await list_requests(session, contact_id=contact_id, statuses=statuses)
    data = [_out(HelpRequest.of(r)) for r in rows]
    return HelpList(data=data, count=len(data))


@router.post("/{request_id}/acknowledge", dependencies=[SUPERVISORS])
async def acknowledge(request_id: str, request: Request, principal: CurrentPrincipal) -> HelpOut:
    return _out(await _desk(request).acknowledge(request_id, supervisor=principal.username))


@router.post("/{request_id}/join", dependencies=[SUPERVISORS])
async def join(
    request_id: str, request: Request, principal: CurrentPrincipal, body: HelpJoin | None = None
) -> HelpOut:
    mode = body.mode if body else "listen"
    return _out(await _desk(request).join(request_id, supervisor=principal.username, mode=mode))


@router.post("/{request_id}/close")
async def close(request_id: str, request: Request, principal: CurrentPrincipal) -> HelpOut:
    return _out(await _desk(request).close(request_id, by=principal.username))


@router.websocket("/live")
async def help_live(
    websocket: WebSocket, principal: CurrentPrincipal, contact_id: str | None = None
) -> None:
    """Catch up from the store, then stream help events (one contact's, or all)."""
    if contact_id is None and not principal.has_any(frozenset({Role.SUPERVISOR})):
        raise ForbiddenError("watching every help request is for supervisors")
    live = _live(websocket)
    key = contact_id or ALL
    await websocket.accept()
    queue = live.watch(key)  # before reading the store: nothing falls in between

    async def backlog() -> list[dict[str, Any]]:
        async with websocket.app.state.store.sessions() as session:
            rows = await list_requests(
                session, contact_id=contact_id, statuses=ACTIVE if contact_id is None else STATUSES
            )
        return [HelpRequest.of(row).message() for row in rows]

    try:
        await catch_up_then_stream(websocket, queue, backlog, contact_id=contact_id)
    finally:
        live.unwatch(key, queue)
