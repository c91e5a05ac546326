"""Page routes: login/logout and the landing page linking to every area.

Pages authenticate with the same JWT as the API, carried in an HttpOnly cookie; a page
without a valid cookie redirects to /login.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from core.auth import Principal, authenticate, decode_token, issue_token
from core.deps import iter_routes
from core.errors import AuthError

WEB_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))

# Every area's page; the landing page shows which exist in this build.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("/call", "Call the voice bot", "Talk to the Demo Bank voice bot from your browser."),
    ("/chat", "Web chat", "The embeddable chat widget talking to the same bot."),
    ("/agent", "Agent desktop", "Take contacts, see the customer card and live assist."),
    ("/supervisor", "Supervisor live view", "Queues, agents, alerts, listen/whisper/barge."),
    ("/assist/help-requests", "Help requests", "Agents asking for a supervisor, live."),
    ("/kb", "Knowledge base", "Articles the bot and live assist answer from; edit, versioned."),
    ("/qa", "QA review", "Every contact auto-scored with evidence; override and calibrate."),
    ("/campaigns", "Campaigns", "Outbound bot campaigns: lists, windows, pacing, outcomes."),
    ("/reports", "Reports", "KPIs, dashboards and forecasts."),
    ("/admin", "Admin", "Users, roles, skills, queues, flows, scorecards."),
    ("/docs", "API", "OpenAPI documentation of /api/v1."),
)


def page_principal(request: Request) -> Principal:
    """Page guard: the logged-in user from the cookie, or a redirect to /login."""
    settings = request.app.state.settings
    token = request.cookies.get(settings.auth.cookie_name)
    if token:
        try:
            return decode_token(
                token,
                secret=settings.secret_key.get_secret_value(),
                algorithm=settings.auth.jwt_algorithm,
            )
        except AuthError:
            pass
    raise HTTPException(303, headers={"Location": f"/login?next={request.url.path}"})


page_principal.__hotline_page__ = True  # type: ignore[attr-defined]  # read by the route-table test
PageUser = Annotated[Principal, Depends(page_principal)]


def render(request: Request, name: str, **ctx: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, ctx)


def build_pages_router() -> APIRouter:
    router = APIRouter(tags=["pages"], include_in_schema=False)

    @router.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return render(request, "login.html", next=_safe_next(next), error=None)

    @router.post("/login", response_model=None)
    async def login_submit(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/",
    ) -> HTMLResponse | RedirectResponse:
        state = request.app.state
        settings = state.settings
        try:
            async with state.store.sessions() as session:
                user = await authenticate(session, username, password)
        except AuthError as e:
            return HTMLResponse(
                templates.get_template("login.html").render(
                    request=request, next=_safe_next(next), error=e.message
                ),
                status_code=401,
            )
        ttl = timedelta(minutes=settings.auth.token_ttl_min)
        token = issue_token(
            user,
            secret=settings.secret_key.get_secret_value(),
            algorithm=settings.auth.jwt_algorithm,
            ttl=ttl,
            now=state.clock.now(),
        )
        resp = RedirectResponse(_safe_next(next), status_code=303)
        resp.set_cookie(
            settings.auth.cookie_name,
            token,
            httponly=True,
            samesite="strict",
            secure=settings.env == "prod",
            max_age=int(ttl.total_seconds()),
        )
        return resp

    @router.post("/logout")
    async def logout(request: Request) -> RedirectResponse:
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(request.app.state.settings.auth.cookie_name)
        return resp

    @router.get("/", response_class=HTMLResponse)
    async def landing(request: Request, user: PageUser) -> HTMLResponse:
        paths = {path for path, _route in iter_routes(request.app)}
        pages = [
            {"path": p, "title": t, "description": d, "available": p in paths} for p, t, d in PAGES
        ]
        return render(request, "index.html", user=user, pages=pages)

    return router


def mount_static(app: Any) -> None:
    app.mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static")


def _safe_next(target: str) -> str:
    """Only same-site relative paths: no open redirect through ?next=."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
