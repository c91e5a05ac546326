"""The agent desktop (``GET /agent``) and the supervisor live view (``GET /supervisor``).

Both pages use the page guard (cookie; a visitor without one is sent to /login) and then
check the role: an agent without the supervisor role gets a 403 page, not the view.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from core.auth import Principal
from core.domain import Role
from web.routes import PageUser, render


def _has(user: Principal, *roles: Role) -> bool:
    return user.has_any(frozenset(roles))


def _forbidden(request: Request, user: Principal, template: str, what: str) -> HTMLResponse:
    resp = render(request, template, user=user, forbidden=what)
    resp.status_code = 403
    return resp


def build_pages_router() -> APIRouter:
    router = APIRouter(tags=["pages"], include_in_schema=False)

    @router.get("/agent", response_class=HTMLResponse)
    async def agent_desktop(request: Request, user: PageUser) -> HTMLResponse:
        if not _has(user, Role.AGENT):
            return _forbidden(request, user, "agent.html", "the agent desktop needs the agent role")
        routing = request.app.state.routing
        return render(
            request,
            "agent.html",
            user=user,
            agent_id=user.username,
            is_agent=user.username in routing.agents,
            dispositions=sorted(routing.policy.dispositions),
            queues=sorted(routing.queues),
        )

    @router.get("/supervisor", response_class=HTMLResponse)
    async def supervisor_view(request: Request, user: PageUser) -> HTMLResponse:
        if not _has(user, Role.SUPERVISOR):
            return _forbidden(
                request, user, "supervisor.html", "the supervisor view needs the supervisor role"
            )
        live = request.app.state.live
        return render(request, "supervisor.html", user=user, rules=live.rules)

    return router
