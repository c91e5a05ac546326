"""Campaign calls over real telephony media: the callee's audio stream meets the script.

The Twilio-compatible dialer's TwiML connects every answered call to our Media Streams
websocket with the attempt in its ``<Parameter>``s; ``channels`` recognises such a stream
and hands its wire (a ``channels.media.Wire``: ``receive`` audio, ``send_audio``, ``close``,
plus a ``dtmf`` queue) to :meth:`TelephonyMediaHub.serve`, keyed by the carrier's call id
(Twilio's CallSid, which the dialer also reports). The hub is the :class:`CallMedia` the
campaign's :class:`ScriptCallRunner` talks to, exactly like the browser test phone:

- ``play`` sends the TTS audio (resampled to the wire's rate) and returns when it has been
  heard, so the key the callee presses answers the whole message;
- ``next_input`` returns a keypad digit (DTMF) or None on timeout/hang-up;
- ``listen`` returns the first seconds of the callee's audio for answering-machine detection.

The runner may start before the stream connects (status callback and websocket race), so
every call waits up to ``connect_timeout_s`` for its stream. The ARI dialer bridges answered
channels to an AudioSocket stream whose UUID is the call id; it registers its calls with
:meth:`expect` so the AudioSocket server can tell them (:meth:`claims`) from inbound calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import wave
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soxr
import structlog

log = structlog.get_logger("hotline.dialer.media_hub")

_FRAME_S = 0.02


@dataclass
class _Stream:
    wire: Any
    rate_hz: int = 8_000
    heard: bytearray = field(default_factory=bytearray)  # callee audio at rate_hz
    heard_changed: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class TelephonyMediaHub:
    """``CallMedia`` + AMD ``listen`` over carrier media streams, one per answered call."""

    def __init__(self, *, connect_timeout_s: float = 15.0, max_heard_s: float = 30.0) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.max_heard_s = max_heard_s
        self._streams: dict[str, _Stream] = {}
        self._arrived: dict[str, asyncio.Event] = {}
        self._expected: set[str] = set()

    def expect(self, call_id: str) -> None:
        """A call we placed whose media will come in as a stream (ARI → AudioSocket)."""
        self._expected.add(call_id)

    def forget(self, call_id: str) -> None:
        self._expected.discard(call_id)

    def claims(self, call_id: str) -> bool:
        """Is this stream one of our campaign calls (not an inbound caller)?"""
        return call_id in self._expected

    # -- the channel side --------------------------------------------------------------------
    async def serve(self, call_id: str, wire: Any) -> None:
        """Own ``wire`` for this call until the callee or the runner hangs up."""
        stream = _Stream(wire=wire, rate_hz=int(getattr(wire, "out_rate_hz", 8_000)))
        self._streams[call_id] = stream
        self._arrival(call_id).set()
        log.info("campaigns.media_connected", call_id=call_id)
        try:
            while (chunk := await wire.receive()) is not None:
                pcm = chunk.pcm16
                if not stream.heard:  # the callee's rate (AudioSocket: 8 or 16 kHz)
                    stream.rate_hz = chunk.sample_rate_hz
                if chunk.sample_rate_hz != stream.rate_hz:
                    x = np.frombuffer(pcm, dtype="<i2")
                    pcm = soxr.resample(x, chunk.sample_rate_hz, stream.rate_hz)
                    pcm = pcm.astype("<i2").tobytes()
                if len(stream.heard) < int(self.max_heard_s * stream.rate_hz * 2):
                    stream.heard += pcm
                    stream.heard_changed.set()
        finally:
            stream.ended.set()
            stream.heard_changed.set()
            self._streams.pop(call_id, None)
            self._arrived.pop(call_id, None)
            self._expected.discard(call_id)
            with contextlib.suppress(Exception):
                await wire.close()

    def _arrival(self, call_id: str) -> asyncio.Event:
        return self._arrived.setdefault(call_id, asyncio.Event())

    async def _stream(self, call_id: str) -> _Stream | None:
        if call_id not in self._streams:
            try:
                async with asyncio.timeout(self.connect_timeout_s):
                    await self._arrival(call_id).wait()
            except TimeoutError:
                log.warning("campaigns.media_missing", call_id=call_id)
                return None
        return self._streams.get(call_id)

    # -- CallMedia ---------------------------------------------------------------------------
    async def play(self, call_id: str, text: str, audio_wav: bytes | None) -> None:
        """Send the line's audio and wait as long as it plays (a text-only line is silent)."""
        stream = await self._stream(call_id)
        if stream is None or audio_wav is None or stream.ended.is_set():
            return
        rate = int(getattr(stream.wire, "out_rate_hz", stream.rate_hz))  # read now: may follow
        pcm = _wav_to_pcm16(audio_wav, rate)  # the callee's rate once audio has arrived
        await stream.wire.send_audio(pcm)
        seconds = len(pcm) / 2 / rate
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds + 0.2):  # the carrier plays it in real time
                await stream.ended.wait()

    async def next_input(self, call_id: str, timeout_s: float) -> str | None:
        """The next keypad digit the callee presses, or None (timeout or hang-up)."""
        stream = await self._stream(call_id)
        if stream is None:
            return None
        queue: asyncio.Queue[str] | None = getattr(stream.wire, "dtmf", None)
        if queue is None:
            return None
        digit = asyncio.ensure_future(queue.get())
        ended = asyncio.ensure_future(stream.ended.wait())
        done, pending = await asyncio.wait(
            {digit, ended}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED
        )
        for task in pending:
            task.cancel()
        return digit.result() if digit in done else None

    async def listen(self, call_id: str, seconds: float) -> tuple[bytes, int] | None:
        """The callee's first ``seconds`` of audio (less if they hang up), for AMD."""
        stream = await self._stream(call_id)
        if stream is None:
            return None
        need = int(seconds * stream.rate_hz) * 2
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds + 5.0):
                while len(stream.heard) < need and not stream.ended.is_set():
                    stream.heard_changed.clear()
                    await stream.heard_changed.wait()
        heard = bytes(stream.heard[:need])
        return (heard, stream.rate_hz) if heard else None


def _wav_to_pcm16(wav_bytes: bytes, rate_hz: int) -> bytes:
    """Mono PCM16 at ``rate_hz`` from a WAV (our TTS output)."""
    with wave.open(io.BytesIO(wav_bytes)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1).astype("<i2")
    if rate != rate_hz:
        x = soxr.resample(x, rate, rate_hz).astype("<i2")
    return x.tobytes()
