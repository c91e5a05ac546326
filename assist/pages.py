"""Assist pages: the standalone sidebar for one contact, supervisors' help requests, the KB.

``GET /assist/{contact_id}`` shows the live sidebar (web/static/assist-sidebar.js) and the
customer card, plus this package's sidebar parts (``/assist/ui/*.js``): the "ask a
supervisor" status, the customer's open tickets and the wrap-up's follow-up ticket.
``GET /assist/help-requests`` is the supervisors' live list of help requests (acknowledge,
join). ``GET /kb`` lists and searches articles, ``GET /kb/{id}`` shows one with its
versions and an edit form that saves a new version through ``PUT /api/v1/assist/kb/...``.
Pages need a logged-in agent or supervisor (admins pass); others see "not available".
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from core.deps import require_roles
from core.domain import Role
from core.errors import FeatureDisabled, NotFoundError
from web.routes import WEB_DIR, PageUser, page_principal, render

STAFF = frozenset({Role.AGENT, Role.SUPERVISOR})
HERE = Path(__file__).parent
# this package's templates first, the site's (base.html) behind them
_templates = Jinja2Templates(
    env=Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(HERE / "templates"), FileSystemLoader(WEB_DIR / "templates")]
        ),
        autoescape=select_autoescape(["html"]),
    )
)
UI_SCRIPTS = frozenset({"help-requests.js", "tickets.js"})


def build_pages_router() -> APIRouter:
    router = APIRouter(tags=["pages"], include_in_schema=False)

    @router.get(
        "/assist/help-requests",
        response_class=HTMLResponse,
        # the page guard first (anonymous → /login), then supervisors only
        dependencies=[Depends(page_principal), require_roles(Role.SUPERVISOR)],
    )
    async def help_requests_page(request: Request, user: PageUser) -> HTMLResponse:
        return _templates.TemplateResponse(request, "help_requests.html", {"user": user})

    @router.get("/assist/ui/{name}")
    async def assist_ui_script(name: str, user: PageUser) -> FileResponse:
        if name not in UI_SCRIPTS:
            raise NotFoundError(f"no assist script {name!r}")
        return FileResponse(HERE / "static" / name, media_type="text/javascript")

    @router.get("/assist/{contact_id}", response_class=HTMLResponse)
    async def assist_page(request: Request, contact_id: str, user: PageUser) -> HTMLResponse:
        forbidden = None if user.has_any(STAFF) else "Live assist is for agents and supervisors."
        return _templates.TemplateResponse(
            request,
            "assist_contact.html",
            {"user": user, "contact_id": contact_id, "forbidden": forbidden},
        )

    @router.get("/kb", response_class=HTMLResponse)
    async def kb_page(request: Request, user: PageUser, q: str = "") -> HTMLResponse:
        return await _kb(request, user, q=q, article_id=None, version=None)

    @router.get("/kb/{article_id}", response_class=HTMLResponse)
    async def kb_article_page(
        request: Request, article_id: str, user: PageUser, version: int | None = None
    ) -> HTMLResponse:
        return await _kb(request, user, q="", article_id=article_id, version=version)

    return router


async def _kb(
    request: Request, user: object, *, q: str, article_id: str | None, version: int | None
) -> HTMLResponse:
    ctx: dict[str, object] = {"user": user, "q": q, "articles": [], "hits": [], "article": None,
                              "versions": [], "error": None, "forbidden": None}  # fmt: skip
    if not user.has_any(STAFF):  # type: ignore[attr-defined]
        ctx["forbidden"] = "The knowledge base editor is for agents and supervisors."
        return render(request, "kb.html", **ctx)
    kb = request.app.state.kb
    try:
        ctx["articles"] = kb.articles()
        if q.strip():
            ctx["hits"] = await asyncio.to_thread(kb.search, q[:500], k=5)
        if article_id is not None:
            ctx["article"] = kb.article(article_id, version)
            ctx["versions"] = kb.versions(article_id)
    except FeatureDisabled as e:
        ctx["error"] = e.message
    except NotFoundError as e:
        return render(request, "kb.html", **{**ctx, "error": e.message})
    return render(request, "kb.html", **ctx)
