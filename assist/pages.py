"""Assist pages: the standalone sidebar for one contact and the knowledge-base editor.

``GET /assist/{contact_id}`` shows the live sidebar (web/static/assist-sidebar.js) and the
customer card; ``GET /kb`` lists and searches articles, ``GET /kb/{id}`` shows one with its
versions and an edit form that saves a new version through ``PUT /api/v1/assist/kb/...``.
Pages need a logged-in agent or supervisor (admins pass); others see "not available".
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.domain import Role
from core.errors import FeatureDisabled, NotFoundError
from web.routes import PageUser, render

STAFF = frozenset({Role.AGENT, Role.SUPERVISOR})


def build_pages_router() -> APIRouter:
    router = APIRouter(tags=["pages"], include_in_schema=False)

    @router.get("/assist/{contact_id}", response_class=HTMLResponse)
    async def assist_page(request: Request, contact_id: str, user: PageUser) -> HTMLResponse:
        forbidden = None if user.has_any(STAFF) else "Live assist is for agents and supervisors."
        return render(request, "assist.html", user=user, contact_id=contact_id, forbidden=forbidden)

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
