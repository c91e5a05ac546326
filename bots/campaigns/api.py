"""HTTP edge of outbound campaigns (campaign_manager role): CRUD, list upload, preview,
launch/pause/resume/stop, live stats, CSV export, DNC, the test-phone socket and pages.

``build_router(runtime)`` → ``/campaigns/...`` (include under ``/api/v1``);
``build_webhook_router(runtime)`` → the Twilio status callback (signature-checked, no login:
the carrier cannot log in); ``build_page_router()`` → ``/campaigns`` and
``/campaigns/test-phone`` pages.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Request,
    UploadFile,
    WebSocket,
    WebSocketException,
)
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from starlette.websockets import WebSocketDisconnect

from bots.campaigns import repo
from bots.campaigns.config import PacingMode, parse_config
from bots.campaigns.contact_lists import normalise_phone, parse_contact_list
from bots.campaigns.dnc import add_dnc, remove_dnc
from bots.campaigns.errors import CampaignConfigError, CampaignStateError
from bots.campaigns.runtime import CampaignRuntime
from bots.campaigns.schemas import (
    CampaignCreate,
    CampaignList,
    CampaignPublic,
    CampaignUpdate,
    ContactList,
    ContactPublic,
    DncCreate,
    TemplatePublic,
    UploadResult,
)
from bots.campaigns.scripts import list_templates, load_template, parse_script, render_script
from bots.dialer.twilio_rest import TwilioRestDialer
from core.auth import API_KEY_PREFIX, Principal, decode_token, verify_api_key
from core.deps import ClockDep, CurrentPrincipal, SessionDep, require_roles
from core.domain import Role
from core.errors import AuthError, ValidationFailed
from core.store.tables.campaigns import CampaignContactRow, CampaignRow, DncEntryRow
from web.routes import PageUser, render

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
SAMPLE_CONTACT = {
    "name": "Alex Sample",
    "amount": "$120.00",
    "due_date": "2026-02-01",
    "contact_date": "2026-01-02",
}


def websocket_roles(*roles: Role) -> Any:
    """Role guard for websocket routes (``require_roles`` reads a ``Request``, which a
    websocket scope does not provide): cookie, ``?token=`` or ``?api_key=``."""
    wanted = frozenset(roles)

    async def guard(websocket: WebSocket) -> Principal:
        settings = websocket.app.state.settings
        cred = (
            websocket.cookies.get(settings.auth.cookie_name)
            or websocket.query_params.get("token")
            or websocket.query_params.get("api_key")
        )
        if not cred:
            raise WebSocketException(code=1008, reason="authentication required")
        try:
            if cred.startswith(API_KEY_PREFIX):
                async with websocket.app.state.store.sessions() as session:
                    principal = await verify_api_key(session, cred)
            else:
                principal = decode_token(
                    cred,
                    secret=settings.secret_key.get_secret_value(),
                    algorithm=settings.auth.jwt_algorithm,
                )
        except AuthError as e:
            raise WebSocketException(code=1008, reason=e.message) from e
        if not principal.has_any(wanted):
            raise WebSocketException(code=1008, reason="forbidden")
        return principal

    guard.__hotline_roles__ = wanted  # type: ignore[attr-defined]  # read by the route-table test
    return Depends(guard)


def build_router(runtime: CampaignRuntime) -> APIRouter:
    """All campaign API routes, every one guarded for the campaign_manager role."""
    outer = APIRouter()
    router = APIRouter(
        prefix="/campaigns",
        tags=["campaigns"],
        dependencies=[require_roles(Role.CAMPAIGN_MANAGER)],
    )

    @router.get("/templates")
    async def templates() -> list[TemplatePublic]:
        """The demo campaigns shipped as YAML (payment reminder EN/ZH, CSAT survey)."""
        return [
            TemplatePublic(
                name=t.name,
                title=t.title,
                language=t.language,
                script=t.script.model_dump(mode="json"),
                settings=t.settings,
            )
            for t in list_templates()
        ]

    @router.post("", status_code=201)
    async def create(
        body: CampaignCreate, session: SessionDep, clock: ClockDep, who: CurrentPrincipal
    ) -> CampaignPublic:
        script, settings, language = body.script, body.settings, body.language
        if body.template:
            tpl = load_template(body.template)
            script = script or tpl.script.model_dump(mode="json")
            settings = {**tpl.settings, **(settings or {})}
            language = language or tpl.language
        if script is None:
            raise ValidationFailed("give a template or a script")
        parse_script(script, where=f"campaign {body.name!r}")
        row = await repo.create_campaign(
            session,
            name=body.name,
            script=script,
            settings=settings or {},
            language=language or "en",
            template=body.template,
            created_by=who.username,
            now=clock.now(),
        )
        await session.commit()
        return CampaignPublic.model_validate(row)

    @router.get("")
    async def list_campaigns(session: SessionDep) -> CampaignList:
        rows = (
            await session.scalars(select(CampaignRow).order_by(CampaignRow.created_at.desc()))
        ).all()
        return CampaignList(data=[CampaignPublic.model_validate(r) for r in rows], count=len(rows))

    @router.get("/dnc")
    async def list_dnc(session: SessionDep, campaign_id: str | None = None) -> list[dict]:
        q = select(DncEntryRow).order_by(DncEntryRow.created_at.desc()).limit(1000)
        if campaign_id:
            q = q.where(DncEntryRow.campaign_id == campaign_id)
        return [
            {
                "phone": r.phone_e164,
                "campaign_id": r.campaign_id,
                "reason": r.reason,
                "source": r.source,
                "created_at": r.created_at.isoformat(),
            }
            for r in (await session.scalars(q)).all()
        ]

    @router.post("/dnc", status_code=201)
    async def add_to_dnc(body: DncCreate, session: SessionDep, clock: ClockDep) -> dict:
        e164, _, problem = normalise_phone(body.phone, default_region="US")
        if e164 is None:
            raise ValidationFailed(f"{body.phone!r}: {problem}")
        added = await add_dnc(
            session,
            phone_e164=e164,
            campaign_id=body.campaign_id,
            reason=body.reason,
            source="manager",
            now=clock.now(),
        )
        await session.commit()
        return {"phone": e164, "added": added}

    @router.delete("/dnc/{phone}")
    async def delete_from_dnc(
        phone: str, session: SessionDep, campaign_id: str | None = None
    ) -> dict:
        n = await remove_dnc(session, phone_e164=phone, campaign_id=campaign_id)
        await session.commit()
        return {"removed": n}

    @router.get("/phones")
    async def phones() -> dict:
        """Numbers of the browser test phones that are open right now."""
        return {"numbers": runtime.phones.numbers if runtime.phones else []}

    @router.get("/{campaign_id}")
    async def get(campaign_id: str, session: SessionDep) -> CampaignPublic:
        return CampaignPublic.model_validate(await repo.get_campaign(session, campaign_id))

    @router.patch("/{campaign_id}")
    async def patch(
        campaign_id: str, body: CampaignUpdate, session: SessionDep, clock: ClockDep
    ) -> CampaignPublic:
        row = await repo.get_campaign(session, campaign_id)
        if row.status not in {"draft", "paused"}:
            raise CampaignStateError(f"a {row.status} campaign cannot be edited; pause it first")
        if body.settings is not None:
            parse_config(body.settings, where=f"campaign {row.name!r}")
            row.settings = body.settings
        if body.script is not None:
            parse_script(body.script)
            row.script = body.script
        if body.name is not None:
            row.name = body.name
        row.updated_at = clock.now()
        row.version += 1
        await session.commit()
        return CampaignPublic.model_validate(row)

    @router.delete("/{campaign_id}", status_code=204)
    async def delete(campaign_id: str, session: SessionDep) -> Response:
        row = await repo.get_campaign(session, campaign_id)
        if row.status in {"running", "paused"}:
            raise CampaignStateError("stop the campaign before deleting it")
        await session.delete(row)
        await session.commit()
        return Response(status_code=204)

    @router.post("/{campaign_id}/contacts")
    async def upload(
        campaign_id: str,
        session: SessionDep,
        clock: ClockDep,
        file: Annotated[UploadFile, File()],
        mapping: Annotated[str, Form()] = "{}",
    ) -> UploadResult:
        """Upload a CSV/XLSX list; bad rows come back as per-row errors, the rest load."""
        row = await repo.get_campaign(session, campaign_id)
        if row.status in {"stopped", "completed"}:
            raise CampaignStateError(f"cannot add contacts to a {row.status} campaign")
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ValidationFailed("the list is larger than 20 MB; split it")
        try:
            cols = json.loads(mapping or "{}")
        except ValueError as e:
            raise ValidationFailed(f"mapping is not JSON: {e}") from e
        cfg = parse_config(row.settings)
        parsed = parse_contact_list(
            data,
            filename=file.filename or "upload.csv",
            mapping=cols,
            default_region=cfg.default_region,
            default_time_zone=cfg.default_time_zone,
            existing=await repo.existing_numbers(session, campaign_id=campaign_id),
        )
        added = await repo.add_contacts(
            session, campaign_id=campaign_id, contacts=parsed.contacts, now=clock.now()
        )
        await session.commit()
        return UploadResult(
            added=added,
            total_rows=parsed.total_rows,
            encoding=parsed.encoding,
            mapping=parsed.mapping,
            errors=[e.__dict__ for e in parsed.errors],
        )

    @router.get("/{campaign_id}/contacts")
    async def contacts(
        campaign_id: str, session: SessionDep, limit: int = 100, offset: int = 0
    ) -> ContactList:
        c = CampaignContactRow
        total = await session.scalar(
            select(func.count()).select_from(c).where(c.campaign_id == campaign_id)
        )
        rows = (
            await session.scalars(
                select(c)
                .where(c.campaign_id == campaign_id)
                .order_by(c.row_number)
                .limit(max(1, min(limit, 1000)))
                .offset(max(0, offset))
            )
        ).all()
        return ContactList(data=[ContactPublic.model_validate(r) for r in rows], count=total or 0)

    @router.get("/{campaign_id}/preview")
    async def preview(
        campaign_id: str, session: SessionDep, contact_id: str | None = None
    ) -> dict[str, Any]:
        """The script as one contact will hear it (the first contact, or a sample one)."""
        row = await repo.get_campaign(session, campaign_id)
        q = select(CampaignContactRow).where(CampaignContactRow.campaign_id == campaign_id)
        if contact_id:
            q = q.where(CampaignContactRow.id == contact_id)
        contact = (
            await session.scalars(q.order_by(CampaignContactRow.row_number).limit(1))
        ).first()
        variables = {"name": contact.name, **contact.variables} if contact else dict(SAMPLE_CONTACT)
        return {
            "contact": {"id": contact.id, "phone": contact.phone_e164} if contact else None,
            "variables": variables,
            **render_script(parse_script(row.script), variables),
        }

    @router.post("/{campaign_id}/dial-next")
    async def dial_next(campaign_id: str, session: SessionDep) -> dict:
        """Preview pacing: the manager dials the next due contact."""
        row = await repo.get_campaign(session, campaign_id)
        if row.status != "running":
            raise CampaignStateError("launch the campaign first")
        if parse_config(row.settings).pacing.mode is not PacingMode.PREVIEW:
            raise CampaignConfigError("dial-next is for preview pacing")
        return {"dialed": await runtime.scheduler.dial_next(campaign_id)}

    @router.post("/{campaign_id}/{action}")
    async def control(
        campaign_id: str, action: str, session: SessionDep, clock: ClockDep
    ) -> CampaignPublic:
        """launch | pause | resume | stop (compare-and-set on the status)."""
        if action not in repo.TRANSITIONS:
            raise HTTPException(404, detail={"code": "not_found", "message": "no such action"})
        row = await repo.transition(
            session, campaign_id=campaign_id, action=action, now=clock.now()
        )
        await session.commit()
        return CampaignPublic.model_validate(row)

    @router.get("/{campaign_id}/stats")
    async def stats(campaign_id: str, session: SessionDep, clock: ClockDep) -> dict:
        row = await repo.get_campaign(session, campaign_id)
        return {
            "status": row.status,
            **await repo.stats(session, campaign_id=campaign_id, now=clock.now()),
        }

    @router.get("/{campaign_id}/export.csv")
    async def export(campaign_id: str, session: SessionDep) -> Response:
        row = await repo.get_campaign(session, campaign_id)
        rows = await repo.export_rows(session, campaign_id=campaign_id)
        buf = io.StringIO()
        fields = list(dict.fromkeys(k for r in rows for k in r)) or ["phone"]
        w = csv.DictWriter(buf, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
        name = "".join(ch if ch.isalnum() else "_" for ch in row.name)[:40] or "campaign"
        return Response(
            "\ufeff" + buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )

    @outer.websocket("/campaigns/phone/ws", dependencies=[websocket_roles(Role.CAMPAIGN_MANAGER)])
    async def phone_socket(ws: WebSocket, number: str) -> None:
        """The browser test phone: register ``number``, receive rings, answer, send keys."""
        hub = runtime.phones
        e164, _, _ = normalise_phone(number, default_region="US")
        await ws.accept()
        if hub is None or e164 is None:
            await ws.send_json({"type": "error", "message": "test phone unavailable or bad number"})
            await ws.close(code=1008)
            return

        async def send(msg: dict[str, Any]) -> None:
            await ws.send_json(msg)

        hub.register(e164, send)
        await ws.send_json({"type": "registered", "number": e164})
        try:
            while True:
                await hub.on_message(e164, await ws.receive_json())
        except (WebSocketDisconnect, ValueError):
            pass
        finally:
            hub.unregister(e164, send)

    outer.include_router(router)
    return outer


def build_webhook_router(runtime: CampaignRuntime) -> APIRouter:
    """``POST /campaigns/dialer/twilio/status``: open (carriers cannot log in) but every
    request must carry a valid ``X-Twilio-Signature``. The lead lists it in the route test's
    OPEN set."""
    router = APIRouter(prefix="/campaigns/dialer", tags=["campaigns"])

    @router.post("/twilio/status", status_code=204)
    async def twilio_status(request: Request) -> Response:
        dialer = runtime.dialer
        if not isinstance(dialer, TwilioRestDialer):
            raise HTTPException(404, detail={"code": "not_found", "message": "no twilio dialer"})
        form = {k: str(v) for k, v in (await request.form()).items()}
        base = (runtime.settings.public_base_url if runtime.settings else "").rstrip("/")
        url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not dialer.verify(url, form, request.headers.get("x-twilio-signature")):
            raise HTTPException(403, detail={"code": "forbidden", "message": "bad signature"})
        await dialer.handle_callback(form, attempt_id=request.query_params.get("attempt"))
        return Response(status_code=204)

    return router


def build_page_router() -> APIRouter:
    """The campaign page and the browser test phone (logged-in users; the API checks roles)."""
    router = APIRouter(tags=["pages"], include_in_schema=False)

    @router.get("/campaigns", response_class=HTMLResponse)
    async def campaigns_page(request: Request, user: PageUser) -> HTMLResponse:
        return render(request, "campaigns.html", user=user)

    @router.get("/campaigns/test-phone", response_class=HTMLResponse)
    async def test_phone_page(request: Request, user: PageUser) -> HTMLResponse:
        return render(request, "test_phone.html", user=user)

    return router
