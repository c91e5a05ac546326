"""Twilio-compatible Media Streams wire: a bidirectional ``<Stream>`` websocket, 8 kHz μ-law.

The handshake (``connected`` then ``start``) is read before the call starts, so the stream
sid and the custom parameters (``language``) are known to the bot. Bot audio goes out as
20 ms ``media`` messages; barge-in sends ``clear``; ``stop`` or a dropped socket hangs up.
Malformed messages mid-call are counted and skipped (a phone call should not die on one
bad packet); a wrong codec at ``start`` refuses the call.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from channels import twilio_serializer as tw
from channels.errors import WireFormatError
from channels.media import AudioIn
from core.twilio_signature import valid

FRAME_BYTES_8K = 320  # 20 ms of PCM16 at 8 kHz
MAX_BAD_MESSAGES = 50


@dataclass(frozen=True)
class HandshakeSignature:
    """Refuses Media Streams handshakes not signed by our Twilio account.

    Twilio signs the websocket URL it dialed (from the TwiML ``<Stream url>``); behind a TLS
    proxy we see ``ws://`` and maybe another host, so the URL is tried as seen, as ``wss://``
    and on ``public_ws_url``. Without a token every handshake is accepted (the demo)."""

    auth_token: str
    public_ws_url: str = ""

    def urls(self, seen: str) -> list[str]:
        parts = urlsplit(seen)
        out = [seen, urlunsplit(parts._replace(scheme="wss"))]
        if self.public_ws_url:
            base = urlsplit(self.public_ws_url)
            out.append(urlunsplit(parts._replace(scheme=base.scheme, netloc=base.netloc)))
        return out

    def allows(self, seen_url: str, given: str | None) -> bool:
        return not self.auth_token or valid(self.auth_token, self.urls(seen_url), given)


class TwilioWire:
    """``channels.media.Wire`` for one Twilio Media Stream."""

    out_rate_hz = tw.TWILIO_RATE_HZ

    def __init__(self, ws: WebSocket, start: tw.Start) -> None:
        self.ws = ws
        self.start = start
        self.stream_sid = start.stream_sid
        self.bad_messages = 0
        self.marks: list[str] = []
        self.dtmf: asyncio.Queue[str] = asyncio.Queue()  # keypad digits, for campaign scripts
        self._out = bytearray()
        self._closed = False

    @classmethod
    async def accept(cls, ws: WebSocket) -> TwilioWire | None:
        """Read ``connected``/``start``; None if the socket closed first."""
        while True:
            try:
                text = await ws.receive_text()
            except (WebSocketDisconnect, RuntimeError, KeyError):
                return None
            msg = tw.parse_message(text)
            if isinstance(msg, tw.Start):
                return cls(ws, msg)
            if isinstance(msg, tw.Stop):
                return None

    async def receive(self) -> AudioIn | None:
        while True:
            try:
                msg = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                return None
            if msg["type"] == "websocket.disconnect":
                return None
            raw = msg.get("text") if msg.get("text") is not None else msg.get("bytes")
            try:
                parsed = tw.parse_message(raw or b"")
            except WireFormatError:
                self.bad_messages += 1
                if self.bad_messages > MAX_BAD_MESSAGES:
                    raise
                continue
            if isinstance(parsed, tw.Media) and parsed.track in ("inbound", "inbound_track"):
                return AudioIn(parsed.pcm16, tw.TWILIO_RATE_HZ)
            if isinstance(parsed, tw.Stop):
                return None
            if isinstance(parsed, tw.Mark):
                self.marks.append(parsed.name)
            if isinstance(parsed, tw.Dtmf) and parsed.digit:
                self.dtmf.put_nowait(parsed.digit)

    def _open(self) -> bool:
        return not self._closed and self.ws.application_state == WebSocketState.CONNECTED

    async def send_audio(self, pcm16: bytes) -> None:
        self._out += pcm16
        while len(self._out) >= FRAME_BYTES_8K:
            frame = bytes(self._out[:FRAME_BYTES_8K])
            del self._out[:FRAME_BYTES_8K]
            if self._open():
                await self._send(self.ws.send_text, tw.encode_media(self.stream_sid, frame))

    async def clear(self) -> None:
        self._out.clear()
        if self._open():
            await self._send(self.ws.send_text, tw.encode_clear(self.stream_sid))

    async def send_text(self, kind: str, text: str) -> None:
        """Twilio has no text channel; transcripts travel on the bus instead."""

    async def _send(self, send: Callable[[Any], Awaitable[None]], data: Any) -> None:
        """Send; a peer that already left makes the wire closed (the input side ends the call)."""
        try:
            await send(data)
        except (WebSocketDisconnect, RuntimeError, OSError):
            self._closed = True

    async def close(self) -> None:
        if self._open():
            self._closed = True
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await self.ws.close()
        self._closed = True
