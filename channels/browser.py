"""Browser call wire: microphone PCM16 over a websocket, bot audio and live text back.

Protocol (one websocket per call):
- client → server, text ``{"type": "start", "sample_rate_hz": 16000}`` (optional, first),
  then binary frames of PCM16 little-endian mono at that rate; ``{"type": "stop"}`` hangs up.
- server → client, binary PCM16 at ``out_rate_hz`` (16 kHz), and text
  ``{"type": "transcript"|"reply", "text": …}`` for the live transcript,
  ``{"type": "clear"}`` on barge-in (drop what is queued for playback),
  ``{"type": "session", "contact_id": …}`` once at the start.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from channels.errors import UnsupportedMedia, WireFormatError
from channels.media import AudioIn

MIN_RATE_HZ, MAX_RATE_HZ = 8_000, 48_000


class BrowserWire:
    """``channels.media.Wire`` over a Starlette/FastAPI websocket."""

    def __init__(self, ws: WebSocket, *, in_rate_hz: int = 16_000, out_rate_hz: int = 16_000):
        self.ws = ws
        self.in_rate_hz = in_rate_hz
        self.out_rate_hz = out_rate_hz
        self._closed = False

    async def receive(self) -> AudioIn | None:
        while True:
            try:
                msg = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                return None
            if msg["type"] == "websocket.disconnect":
                return None
            if msg.get("bytes") is not None:
                data = msg["bytes"]
                return AudioIn(data[: len(data) // 2 * 2], self.in_rate_hz)
            if msg.get("text") is not None and self._control(msg["text"]):
                return None

    def _control(self, text: str) -> bool:
        """Apply one control message; True means hang up."""
        try:
            msg = json.loads(text)
        except ValueError as e:
            raise WireFormatError(f"browser: bad control message: {e}") from e
        kind = msg.get("type") if isinstance(msg, dict) else None
        if kind == "start":
            rate = msg.get("sample_rate_hz", self.in_rate_hz)
            if not isinstance(rate, int) or not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
                raise UnsupportedMedia(f"browser: sample rate {rate!r} outside 8000..48000 Hz")
            self.in_rate_hz = rate
        return kind == "stop"

    def _open(self) -> bool:
        return (
            not self._closed
            and self.ws.client_state == WebSocketState.CONNECTED
            and self.ws.application_state == WebSocketState.CONNECTED
        )

    async def send_audio(self, pcm16: bytes) -> None:
        if self._open() and pcm16:
            await self._send(self.ws.send_bytes, pcm16)

    async def clear(self) -> None:
        await self.send_json({"type": "clear"})

    async def send_text(self, kind: str, text: str) -> None:
        await self.send_json({"type": kind, "text": text})

    async def send_json(self, msg: dict) -> None:
        if self._open():
            await self._send(self.ws.send_text, json.dumps(msg, ensure_ascii=False))

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
