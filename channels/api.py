"""HTTP/websocket edge of the voice channels: the browser call page and the media sockets.

``build_router`` returns the websocket endpoints under ``/voice``; ``build_page_router``
serves the ``/call`` page and its script. Both take the composition root's ``voice_factory``
(runs one call) and optional route ``dependencies`` (auth guards wired by ``app.py``).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import structlog
from fastapi import APIRouter, WebSocket
from fastapi.params import Depends
from fastapi.responses import FileResponse, HTMLResponse

from channels.browser import BrowserWire
from channels.errors import ChannelError
from channels.media import Wire, WireInput, WireOutput
from channels.session import CallSession, VoiceFactory
from channels.twilio_stream import HandshakeSignature, TwilioWire

log = structlog.get_logger(__name__)
WEB_DIR = Path(__file__).resolve().parent.parent / "web"
LANGUAGES = {"en", "zh", "auto"}  # "auto": the bot detects the caller's language per turn


def _language(value: str | None) -> str:
    """The call language from ``?language=`` / Twilio's ``language`` parameter (else English)."""
    lang = (value or "en").split("-")[0].lower()
    return lang if lang in LANGUAGES else "en"


def _caller_number(params: dict[str, str]) -> dict[str, str]:
    number = params.get("from") or params.get("From") or params.get("caller") or ""
    return {"phone": number} if number else {}


def _bridged(ws: WebSocket, factory: VoiceFactory) -> VoiceFactory:
    """Route the call through the agent media bridge when the app has one (issue 7: the
    agent's softphone hears the caller and replaces the bot once the call is accepted)."""
    bridges = getattr(ws.app.state, "media_bridges", None)
    return bridges.wrap_factory(factory) if bridges is not None else factory


def build_router(
    *,
    voice_factory: VoiceFactory,
    dependencies: Sequence[Depends] = (),
    twilio_signature: HandshakeSignature | None = None,
    outbound_stream: Callable[[str, Wire], Awaitable[None]] | None = None,
) -> APIRouter:
    """Websocket endpoints: ``/voice/browser`` (PCM16) and ``/voice/twilio`` (Media Streams).

    ``twilio_signature`` (with a token) refuses unsigned Media Streams handshakes with
    close code 1008 before accepting them: a phone call costs money and carries a caller.
    ``outbound_stream(call_id, wire)`` takes the streams of our own campaign calls (their
    TwiML carries an ``attempt_id`` parameter) instead of the inbound bot."""
    router = APIRouter(prefix="/voice", tags=["voice"], dependencies=list(dependencies))

    @router.websocket("/browser")
    async def browser_call(ws: WebSocket, language: str = "en") -> None:
        await ws.accept()
        wire = BrowserWire(ws)
        session = CallSession(
            contact_id=uuid.uuid4().hex,
            channel="browser",
            input=WireInput(wire),
            output=WireOutput(wire),
            language=_language(language),
        )
        await wire.send_json({"type": "session", "contact_id": session.contact_id})
        try:
            await _bridged(ws, voice_factory)(session)
        finally:
            await wire.close()

    @router.websocket("/twilio")
    async def twilio_call(ws: WebSocket) -> None:
        if twilio_signature and not twilio_signature.allows(
            str(ws.url), ws.headers.get("x-twilio-signature")
        ):
            log.warning("twilio_stream_refused", reason="bad or missing X-Twilio-Signature")
            await ws.close(code=1008)
            return
        await ws.accept()
        try:
            wire = await TwilioWire.accept(ws)
        except ChannelError:
            await ws.close(code=1003)
            return
        if wire is None:
            return
        params = wire.start.custom_parameters
        if params.get("attempt_id") and outbound_stream is not None:
            try:  # a campaign call we placed: its script talks, not the inbound bot
                await outbound_stream(wire.start.call_sid or params["attempt_id"], wire)
            finally:
                await wire.close()
            return
        session = CallSession(
            contact_id=uuid.uuid4().hex,
            channel="twilio",
            input=WireInput(wire),
            output=WireOutput(wire),
            language=_language(params.get("language")),
            metadata={
                "stream_sid": wire.stream_sid,
                "call_sid": wire.start.call_sid or "",
                # the caller's number, when the TwiML passes it: <Parameter name="from" …>
                **_caller_number(params),
            },
        )
        try:
            await _bridged(ws, voice_factory)(session)
        finally:
            await wire.close()

    return router


def build_page_router(
    *, ws_path: str = "/voice/browser", dependencies: Sequence[Depends] = ()
) -> APIRouter:
    """The browser call page (``GET /call``) and its script (``GET /call.js``).

    ``ws_path`` is where ``build_router``'s ``/voice/browser`` ends up once mounted (e.g.
    ``/api/v1/voice/browser``); the page connects there.
    """
    router = APIRouter(tags=["voice"], dependencies=list(dependencies))
    page = (WEB_DIR / "templates" / "call.html").read_text(encoding="utf-8")
    page = page.replace("{{ ws_path }}", html.escape(ws_path, quote=True))

    @router.get("/call", include_in_schema=False)
    async def call_page() -> HTMLResponse:
        return HTMLResponse(page)

    @router.get("/call.js", include_in_schema=False)
    async def call_script() -> FileResponse:
        return FileResponse(WEB_DIR / "static" / "call.js", media_type="text/javascript")

    return router
