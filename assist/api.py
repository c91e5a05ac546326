"""Assist HTTP + WebSocket API: live suggestions, ratings, summaries, customer card, KB.

Every route (the WebSocket too: ``require_roles`` takes an HTTPConnection, and a browser
authenticates the upgrade with the JWT cookie or ``?token=``) is for agents and supervisors.

- ``WS /assist/contacts/{id}/live``: first the contact's suggestions so far (store + the
  fan-out's recent ring), then ``{"type": "caught_up"}``, then each new one as published.
  Messages carry the event id; the sidebar ignores ids it has already shown.
- ``POST /assist/suggestions/{id}/rating``: useful / not; a knowledge source's votes
  re-rank later KB searches (:mod:`assist.ranking`).
- ``GET|PUT /assist/contacts/{id}/summary``: the after-contact summary, agent-editable;
  the edited text is also written to ``contacts.summary``.
- ``GET /assist/contacts/{id}/card`` / ``GET /assist/customers/{id}/card``: the unified
  customer view (masked identity, products, open follow-ups, open tickets from the
  ``tickets`` table, recent contacts on every channel with summaries and outcomes).
- ``POST /assist/contacts/{id}/follow-up``: the wrap-up's follow-up ticket, drafted from the
  summary and created through the tickets service (``app.state.tickets``; assist does not
  import tickets/).
- ``/assist/help-requests…``: "ask a supervisor" (:mod:`assist.help_api`).
- ``GET /assist/kb/search``, ``GET /assist/kb/articles[/{id}]``, ``PUT /assist/kb/articles/{id}``
  (an edit is a new version, mirrored in ``kb_article_versions``).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Query, Request, WebSocket
from pydantic import BaseModel, Field
from sqlalchemy import select

from assist import repo
from assist.articles import Article
from assist.help_api import router as help_router
from assist.live import AssistLive, suggestion_message
from assist.live_socket import catch_up_then_stream
from assist.ranking import RankedKnowledge, RatingBoosts
from core.deps import CurrentPrincipal, SessionDep, require_roles
from core.domain import Role
from core.errors import FeatureDisabled, NotFoundError, ValidationFailed
from core.store.tables.assist import AssistSuggestionRow, ContactSummaryRow
from core.store.tables.contacts import ContactRow
from core.store.tables.crm import CrmAccountRow, CrmCardRow, CrmCustomerRow, CrmFollowUpRow
from core.store.tables.tickets import TicketRow

log = structlog.get_logger("hotline.assist.api")

router = APIRouter(
    prefix="/assist", tags=["assist"], dependencies=[require_roles(Role.AGENT, Role.SUPERVISOR)]
)
router.include_router(help_router)  # "ask a supervisor" (assist.help_api)
RECENT_CONTACTS = 10
CLOSED = ("closed", "done", "resolved", "cancelled")
OPEN_TICKETS = ("open", "pending")
FOLLOW_UP = "follow_up"


# --- wiring ------------------------------------------------------------------------------


def rank_service_kb(app: FastAPI) -> None:
    """Make the running AssistService search through :class:`RankedKnowledge` (idempotent)."""
    service, boosts = app.state.assist, app.state.assist_boosts
    if not service:  # Disabled("assist") is falsy
        return
    if not isinstance(service.kb, RankedKnowledge):
        service.kb = RankedKnowledge(service.kb, boosts)


def _live(request: Any) -> AssistLive:
    live = getattr(request.app.state, "assist_live", None)
    if live is None:
        raise NotFoundError("assist live fan-out is not installed (assist.api.install)")
    return live


def _kb(request: Request) -> Any:
    kb = request.app.state.kb
    _ = kb.search  # Disabled("kb") raises FeatureDisabled (503) here
    return kb


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _row_message(row: AssistSuggestionRow) -> dict[str, Any]:
    return suggestion_message(
        id=row.id, contact_id=row.contact_id, at=_utc(row.at), kind=row.kind, title=row.title,
        body=row.body, source=row.source, score=row.score,
    )  # fmt: skip


# --- live suggestions ----------------------------------------------------------------------


@router.websocket("/contacts/{contact_id}/live")
async def live_suggestions(websocket: WebSocket, contact_id: str) -> None:
    """Catch up, then stream the contact's suggestions as they are published."""
    live = _live(websocket)
    await websocket.accept()
    queue = live.watch(contact_id)  # before reading the store: nothing falls in between

    async def backlog() -> list[dict[str, Any]]:
        async with websocket.app.state.store.sessions() as session:
            rows = await repo.list_suggestions(session, contact_id=contact_id)
        return list(live.catch_up(contact_id, [_row_message(r) for r in rows]))

    try:
        await catch_up_then_stream(websocket, queue, backlog, contact_id=contact_id)
    finally:
        live.unwatch(contact_id, queue)


