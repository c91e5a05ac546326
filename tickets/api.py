"""Tickets HTTP API: ``/api/v1/tickets`` for agents and supervisors (admins pass).

- ``POST /tickets``: open a ticket (201); a contact's customer is filled in from the contact.
- ``GET /tickets?customer_id=&contact_id=&kind=&status=open|pending|resolved|closed|active``:
  newest first, ``{data, count}`` with ``count`` the total matching (``limit``/``offset`` page).
- ``GET /tickets/{id}`` · ``PATCH /tickets/{id}``: status (open → pending → resolved → closed;
  a closed or resolved ticket may be reopened), priority, assignee.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from core.deps import CurrentPrincipal, SessionDep, require_roles
from core.domain import Role
from core.errors import FeatureDisabled
from tickets import repo
from tickets.schemas import TicketCreate, TicketList, TicketPublic, TicketUpdate
from tickets.service import TicketService

router = APIRouter(
    prefix="/tickets", tags=["tickets"], dependencies=[require_roles(Role.AGENT, Role.SUPERVISOR)]
)


def _service(request: Request) -> TicketService:
    service: Any = getattr(request.app.state, "tickets", None)
    if service is None:
        raise FeatureDisabled("tickets are not wired in this app")
    return service


@router.post("", status_code=201)
async def create_ticket(
    body: TicketCreate, request: Request, principal: CurrentPrincipal
) -> TicketPublic:
    row = await _service(request).create(created_by=principal.username, **body.model_dump())
    return TicketPublic.model_validate(row)


@router.get("")
async def list_tickets(
    session: SessionDep,
    customer_id: str | None = Query(None, max_length=64),
    contact_id: str | None = Query(None, max_length=64),
    kind: str | None = Query(None, max_length=32),
    status: str | None = Query(None, pattern="^(open|pending|resolved|closed|active)$"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
) -> TicketList:
    statuses = (
        repo.OPEN_STATUSES if status == "active" else (status,) if status is not None else None
    )
    rows, total = await repo.list_tickets(
        session, customer_id=customer_id, contact_id=contact_id, kind=kind, statuses=statuses,
        limit=limit, offset=offset,
    )  # fmt: skip
    return TicketList(data=[TicketPublic.model_validate(r) for r in rows], count=total)


@router.get("/{ticket_id}")
async def get_ticket(ticket_id: str, session: SessionDep) -> TicketPublic:
    return TicketPublic.model_validate(await repo.get_ticket(session, ticket_id=ticket_id))


@router.patch("/{ticket_id}")
async def update_ticket(ticket_id: str, body: TicketUpdate, request: Request) -> TicketPublic:
    row = await _service(request).update(ticket_id, **body.model_dump())
    return TicketPublic.model_validate(row)
