"""HTTP edge of the bots: the Rasa-compatible REST channel, the chat page and staff routes.

Two routers, because they face different people:

* ``build_channel_router()`` is customer-facing and mounted at the root, like Rasa's server:
  ``POST /webhooks/rest/webhook`` ``{"sender", "message", "metadata"?, "message_id"?, "seq"?}``
  → ``[{"recipient_id", "text", "buttons"?}]``, ``GET /webhooks/rest/poll`` (messages the bot
  sent outside a customer turn, e.g. after an agent hands back) and ``GET /chat`` (the widget
  page). These are open on purpose (a customer has no account); the tracker route on it is
  staff-only.
* ``build_bots_router()`` is ``/bots`` for staff under ``/api/v1``: trackers, the handoff
  queue, hand-back, flow status and reload.

Both read the composed :class:`bots.dialogue.service.BotService` from ``app.state.bots``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from bots.dialogue.service import BotService
from core.deps import require_roles
from core.domain import Role

WEB_TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates"
MAX_BODY_CHARS = 100_000  # longer is refused; up to this it is truncated with a notice


@lru_cache(maxsize=1)
def _templates() -> Jinja2Templates:
    return Jinja2Templates(directory=str(WEB_TEMPLATES))


def get_bots(request: Request) -> BotService:
    bots = getattr(request.app.state, "bots", None)
    if bots is None:
        raise HTTPException(503, "the bot service is not running")
    return bots


BotsDep = Annotated[BotService, Depends(get_bots)]


class RestMessage(BaseModel):
    """The Rasa REST channel body, plus optional replay/ordering ids and channel metadata."""

    model_config = ConfigDict(extra="ignore")
    sender: str = Field(min_length=1, max_length=128)
    message: str = Field(max_length=MAX_BODY_CHARS)
    metadata: dict[str, Any] = Field(default_factory=dict)
    message_id: str | None = Field(default=None, max_length=128)
    seq: int | None = Field(default=None, ge=0)
    language: str | None = Field(default=None, pattern="^(en|zh)$")


class HandBack(BaseModel):
    agent_id: str = Field(default="agent", max_length=64)
    flow: str | None = Field(default=None, max_length=64)


def _staff(deps: Sequence[Any] | None, *roles: Role) -> list[Any]:
    return list(deps) if deps is not None else [require_roles(*roles)]


def build_channel_router(*, staff_dependencies: Sequence[Any] | None = None) -> APIRouter:
    """Customer-facing routes (mount at the root). ``staff_dependencies`` overrides the role
    guard of the tracker route (tests pass ``[]``)."""
    router = APIRouter(tags=["channels"])

    @router.post("/webhooks/rest/webhook")
    async def rest_webhook(body: RestMessage, bots: BotsDep) -> list[dict[str, Any]]:
        """Rasa REST channel: one customer message in, the bot's messages out."""
        meta = {str(k): str(v) for k, v in body.metadata.items() if isinstance(v, str | int)}
        message_id = body.message_id or (
            str(body.metadata["message_id"]) if "message_id" in body.metadata else None
        )
        replies = await bots.handle_message(
            body.sender,
            body.message,
            channel="voice" if meta.get("channel") == "voice" else "chat",
            message_id=message_id,
            seq=body.seq,
            language=body.language,
            metadata={k: v for k, v in meta.items() if k in {"phone", "name", "page"}},
        )
        return [r.to_rest(body.sender) for r in replies]

    @router.get("/webhooks/rest/poll")
    async def rest_poll(
        bots: BotsDep, sender: Annotated[str, Query(min_length=1, max_length=128)]
    ) -> list[dict[str, Any]]:
        """Messages sent to ``sender`` outside its own turns (e.g. after a hand-back)."""
        msgs = await bots.take_outbox(sender)
        return [{"recipient_id": sender, **{k: v for k, v in m.items() if v}} for m in msgs]

    @router.get(
        "/conversations/{sender}/tracker",
        dependencies=_staff(staff_dependencies, Role.AGENT, Role.SUPERVISOR),
    )
    async def conversation_tracker(sender: str, bots: BotsDep) -> dict[str, Any]:
        """Rasa-style tracker of one conversation (sensitive slots masked)."""
        t = await bots.tracker(sender)
        if t is None:
            raise HTTPException(404, f"no conversation with sender {sender!r}")
        return t.public(sensitive=bots.engine.sensitive_slots())

    @router.get("/chat", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page(request: Request) -> HTMLResponse:
        """The web-chat page: the embeddable widget, opened."""
        return _templates().TemplateResponse(request, "chat.html", {})

    return router


def build_bots_router(*, staff_dependencies: Sequence[Any] | None = None) -> APIRouter:
    """Staff routes under ``/bots`` (include with prefix ``/api/v1``)."""
    router = APIRouter(prefix="/bots", tags=["bots"])
    agents = _staff(staff_dependencies, Role.AGENT, Role.SUPERVISOR)
    admins = _staff(staff_dependencies, Role.ADMIN)

    @router.get("/conversations/{sender}/tracker", dependencies=agents)
    async def tracker(sender: str, bots: BotsDep) -> dict[str, Any]:
        t = await bots.tracker(sender)
        if t is None:
            raise HTTPException(404, f"no conversation with sender {sender!r}")
        return t.public(sensitive=bots.engine.sensitive_slots())

    @router.get("/handoffs", dependencies=agents)
    async def handoffs(bots: BotsDep) -> dict[str, Any]:
        """Contacts waiting for a human, with their handoff packet (until routing assigns)."""
        rows = await bots.desk.waiting() if bots.desk else []
        return {"data": rows, "count": len(rows)}

    @router.post("/handoffs/{sender}/hand-back", dependencies=agents)
    async def hand_back(sender: str, body: HandBack, bots: BotsDep) -> dict[str, Any]:
        """Agent → bot (e.g. for card activation); both directions are logged."""
        replies = await bots.hand_back(sender, agent_id=body.agent_id, flow=body.flow)
        if not replies:
            raise HTTPException(409, "that conversation is not waiting for or with an agent")
        return {"sender": sender, "messages": [r.to_rest(sender) for r in replies]}

    @router.get("/flows", dependencies=admins)
    async def flows_status(bots: BotsDep) -> dict[str, Any]:
        lib = bots.engine.library
        lib.refresh()
        return {
            "folder": str(lib.folder),
            "files": list(lib.book.sources),
            "flows": sorted(lib.book.flows),
            "errors": lib.errors,
            "reloads": lib.reloads,
        }

    @router.post("/flows/reload", dependencies=admins)
    async def flows_reload(bots: BotsDep) -> dict[str, Any]:
        """Re-read the flow files now; on errors the old flows keep serving."""
        lib = bots.engine.library
        changed = lib.refresh()
        return {"reloaded": changed, "errors": lib.errors, "files": list(lib.book.sources)}

    return router
