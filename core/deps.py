"""FastAPI dependency aliases: the store, the bus, the caller and role guards.

Every API route declares the roles allowed with ``dependencies=[require_roles(...)]``; the
route-table test walks the app and fails on any route without such a guard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from core.auth import API_KEY_PREFIX, Principal, decode_token, verify_api_key
from core.bus.base import Bus
from core.clock import Clock
from core.domain import Role
from core.errors import AuthError, ForbiddenError
from core.settings import Settings
from core.store import Store


def get_settings(request: HTTPConnection) -> Settings:
    return request.app.state.settings


def get_store(request: HTTPConnection) -> Store:
    return request.app.state.store


def get_bus(request: HTTPConnection) -> Bus:
    return request.app.state.bus


async def get_session(store: Annotated[Store, Depends(get_store)]) -> Any:
    async with store.sessions() as session:
        yield session


def get_clock(request: HTTPConnection) -> Clock:
    return request.app.state.clock


ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
BusDep = Annotated[Bus, Depends(get_bus)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _credential(request: HTTPConnection, settings: Settings) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if key := request.headers.get("x-api-key"):
        return key.strip()
    if cookie := request.cookies.get(settings.auth.cookie_name):
        return cookie
    # Browsers cannot set headers on WebSocket upgrades: allow ?token= there only.
    if request.scope.get("type") == "websocket":
        return request.query_params.get("token")
    return None


async def current_principal(request: HTTPConnection, settings: SettingsDep) -> Principal:
    cred = _credential(request, settings)
    if not cred:
        raise AuthError("authentication required: log in or send a bearer token / API key")
    if cred.startswith(API_KEY_PREFIX):
        async with request.app.state.store.sessions() as session:
            return await verify_api_key(session, cred)
    return decode_token(
        cred,
        secret=settings.secret_key.get_secret_value(),
        algorithm=settings.auth.jwt_algorithm,
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role | str) -> Any:
    """Route guard: the caller must hold one of ``roles`` (admins pass every guard)."""
    wanted = frozenset(Role(r) for r in roles)

    async def guard(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(wanted):
            raise ForbiddenError(
                "this needs one of the roles: " + ", ".join(sorted(r.value for r in wanted))
            )
        return principal

    guard.__hotline_roles__ = wanted  # type: ignore[attr-defined]  # read by the route-table test
    return Depends(guard)


ANY_ROLE: tuple[Role, ...] = tuple(Role)


def roles_of(dependency: Callable[..., Any]) -> frozenset[Role] | None:
    return getattr(dependency, "__hotline_roles__", None)


def iter_routes(app: Any) -> Any:
    """Yield (full path, route) for every endpoint, through FastAPI's lazily included routers.

    HTTP contexts carry their full path; WebSocket contexts do not, so the include prefix is
    added from the including router's context.
    """
    for route in app.routes:
        if getattr(route, "effective_candidates", None) is None:
            yield getattr(route, "path", ""), route
            continue
        yield from _iter_included(route)


def _iter_included(included: Any) -> Any:
    prefix = getattr(included.include_context, "prefix", "") or ""
    for cand in included.effective_candidates():
        if getattr(cand, "effective_candidates", None) is not None:
            yield from _iter_included(cand)
        else:
            yield cand.path or prefix + cand.original_route.path, cand.original_route
