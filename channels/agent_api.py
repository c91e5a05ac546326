"""WebSocket edge of the agent softphone and of supervisor listen / whisper / barge.

``build_agent_media_router`` returns two sockets (mount at the root):

* ``/agent-media/{contact_id}`` (role agent) — the handling agent (or a conferenced or
  consulted one) joins the call's media;
* ``/supervisor-media/{contact_id}?mode=listen|whisper|barge`` (role supervisor).

Protocol (like ``/voice/browser``): the server first sends text
``{"type": "media", "contact_id", "sample_rate_hz": 16000}`` then binary PCM16 16 kHz
(what this leg hears); the browser may send ``{"type": "start", "sample_rate_hz": N}`` and
then binary PCM16 at N Hz (its microphone), and ``{"type": "mode", "mode": …}`` (supervisor).
Refusals close the socket with a reason: 4403 (not on this contact), 4404 (no live voice
media: a chat, or the call ended), 4400 (bad mode or sample rate).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from channels.agent_bridge import RATE_HZ, ContactMedia, MediaBridges
from channels.browser import MAX_RATE_HZ, MIN_RATE_HZ
from channels.media import Resampler
from core.auth import Principal

MayJoin = Callable[[str, str], bool]  # (username, contact_id) -> allowed
MODES = ("listen", "whisper", "barge")


def build_agent_media_router(
    *,
    bridges: MediaBridges,
    may_join: MayJoin,
    agent_guard: Any,
    supervisor_guard: Any,
) -> APIRouter:
    """Agent and supervisor media sockets.

    ``may_join(user, contact_id)`` says whether a user is on a contact
    (``CallControl.participant`` in the app). The guards are WebSocket role guards that
    resolve to the caller's ``Principal`` (``routing.api.ws_require_roles(Role.AGENT)`` /
    ``(Role.SUPERVISOR)``; passed in because features do not import each other).
    """
    router = APIRouter(tags=["agent-media"])

    @router.websocket("/agent-media/{contact_id}")
    async def agent_media(
        websocket: WebSocket,
        contact_id: str,
        principal: Principal = agent_guard,
    ) -> None:
        user = principal.username
        if not may_join(user, contact_id):
            await refuse(websocket, 4403, f"{user} is not on contact {contact_id}")
            return
        media = bridges.get(contact_id)
        if media is None:
            await refuse(websocket, 4404, f"no live voice media for {contact_id}")
            return
        await _run_leg(websocket, media, user, "agent", "talk")

    @router.websocket("/supervisor-media/{contact_id}")
    async def supervisor_media(
        websocket: WebSocket,
        contact_id: str,
        principal: Principal = supervisor_guard,
        mode: str = "listen",
    ) -> None:
        if mode not in MODES:
            await refuse(websocket, 4400, f"mode must be one of {', '.join(MODES)}")
            return
        media = bridges.get(contact_id)
        if media is None:
            await refuse(websocket, 4404, f"no live voice media for {contact_id}")
            return
        await _run_leg(websocket, media, principal.username, "supervisor", mode)

    return router


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with a code and a reason the page can show (a close before
    accept would reach the browser as a bare HTTP 403)."""
    await websocket.accept()
    await websocket.close(code=code, reason=reason)


async def _run_leg(
    websocket: WebSocket, media: ContactMedia, user: str, role: str, mode: str
) -> None:
    await websocket.accept()
    await websocket.send_text(
        json.dumps({"type": "media", "contact_id": media.contact_id, "sample_rate_hz": RATE_HZ})
    )
    leg = media.join(user, role, websocket.send_bytes, mode=mode)
    resample = Resampler(RATE_HZ, RATE_HZ)
    try:
        while True:
            msg = await websocket.receive()
            if msg["type"] == "websocket.disconnect":
                break
            if msg.get("bytes") is not None:
                pcm = resample(msg["bytes"][: len(msg["bytes"]) // 2 * 2])
                if not pcm:
                    continue
                if role == "agent":
                    media.from_agent(user, pcm)
                else:
                    media.from_supervisor(user, pcm)
                continue
            try:
                ctl = json.loads(msg.get("text") or "{}")
            except ValueError:
                continue
            if ctl.get("type") == "start":
                rate = ctl.get("sample_rate_hz")
                if not isinstance(rate, int) or not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
                    await websocket.close(code=4400, reason=f"sample rate {rate!r} not allowed")
                    break
                resample = Resampler(rate, RATE_HZ)
            elif ctl.get("type") == "mode" and role == "supervisor":
                if ctl.get("mode") in MODES:
                    leg.mode = ctl["mode"]
            elif ctl.get("type") == "stop":
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if media.legs.get(user) is leg:
            media.leave(user)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()