@router.get("/contacts/{contact_id}/suggestions")
async def list_suggestions(contact_id: str, request: Request, session: SessionDep) -> list[dict]:
    """What a reconnecting sidebar replays (store + recent ring), oldest first."""
    rows = await repo.list_suggestions(session, contact_id=contact_id)
    return _live(request).catch_up(contact_id, [_row_message(r) for r in rows])


# --- ratings -----------------------------------------------------------------------------


class RatingIn(BaseModel):
    useful: bool


class RatingOut(BaseModel):
    suggestion_id: str
    useful: bool
    source: str | None
    source_useful: int
    source_not_useful: int


@router.post("/suggestions/{suggestion_id}/rating")
async def rate(
    suggestion_id: str,
    body: RatingIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> RatingOut:
    """Store the agent's verdict; knowledge votes re-rank the next searches at once."""
    rating = await repo.rate_suggestion(
        session, suggestion_id=suggestion_id, agent_id=principal.username, useful=body.useful
    )
    votes = await repo.source_ratings(session)
    await session.commit()
    up, down = votes.get(rating.source or "", (0, 0))
    boosts: RatingBoosts | None = getattr(request.app.state, "assist_boosts", None)
    if boosts is not None:
        boosts.load(votes)  # every version of a passage counts; a few rows per rated source
        rank_service_kb(request.app)
    return RatingOut(suggestion_id=suggestion_id, useful=rating.useful, source=rating.source,
                     source_useful=up, source_not_useful=down)  # fmt: skip


# --- summary -----------------------------------------------------------------------------


class SummaryOut(BaseModel):
    contact_id: str
    text: str
    generated_text: str = ""
    edited: bool = False
    edited_by: str | None = None
    language: str | None = None
    reason: str = ""
    actions: list[str] = Field(default_factory=list)
    outcome: str = ""
    outcome_code: str | None = None
    follow_ups: list[str] = Field(default_factory=list)
    entities: dict[str, Any] = Field(default_factory=dict)


class SummaryIn(BaseModel):
    text: str = Field(max_length=20_000)


def _summary_out(
    contact_id: str, row: ContactSummaryRow | None, contact: ContactRow | None
) -> SummaryOut:
    if row is None:
        if contact is None or not contact.summary:
            raise NotFoundError(f"no summary for contact {contact_id!r}")
        return SummaryOut(contact_id=contact_id, text=contact.summary, language=contact.language,
                          outcome=contact.outcome or "")  # fmt: skip
    return SummaryOut(
        contact_id=contact_id, text=row.edited_text or row.generated_text,
        generated_text=row.generated_text, edited=row.edited_text is not None,
        edited_by=row.edited_by, language=row.language, reason=row.reason,
        actions=list(row.actions or []), outcome=row.outcome, outcome_code=row.outcome_code,
        follow_ups=list(row.follow_ups or []), entities=dict(row.entities or {}),
    )  # fmt: skip


@router.get("/contacts/{contact_id}/summary")
async def get_summary(contact_id: str, session: SessionDep) -> SummaryOut:
    row = await session.get(ContactSummaryRow, contact_id)
    contact = await session.get(ContactRow, contact_id)
    return _summary_out(contact_id, row, contact)


@router.put("/contacts/{contact_id}/summary")
async def put_summary(
    contact_id: str, body: SummaryIn, session: SessionDep, principal: CurrentPrincipal
) -> SummaryOut:
    """The agent's edit: kept beside the generated text and written to ``contacts.summary``."""
    contact = await session.get(ContactRow, contact_id)
    row = await session.get(ContactSummaryRow, contact_id)
    if row is None and contact is None:
        raise NotFoundError(f"no contact {contact_id!r}")
    if row is None:  # assist was off or the contact has not ended: the agent writes it
        row = ContactSummaryRow(
            contact_id=contact_id, language=(contact.language if contact else None) or "en",
            reason="", actions=[], outcome="", outcome_code="manual", follow_ups=[],
            entities={}, generated_text="",
        )  # fmt: skip
        session.add(row)
        await session.flush()
    row = await repo.edit_summary(
        session, contact_id=contact_id, text=body.text, edited_by=principal.username
    )
    if contact is not None:
        contact.summary = body.text
    await session.commit()
    return _summary_out(contact_id, row, contact)


# --- customer card -----------------------------------------------------------------------


def mask_tail(value: str, keep: int = 4) -> str:
    """``+15551234567`` → ``•••••••4567``: enough to confirm, not to reuse."""
    digits = value.strip()
    if len(digits) <= keep:
        return "•" * len(digits)
    return "•" * (len(digits) - keep) + digits[-keep:]


def mask_name(name: str) -> str:
    """``Alice Chen`` → ``Alice C.``; a Chinese name keeps its family name (``王**``)."""
    parts = name.split()
    if len(parts) > 1:
        return f"{parts[0]} {parts[-1][0]}."
    if name and not name.isascii():
        return name[0] + "*" * (len(name) - 1)
    return name


def _dob(dob: str) -> str:
    return f"{dob[:4]}-••-••" if len(dob) >= 4 else "••••"


@router.get("/contacts/{contact_id}/card")
async def contact_card(contact_id: str, session: SessionDep) -> dict[str, Any]:
    """The customer card of the person on this contact (customer ``null`` if unknown)."""
    contact = await session.get(ContactRow, contact_id)
    if contact is None:
        raise NotFoundError(f"no contact {contact_id!r}")
    if not contact.customer_id:
        return {"contact_id": contact_id, "customer": None, "products": {"accounts": [],
                "cards": []}, "open_follow_ups": [], "recent_contacts": [],
                "open_tickets": await _open_tickets(session, contact_id=contact_id)}  # fmt: skip
    card = await _card(session, contact.customer_id)
    card["contact_id"] = contact_id
    return card


@router.get("/customers/{customer_id}/card")
async def customer_card(customer_id: str, session: SessionDep) -> dict[str, Any]:
    return await _card(session, customer_id)


async def _card(session: Any, customer_id: str) -> dict[str, Any]:
    cust = await session.get(CrmCustomerRow, customer_id)
    if cust is None:
        raise NotFoundError(f"no customer {customer_id!r}")
    accounts = (
        await session.scalars(
            select(CrmAccountRow).where(CrmAccountRow.customer_id == customer_id)
            .order_by(CrmAccountRow.number)
        )
    ).all()  # fmt: skip
    cards = (
        await session.scalars(
            select(CrmCardRow).where(CrmCardRow.customer_id == customer_id).order_by(CrmCardRow.id)
        )
    ).all()
    follow_ups = (
        await session.scalars(
            select(CrmFollowUpRow)
            .where(CrmFollowUpRow.customer_id == customer_id, CrmFollowUpRow.status.not_in(CLOSED))
            .order_by(CrmFollowUpRow.created_at.desc())
        )
    ).all()
    tickets = await _open_tickets(session, customer_id=customer_id)
    contacts = (
        await session.scalars(
            select(ContactRow).where(ContactRow.customer_id == customer_id)
            .order_by(ContactRow.started_at.desc()).limit(RECENT_CONTACTS)
        )
    ).all()  # fmt: skip
    summaries: dict[str, ContactSummaryRow] = {}
    if contacts:
        rows = await session.scalars(
            select(ContactSummaryRow).where(
                ContactSummaryRow.contact_id.in_([c.id for c in contacts])
            )
        )
        summaries = {r.contact_id: r for r in rows}
    return {
        "customer": {
            "id": cust.id, "name": mask_name(cust.name), "phone": mask_tail(cust.phone),
            "dob": _dob(cust.dob), "language": cust.language, "segment": cust.segment,
        },
        "products": {
            "accounts": [
                {"number": mask_tail(a.number), "kind": a.kind, "currency": a.currency,
                 "balance": f"{a.balance_cents / 100:.2f}"}
                for a in accounts
            ],
            "cards": [{"last4": c.last4, "kind": c.kind, "status": c.status} for c in cards],
        },
        "open_follow_ups": [
            {"id": f.id, "kind": f.kind, "status": f.status, "contact_id": f.contact_id,
             "created_at": _utc(f.created_at).isoformat()}
            for f in follow_ups
        ],
        "open_tickets": tickets,
        "recent_contacts": [_contact_line(c, summaries.get(c.id)) for c in contacts],
    }  # fmt: skip


async def _open_tickets(
    session: Any, *, customer_id: str | None = None, contact_id: str | None = None
) -> list[dict[str, Any]]:
    """The customer's open and pending tickets (or, with no customer known, the contact's),
    newest first: read from the ``tickets`` table the tickets package writes."""
    where = (
        TicketRow.customer_id == customer_id
        if customer_id is not None
        else TicketRow.contact_id == contact_id
    )
    rows = await session.scalars(
        select(TicketRow).where(where, TicketRow.status.in_(OPEN_TICKETS))
        .order_by(TicketRow.created_at.desc(), TicketRow.id).limit(20)
    )  # fmt: skip
    return [_ticket_line(t) for t in rows]


def _ticket_line(t: TicketRow) -> dict[str, Any]:
    return {
        "id": t.id, "title": t.title, "kind": t.kind, "status": t.status,
        "priority": t.priority, "contact_id": t.contact_id,
        "created_at": _utc(t.created_at).isoformat(),
    }  # fmt: skip


# --- wrap-up: a follow-up ticket -----------------------------------------------------------


class FollowUpIn(BaseModel):
    title: str | None = Field(None, max_length=300)
    description: str | None = Field(None, max_length=20_000)
    priority: str = Field("normal", pattern="^(low|normal|high|urgent)$")


@router.post("/contacts/{contact_id}/follow-up")
async def follow_up_ticket(
    contact_id: str,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: FollowUpIn | None = None,
) -> dict[str, Any]:
    """The wrap-up's "create follow-up ticket": drafted from the after-contact summary (its
    reason and follow-ups) unless the agent wrote a title. One per contact: asking again
    returns the open one (``created`` false), so a double click opens one ticket."""
    body = body or FollowUpIn()
    existing = await session.scalar(
        select(TicketRow).where(
            TicketRow.contact_id == contact_id,
            TicketRow.kind == FOLLOW_UP,
            TicketRow.status.in_(OPEN_TICKETS),
        )
    )
    if existing is not None:
        return {"created": False, "ticket": _ticket_line(existing)}
    contact = await session.get(ContactRow, contact_id)
    summary = await session.get(ContactSummaryRow, contact_id)
    if contact is None and summary is None:
        raise NotFoundError(f"no contact {contact_id!r}")
    follow_ups = list(summary.follow_ups or []) if summary else []
    title = (
        (body.title or "").strip()
        or (follow_ups[0] if follow_ups else "")
        or (f"Follow-up: {summary.reason}" if summary and summary.reason else "Follow-up")
    )
    description = body.description
    if description is None:
        text = (summary.edited_text or summary.generated_text) if summary else ""
        description = text or (contact.summary if contact and contact.summary else "")
    tickets = getattr(request.app.state, "tickets", None)
    if tickets is None:
        raise FeatureDisabled("tickets are not wired in this app")
    row = await tickets.create(
        title=title[:300], description=description, kind=FOLLOW_UP, priority=body.priority,
        customer_id=contact.customer_id if contact else None, contact_id=contact_id,
        created_by=principal.username,
        fields={"follow_ups": follow_ups} if follow_ups else {},
    )  # fmt: skip
    return {"created": True, "ticket": _ticket_line(row)}


def _contact_line(c: ContactRow, s: ContactSummaryRow | None) -> dict[str, Any]:
    text = c.summary or (s.edited_text or s.generated_text if s else None)
    return {
        "id": c.id, "channel": c.channel, "direction": c.direction, "status": c.status,
        "started_at": _utc(c.started_at).isoformat(),
        "ended_at": _utc(c.ended_at).isoformat() if c.ended_at else None,
        "outcome": c.outcome or (s.outcome_code if s else None), "summary": text,
    }  # fmt: skip


# --- knowledge base ----------------------------------------------------------------------


@router.get("/kb/search")
async def kb_search(
    request: Request,
    q: str = Query(min_length=1, max_length=500),
    k: int = Query(3, ge=1, le=20),
    language: str | None = Query(None, pattern="^(en|zh)$"),
) -> list[dict[str, Any]]:
    """Passages answering ``q``, re-ranked by agents' ratings."""
    kb = _kb(request)
    boosts: RatingBoosts | None = getattr(request.app.state, "assist_boosts", None)
    ranked = (
        kb if boosts is None or isinstance(kb, RankedKnowledge) else RankedKnowledge(kb, boosts)
    )
    hits = await asyncio.to_thread(ranked.search, q, k=k, language=language)
    return [h.to_dict() for h in hits]


class ArticleIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=100_000)
    language: str | None = Field(None, pattern="^(en|zh)$")
    tags: list[str] | None = None
    product: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None


