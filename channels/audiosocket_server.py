"""Asterisk AudioSocket TCP server: each connection is one phone call into the voice bot.

Asterisk dials in with ``AudioSocket(<uuid>,host:port)`` in the dialplan (see
docs/telephony.md). The first frame carries the call UUID (used as the contact id), then
signed-linear audio flows both ways in 20 ms frames: 8 kHz (kind 0x10) or 16 kHz (0x12);
the bot answers at the rate the caller's audio arrives in. A hang-up frame, an error frame,
a truncated frame at EOF or a dropped socket end the call; other calls keep running.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

from channels import audiosocket as fmt
from channels.errors import UnsupportedMedia, WireFormatError
from channels.media import AudioIn, Wire, WireInput, WireOutput
from channels.session import CallSession, VoiceFactory

READ_BYTES = 4096


class Outbound(Protocol):
    """Where streams of calls we placed go (the campaign media hub)."""

    def claims(self, call_id: str) -> bool: ...

    serve: Callable[[str, Wire], Awaitable[None]]


class AudioSocketWire:
    """``channels.media.Wire`` over one AudioSocket TCP connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.decoder = fmt.FrameDecoder()
        self.out_rate_hz = 8_000
        self.call_id: str | None = None
        self.dtmf: asyncio.Queue[str] = asyncio.Queue()  # keypad digits, for campaign scripts
        self._pending: list[fmt.AudioSocketFrame] = []
        self._out = bytearray()
        self._closed = False

    async def _next_frame(self) -> fmt.AudioSocketFrame | None:
        while not self._pending:
            data = await self.reader.read(READ_BYTES)
            if not data:
                if self.decoder.pending:
                    raise WireFormatError(
                        f"audiosocket: truncated frame at EOF ({self.decoder.pending} bytes)"
                    )
                return None
            self._pending.extend(self.decoder.feed(data))
        return self._pending.pop(0)

    async def handshake(self) -> str | None:
        """Read the UUID frame; returns the call id (None if the caller left at once)."""
        frame = await self._next_frame()
        if frame is None or frame.kind == fmt.KIND_HANGUP:
            return None
        self.call_id = fmt.decode_uuid(frame)
        return self.call_id

    async def receive(self) -> AudioIn | None:
        while True:
            frame = await self._next_frame()
            if frame is None or frame.kind == fmt.KIND_HANGUP:
                return None
            if frame.kind == fmt.KIND_ERROR:
                raise WireFormatError(f"audiosocket: Asterisk reported an error {frame.payload!r}")
            rate = frame.sample_rate_hz
            if rate is not None:
                self.out_rate_hz = rate
                return AudioIn(frame.payload[: len(frame.payload) // 2 * 2], rate)
            if frame.kind == fmt.KIND_DTMF:
                self.dtmf.put_nowait(frame.payload.decode("ascii", "replace"))
            elif frame.kind != fmt.KIND_UUID:
                raise UnsupportedMedia(f"audiosocket: unsupported frame kind 0x{frame.kind:02x}")

    async def send_audio(self, pcm16: bytes) -> None:
        self._out += pcm16
        step = self.out_rate_hz * 2 // 50  # 20 ms
        while len(self._out) >= step and not self._closed:
            self.writer.write(fmt.encode_audio(bytes(self._out[:step]), self.out_rate_hz))
            del self._out[:step]
        await self.writer.drain()

    async def clear(self) -> None:
        self._out.clear()  # Asterisk plays what it gets; only our ≤ 40 ms lead is in flight

    async def send_text(self, kind: str, text: str) -> None:
        """AudioSocket carries audio only."""

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(ConnectionError, OSError):
            self.writer.write(fmt.encode_frame(fmt.KIND_HANGUP))
            await self.writer.drain()
        self.writer.close()


async def handle_connection(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    voice_factory: VoiceFactory,
    language: str | None = "en",
    outbound: Outbound | None = None,
) -> None:
    """Serve one AudioSocket call to its end (errors end this call only)."""
    wire = AudioSocketWire(reader, writer)
    try:
        call_id = await wire.handshake()
        if call_id is None:
            return
        if outbound is not None and outbound.claims(call_id.replace("-", "")):
            # the media of a campaign call we placed (ARI external media): its script talks
            await outbound.serve(call_id.replace("-", ""), wire)
            return
        session = CallSession(
            contact_id=call_id.replace("-", ""),
            channel="audiosocket",
            input=WireInput(wire),
            output=WireOutput(wire),
            language=language,
            metadata={"audiosocket_uuid": call_id},
        )
        await voice_factory(session)
    except (WireFormatError, ConnectionError, OSError):
        with contextlib.suppress(ConnectionError, OSError):
            writer.write(fmt.encode_frame(fmt.KIND_ERROR))
    finally:
        await wire.close()


async def serve_audiosocket(
    host: str,
    port: int,
    *,
    voice_factory: VoiceFactory,
    language: str | None = "en",
    outbound: Outbound | None = None,
) -> asyncio.Server:
    """Start listening (returns the started ``asyncio.Server``; close it to stop).
    ``outbound`` takes the streams of our own campaign calls (see bots.dialer.media_hub)."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle_connection(
            reader, writer, voice_factory=voice_factory, language=language, outbound=outbound
        )

    return await asyncio.start_server(on_connect, host, port)
