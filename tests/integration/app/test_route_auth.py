"""Walks the whole route table: no route is open by accident.

Every API route must carry a role guard (core.deps.require_roles) and every page the page
guard; the only open routes are the ones listed here. Then every guarded route is called
without credentials and must refuse.
"""

from __future__ import annotations

import re

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute

from core.deps import iter_routes, roles_of

OPEN = {
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/metrics"),
    ("POST", "/api/v1/auth/login"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    ("GET", "/openapi.json"),
    # Customer-facing: callers and chat users have no login (Rasa REST channel, call page).
    ("POST", "/webhooks/rest/webhook"),
    ("GET", "/webhooks/rest/poll"),
    ("GET", "/chat"),
    ("GET", "/call"),
    ("GET", "/call.js"),
    ("WS", "/api/v1/voice/browser"),
    ("WS", "/api/v1/voice/twilio"),
    # Carrier callback: authenticated by the X-Twilio-Signature HMAC, not a login.
    ("POST", "/api/v1/campaigns/dialer/twilio/status"),
}


def _guards(dep: Dependant) -> tuple[bool, bool]:
    has_role = roles_of(dep.call) is not None if dep.call else False
    has_page = bool(getattr(dep.call, "__hotline_page__", False))
    for sub in dep.dependencies:
        r, p = _guards(sub)
        has_role |= r
        has_page |= p
    return has_role, has_page


def _routes(app):  # type: ignore[no-untyped-def]
    for path, route in iter_routes(app):
        if isinstance(route, APIRoute | APIWebSocketRoute):
            methods = getattr(route, "methods", None) or {"WS"}
            for m in methods:
                yield m, path, route


async def test_every_route_is_guarded_or_deliberately_open(app_client) -> None:
    _client, app, _ = app_client
    unguarded = []
    for method, path, route in _routes(app):
        if (method, path) in OPEN or path.startswith("/static"):
            continue
        role, page = _guards(route.dependant)
        if not (role or page):
            unguarded.append(f"{method} {path}")
    assert unguarded == [], f"routes without a role guard: {unguarded}"


async def test_guarded_routes_refuse_anonymous_callers(app_client) -> None:
    client, app, _ = app_client
    checked = 0
    for method, path, _route in _routes(app):
        if (method, path) in OPEN or method in {"WS", "HEAD"}:
            continue
        r = await client.request(method, re.sub(r"{[^}]+}", "x", path))
        assert r.status_code in {401, 303}, f"{method} {path} answered {r.status_code}"
        checked += 1
    assert checked >= 5
