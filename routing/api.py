"""Routing API (``/api/v1/routing``): agent state and call control, supervisor live view.

Agents act only on their own agent id (= their username); supervisors (and admins) on any.
Every route carries ``require_roles``; the live WebSocket carries :func:`ws_require_roles`
(browsers cannot set headers on a WebSocket upgrade, so it takes the JWT cookie or
``?token=``). Errors are ``routing.errors`` codes, e.g. ``invalid_transition`` (an agent in
two states at once), ``unknown_queue`` (transfer to a missing queue), ``unknown_contact``.
"""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from core.auth import Principal
from core.deps import CurrentPrincipal, require_roles
from core.domain import Role
from core.errors import ForbiddenError, HotlineError
from core.store.tables.contacts import ContactRow
from core.store.tables.crm import CrmAccountRow, CrmCardRow, CrmCustomerRow
from routing.call_control import CallControl, TransferTarget
from routing.errors import InvalidTransition, UnknownAgent, UnknownContact
from routing.live import LiveHub
from routing.schemas import (
    AgentOut,
    ConferenceIn,
    ControlOut,
    LiveStats,
    MessageIn,
    MonitorIn,
    MuteIn,
    StateChange,
    TransferIn,
    WrapUpIn,
    WrapUpOut,
)
from routing.service import RoutingService

log = structlog.get_logger("hotline.routing.api")
router = APIRouter(prefix="/routing", tags=["routing"])
AGENTS = require_roles(Role.AGENT, Role.SUPERVISOR)
SUPERVISORS = require_roles(Role.SUPERVISOR)
STAFF = frozenset({Role.SUPERVISOR, Role.ADMIN})


def get_routing(request: Request) -> RoutingService:
    return request.app.state.routing


def get_control(request: Request) -> CallControl:
    return request.app.state.call_control


RoutingDep = Annotated[RoutingService, Depends(get_routing)]
ControlDep = Annotated[CallControl, Depends(get_control)]


def acting_for(principal: Principal, agent_id: str) -> str:
    """Agents act on themselves only; supervisors and admins on anyone."""
    if principal.roles & STAFF or principal.username == agent_id:
        return agent_id
    raise ForbiddenError(f"{principal.username} may not act for agent {agent_id}")


def _agent(routing: RoutingService, agent_id: str) -> Any:
    agent = routing.agents.get(agent_id)
    if agent is None:
        raise UnknownAgent(f"agent {agent_id!r} does not exist")
    return agent


# --- WebSocket guard -------------------------------------------------------------------


# core.deps reads the JWT cookie or ?token= on WebSocket upgrades too, so one guard serves both.
ws_require_roles = require_roles


# --- agent ------------------------------------------------------------------------------


@router.get("/me", response_model=AgentOut, dependencies=[require_roles(Role.AGENT)])
async def me(principal: CurrentPrincipal, routing: RoutingDep) -> AgentOut:
    """The calling agent's routing state (agent id = username)."""
    return AgentOut.of(_agent(routing, principal.username))


@router.get("/agents/{agent_id}", response_model=AgentOut, dependencies=[AGENTS])
async def get_agent(agent_id: str, principal: CurrentPrincipal, routing: RoutingDep) -> AgentOut:
    return AgentOut.of(_agent(routing, acting_for(principal, agent_id)))


@router.post("/agents/{agent_id}/state", response_model=AgentOut, dependencies=[AGENTS])
async def set_state(
    agent_id: str, body: StateChange, principal: CurrentPrincipal, routing: RoutingDep
) -> AgentOut:
    """login / available / break (with a reason) / offline; impossible switches are refused."""
    aid = acting_for(principal, agent_id)
    if body.state == "login":
        a = await routing.login(aid)
    elif body.state == "available":
        a = await routing.make_available(aid)
    elif body.state == "break":
        if not body.reason:
            raise InvalidTransition("a break needs a reason (e.g. lunch, training)")
        a = await routing.take_break(aid, body.reason)
    else:
        a = await routing.logout(aid)
    return AgentOut.of(a)


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/accept",
    response_model=AgentOut,
    dependencies=[AGENTS],
)
async def accept(
    agent_id: str, contact_id: str, principal: CurrentPrincipal, routing: RoutingDep
) -> AgentOut:
    return AgentOut.of(await routing.accept(acting_for(principal, agent_id), contact_id))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/reject",
    response_model=AgentOut,
    dependencies=[AGENTS],
)
async def reject(
    agent_id: str, contact_id: str, principal: CurrentPrincipal, routing: RoutingDep
) -> AgentOut:
    """Decline an offer: the contact goes back in line at its old place."""
    return AgentOut.of(await routing.reject(acting_for(principal, agent_id), contact_id))