def article_dict(a: Article, *, body: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id, "version": a.version, "title": a.title, "language": a.language,
        "tags": list(a.tags), "product": a.product,
        "valid_from": a.valid_from.isoformat() if a.valid_from else None,
        "valid_to": a.valid_to.isoformat() if a.valid_to else None,
    }  # fmt: skip
    if body:
        out["body"] = a.body
    return out


@router.get("/kb/articles")
async def kb_articles(request: Request) -> list[dict[str, Any]]:
    return [article_dict(a, body=False) for a in _kb(request).articles()]


@router.get("/kb/articles/{article_id}")
async def kb_article(article_id: str, request: Request, version: int | None = None) -> dict:
    kb = _kb(request)
    out = article_dict(kb.article(article_id, version))
    out["versions"] = [v.version for v in kb.versions(article_id)]
    return out


@router.put("/kb/articles/{article_id}")
async def kb_edit(
    article_id: str,
    body: ArticleIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Save an edit as a new version (same content: no new version) and re-index it."""
    kb = _kb(request)
    try:
        old: Article | None = kb.article(article_id)
    except NotFoundError:
        old = None
    language = body.language or (old.language if old else None)
    if language is None:
        raise ValidationFailed("a new article needs a language (en or zh)")
    if body.valid_from and body.valid_to and body.valid_to < body.valid_from:
        raise ValidationFailed("valid_to is before valid_from")
    art = Article(
        id=article_id, title=body.title.strip(), body=body.body, language=language,
        tags=tuple(body.tags if body.tags is not None else (old.tags if old else ())),
        product=body.product if body.product is not None else (old.product if old else None),
        valid_from=body.valid_from, valid_to=body.valid_to, source=old.source if old else None,
    )  # fmt: skip

    def _save() -> tuple[Article, str]:
        new, status = kb.upsert(art)
        if status != "unchanged":
            kb.save()
        return new, status

    new, status = await asyncio.to_thread(_save)
    if status != "unchanged":
        with contextlib.suppress(Exception):  # the KB index is the truth; the mirror may lag
            await repo.save_article_version(session, article=new, edited_by=principal.username)
            await session.commit()
    out = article_dict(new)
    out["status"] = status
    out["versions"] = [v.version for v in kb.versions(article_id)]
    return out
