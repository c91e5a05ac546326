"""The transport edge of a call: a ``Wire`` moves audio; two pipecat processors adapt it.

Transport ≠ serializer (pipecat): a ``Wire`` speaks one carrier (browser websocket, Twilio
Media Streams, AudioSocket TCP) and only moves PCM16 at the carrier's rate. ``WireInput`` /
``WireOutput`` resample with soxr to and from the pipeline's 16 kHz, so everything inside
runs at one rate. A wire that fails mid-call (dropped socket, garbage) ends the call with
an ``ErrorFrame`` sent down the pipeline (reported as ``contact.error``) and a cancel.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import soxr
from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import (
    CancelFrame,
    CancelWorkerFrame,
    EndFrame,
    ErrorFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    StartFrame,
    TranscriptionFrame,
    TTSTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from channels.errors import ChannelError

PIPELINE_RATE_HZ = 16_000


@dataclass(frozen=True)
class AudioIn:
    pcm16: bytes
    sample_rate_hz: int


class Wire(Protocol):
    """One carrier connection. ``receive`` returns None when the far end hung up."""

    out_rate_hz: int

    async def receive(self) -> AudioIn | None: ...
    async def send_audio(self, pcm16: bytes) -> None: ...
    async def clear(self) -> None: ...
    async def send_text(self, kind: str, text: str) -> None: ...
    async def close(self) -> None: ...


class Resampler:
    """Streaming soxr resampler for PCM16 (state kept across chunks)."""

    def __init__(self, in_hz: int, out_hz: int) -> None:
        self.in_hz, self.out_hz = in_hz, out_hz
        self._stream = soxr.ResampleStream(in_hz, out_hz, 1, "int16") if in_hz != out_hz else None

    def __call__(self, pcm16: bytes) -> bytes:
        if self._stream is None or not pcm16:
            return pcm16
        x = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2")
        return self._stream.resample_chunk(x).astype("<i2").tobytes()


class WireInput(FrameProcessor):
    """Reads the wire and pushes 16 kHz ``InputAudioRawFrame``s; hang-up cancels the call."""

    def __init__(self, wire: Wire, **kw: object) -> None:
        super().__init__(**kw)
        self.wire = wire
        self._task: asyncio.Task | None = None
        self._keys_task: asyncio.Task | None = None
        self._resampler: Resampler | None = None
        self.received_s = 0.0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, StartFrame) and self._task is None:
            self._task = self.create_task(self._read())
            if isinstance(getattr(self.wire, "dtmf", None), asyncio.Queue):
                self._keys_task = self.create_task(self._keys())
        elif isinstance(frame, EndFrame | CancelFrame):
            await self._stop()

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._stop()

    async def _stop(self) -> None:
        keys, self._keys_task = self._keys_task, None
        if keys is not None and keys is not asyncio.current_task():
            await self.cancel_task(keys)
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            await self.cancel_task(task)

    async def _keys(self) -> None:
        """Keypad presses the wire received (Twilio ``dtmf``, AudioSocket 0x03) as frames."""
        queue: asyncio.Queue[str] = self.wire.dtmf  # type: ignore[attr-defined]
        while True:
            digit = await queue.get()
            try:
                button = KeypadEntry(digit)
            except ValueError:
                continue  # not a keypad key (a malformed event): ignored
            await self.push_frame(InputDTMFFrame(button=button))

    async def _read(self) -> None:
        reason = "hangup"
        try:
            while (chunk := await self.wire.receive()) is not None:
                if self._resampler is None or self._resampler.in_hz != chunk.sample_rate_hz:
                    self._resampler = Resampler(chunk.sample_rate_hz, PIPELINE_RATE_HZ)
                pcm = self._resampler(chunk.pcm16)
                self.received_s += len(chunk.pcm16) / 2 / chunk.sample_rate_hz
                if pcm:
                    await self.push_frame(
                        InputAudioRawFrame(audio=pcm, sample_rate=PIPELINE_RATE_HZ, num_channels=1)
                    )
        except ChannelError as e:
            reason = e.code
            await self.push_frame(ErrorFrame(error=f"{e.code}: {e.message}"))
        except (ConnectionError, OSError) as e:
            reason = "connection_lost"
            await self.push_frame(ErrorFrame(error=f"connection_lost: {e}"))
        self._task = None
        await self.push_frame(CancelWorkerFrame(reason=reason), FrameDirection.UPSTREAM)


class WireOutput(FrameProcessor):
    """Sends bot audio (resampled to the wire rate), clears on barge-in, forwards text."""

    def __init__(self, wire: Wire, **kw: object) -> None:
        super().__init__(**kw)
        self.wire = wire
        self._resampler = Resampler(PIPELINE_RATE_HZ, wire.out_rate_hz)
        self.sent_s = 0.0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        try:
            if isinstance(frame, OutputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
                if self._resampler.out_hz != self.wire.out_rate_hz:
                    self._resampler = Resampler(PIPELINE_RATE_HZ, self.wire.out_rate_hz)
                await self.wire.send_audio(self._resampler(frame.audio))
                self.sent_s += len(frame.audio) / 2 / PIPELINE_RATE_HZ
            elif isinstance(frame, InterruptionFrame):
                await self.wire.clear()
            elif isinstance(frame, TranscriptionFrame):
                await self.wire.send_text("transcript", frame.text)
            elif isinstance(frame, TTSTextFrame):
                await self.wire.send_text("reply", frame.text)
            elif isinstance(frame, EndFrame | CancelFrame):
                await self.wire.close()
        except (ConnectionError, OSError, RuntimeError, ChannelError):
            pass  # the far end is gone; WireInput sees it and ends the call (no data lost)
        await self.push_frame(frame, direction)