def _out(st: Any) -> ControlOut:
    return ControlOut(**st.public())


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/hold",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def hold(
    agent_id: str, contact_id: str, principal: CurrentPrincipal, control: ControlDep
) -> ControlOut:
    """Hold: the caller hears hold audio and the agent no longer hears the caller."""
    return _out(await control.hold(acting_for(principal, agent_id), contact_id))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/resume",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def resume(
    agent_id: str, contact_id: str, principal: CurrentPrincipal, control: ControlDep
) -> ControlOut:
    return _out(await control.resume(acting_for(principal, agent_id), contact_id))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/mute",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def mute(
    agent_id: str, contact_id: str, body: MuteIn, principal: CurrentPrincipal, control: ControlDep
) -> ControlOut:
    return _out(await control.mute(acting_for(principal, agent_id), contact_id, on=body.on))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/transfer",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def transfer(
    agent_id: str,
    contact_id: str,
    body: TransferIn,
    principal: CurrentPrincipal,
    control: ControlDep,
) -> ControlOut:
    """Blind (now) or warm (consult first) to an agent, a queue, a skill group or a number."""
    target = TransferTarget(body.kind, body.target)
    aid = acting_for(principal, agent_id)
    return _out(await control.transfer(aid, contact_id, target, mode=body.mode))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/transfer/complete",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def complete_transfer(
    agent_id: str, contact_id: str, principal: CurrentPrincipal, control: ControlDep
) -> ControlOut:
    return _out(await control.complete_transfer(acting_for(principal, agent_id), contact_id))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/transfer/cancel",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def cancel_consult(
    agent_id: str, contact_id: str, principal: CurrentPrincipal, control: ControlDep
) -> ControlOut:
    return _out(await control.cancel_consult(acting_for(principal, agent_id), contact_id))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/conference",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def conference(
    agent_id: str,
    contact_id: str,
    body: ConferenceIn,
    principal: CurrentPrincipal,
    control: ControlDep,
) -> ControlOut:
    """Three-way: add an agent or a number; the handling agent stays on."""
    target = TransferTarget(body.kind, body.target)
    return _out(await control.conference(acting_for(principal, agent_id), contact_id, target))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/hangup",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def hang_up(
    agent_id: str, contact_id: str, principal: CurrentPrincipal, control: ControlDep
) -> ControlOut:
    """End the contact (call or chat): the agent goes to wrap-up."""
    return _out(await control.hang_up(acting_for(principal, agent_id), contact_id))


@router.post(
    "/agents/{agent_id}/contacts/{contact_id}/messages",
    response_model=ControlOut,
    dependencies=[AGENTS],
)
async def send_message(
    agent_id: str,
    contact_id: str,
    body: MessageIn,
    principal: CurrentPrincipal,
    control: ControlDep,
) -> ControlOut:
    """Write to the chat customer (only the agent on the chat, or a supervisor for them)."""
    aid = acting_for(principal, agent_id)
    return _out(await control.send_message(aid, contact_id, body.text))


@router.post("/agents/{agent_id}/wrap-up", response_model=WrapUpOut, dependencies=[AGENTS])
async def wrap_up(
    agent_id: str,
    body: WrapUpIn,
    request: Request,
    principal: CurrentPrincipal,
    routing: RoutingDep,
    contact_id: str | None = None,
) -> WrapUpOut:
    """Finish wrap-up with a disposition code (and notes); the agent is available again."""
    aid = acting_for(principal, agent_id)
    a = await routing.finish_wrap_up(aid, body.disposition)
    if contact_id:
        await _record_outcome(request, contact_id, aid, body)
        with contextlib.suppress(AttributeError):
            request.app.state.call_control.forget(contact_id)
    return WrapUpOut(
        agent=AgentOut.of(a), contact_id=contact_id, disposition=body.disposition, notes=body.notes
    )


async def _record_outcome(request: Request, contact_id: str, agent_id: str, body: WrapUpIn) -> None:
    """Disposition and notes onto the contact row, when the contact exists in the store."""
    try:
        async with request.app.state.store.sessions.begin() as s:
            row = await s.get(ContactRow, contact_id)
            if row is None:
                return
            row.outcome, row.agent_id = body.disposition, agent_id
            if body.notes:
                note = f"Agent notes ({agent_id}): {body.notes}"
                row.summary = f"{row.summary}\n{note}" if row.summary else note
    except SQLAlchemyError as e:  # the agent is already available; say so in the log
        log.warning("routing.wrap_up_not_recorded", contact=contact_id, error=type(e).__name__)


