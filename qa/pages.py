"""The QA review page (``GET /qa``) and the calibration page (``GET /qa/calibration``).

Both use the page guard (cookie; no cookie → /login) and then check the role. The pages
are thin: qa.js reads and writes through the /api/v1/qa API with the same cookie, so the
page can do exactly what the API allows the user and nothing more.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.domain import Role
from web.routes import PageUser, render

REVIEWERS = frozenset({Role.QA_ANALYST, Role.SUPERVISOR})


def build_pages_router() -> APIRouter:
    router = APIRouter(tags=["pages"], include_in_schema=False)

    @router.get("/qa", response_class=HTMLResponse)
    async def qa_review(request: Request, user: PageUser, score: str | None = None) -> HTMLResponse:
        reviewer = user.has_any(REVIEWERS)
        if not reviewer and not user.has_any(frozenset({Role.AGENT})):
            resp = render(request, "qa.html", user=user, forbidden="QA review needs a QA role")
            resp.status_code = 403
            return resp
        return render(
            request,
            "qa.html",
            user=user,
            forbidden=None,
            reviewer=reviewer,
            analyst=user.has_any(frozenset({Role.QA_ANALYST})),
            selected=score or "",
        )

    @router.get("/qa/calibration", response_class=HTMLResponse)
    async def qa_calibration(
        request: Request, user: PageUser, session: str = "default"
    ) -> HTMLResponse:
        if not user.has_any(REVIEWERS):
            resp = render(
                request,
                "qa_calibration.html",
                user=user,
                forbidden="calibration needs the qa_analyst or supervisor role",
            )
            resp.status_code = 403
            return resp
        return render(
            request,
            "qa_calibration.html",
            user=user,
            forbidden=None,
            calibration=session,
            analyst=user.has_any(frozenset({Role.QA_ANALYST})),
        )

    return router