@router.get("/contacts/{contact_id}/control", response_model=ControlOut, dependencies=[AGENTS])
async def get_control_state(
    contact_id: str, principal: CurrentPrincipal, control: ControlDep
) -> ControlOut:
    handler = control.handler_of(contact_id)
    if handler is None:
        raise UnknownContact(f"contact {contact_id} is not being handled by an agent")
    acting_for(principal, handler)
    return _out(control.owned(handler, contact_id))


@router.get("/contacts/{contact_id}/customer", dependencies=[AGENTS])
async def customer_card(
    contact_id: str, request: Request, principal: CurrentPrincipal, control: ControlDep
) -> dict[str, Any]:
    """The customer card (CRM) of a contact the caller is offered or handling."""
    hub: LiveHub = request.app.state.live
    routing = hub.routing
    mine = routing.agents.get(principal.username)
    on_it = mine is not None and (contact_id in mine.active or contact_id in mine.offers)
    if not (
        on_it or principal.roles & STAFF or control.participant(principal.username, contact_id)
    ):
        raise ForbiddenError(f"{principal.username} is not on contact {contact_id}")
    packet = hub.packets.get(contact_id) or {}
    customer_id = packet.get("customer_id")
    card: dict[str, Any] = {"contact_id": contact_id, "customer": None, "packet": packet or None}
    if not customer_id:
        return card
    async with request.app.state.store.sessions() as s:
        row = await s.get(CrmCustomerRow, customer_id)
        if row is None:
            return card
        accounts = (
            await s.scalars(select(CrmAccountRow).where(CrmAccountRow.customer_id == row.id))
        ).all()
        cards = (await s.scalars(select(CrmCardRow).where(CrmCardRow.customer_id == row.id))).all()
    card["customer"] = {
        "id": row.id,
        "name": row.name,
        "phone": row.phone[:-4] + "****" if len(row.phone) > 4 else "****",
        "language": row.language,
        "segment": row.segment,
        "verified": bool(packet.get("verified")),
        "accounts": [{"number": "…" + a.number[-4:], "kind": a.kind} for a in accounts],
        "cards": [{"last4": c.last4, "kind": c.kind, "status": c.status} for c in cards],
    }
    return card


# --- supervisor -------------------------------------------------------------------------


@router.get("/stats", response_model=LiveStats, dependencies=[SUPERVISORS])
async def stats(request: Request) -> LiveStats:
    """Queues (waiting, ringing, longest wait, SL today, abandons today) and agents."""
    hub: LiveHub = request.app.state.live
    return LiveStats(**hub.snapshot())


@router.get("/agents", response_model=list[AgentOut], dependencies=[SUPERVISORS])
async def list_agents(routing: RoutingDep) -> list[AgentOut]:
    return [AgentOut.of(a) for a in sorted(routing.agents.values(), key=lambda a: a.id)]


@router.post(
    "/contacts/{contact_id}/monitor", response_model=ControlOut, dependencies=[SUPERVISORS]
)
async def monitor(
    contact_id: str, body: MonitorIn, principal: CurrentPrincipal, control: ControlDep
) -> ControlOut:
    """Listen in, whisper to the agent, or barge in (``mode: null`` stops)."""
    return _out(await control.monitor(principal.username, contact_id, body.mode))


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with a code and reason (a close before accept is a bare 403)."""
    await websocket.accept()
    await websocket.close(code=code, reason=reason)


# --- live push --------------------------------------------------------------------------


@router.websocket("/live")
async def live(
    websocket: WebSocket,
    principal: Principal = ws_require_roles(Role.AGENT, Role.SUPERVISOR),
    view: str = "agent",
) -> None:
    """Push channel of the desktop (``view=agent``) or supervisor page (``view=supervisor``)."""
    hub: LiveHub = websocket.app.state.live
    supervisor = view == "supervisor"
    if supervisor and not principal.roles & STAFF:
        await refuse(websocket, 4403, "the supervisor view needs the supervisor role")
        return
    if not supervisor and principal.username not in hub.routing.agents:
        await refuse(websocket, 4404, f"{principal.username} is not a routing agent")
        return
    await websocket.accept()
    client = await hub.connect(principal.username, websocket.send_json, supervisor=supervisor)
    try:
        while True:
            await websocket.receive_text()  # pings; the page only listens
    except (WebSocketDisconnect, RuntimeError):
        pass
    except HotlineError as e:  # pragma: no cover - defensive
        log.warning("routing.live_error", code=e.code)
    finally:
        await hub.disconnect(client)
