"""Playback stage: paces bot audio out in real time in 20 ms chunks; pause, resume, cut.

Only ~40 ms is ever ahead of real time on the wire, so pausing or cutting here silences the
caller's ear within a chunk or two; that keeps barge-in under 300 ms from speech onset
(VAD start 150 ms + ≤ 60 ms in flight). It reports "bot audible" upstream for turn-taking
and stamps the end-of-speech → first-bot-audio latency into the call trace.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    InterruptionFrame,
    OutputAudioRawFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bots.frames import (
    AnnouncementPlayedFrame,
    BotAudioFrame,
    PlaybackPauseFrame,
    PlaybackResumeFrame,
    PlaybackStateFrame,
)
from bots.trace import CallTrace

PIPELINE_RATE_HZ = 16_000
CHUNK_BYTES = PIPELINE_RATE_HZ * 2 // 50  # 20 ms
CHUNK_S = 0.02


@dataclass
class _Chunk:
    pcm16: bytes
    turn: int | None
    kind: str
    last: bool = False


class PlaybackStage(FrameProcessor):
    """Real-time pacing of ``BotAudioFrame`` into ``OutputAudioRawFrame`` for the transport."""

    def __init__(self, *, trace: CallTrace, lead_s: float = 0.04, **kw: object) -> None:
        super().__init__(**kw)
        self.trace = trace
        self.lead_s = lead_s
        self._chunks: deque[_Chunk] = deque()
        self._wake = asyncio.Event()
        self._paused = False
        self._speaking = False
        self._task: asyncio.Task | None = None
        self._speech_end: dict[int, float] = {}
        self.played_s = 0.0
        self.cut_count = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, BotAudioFrame):
            self._enqueue(frame)
            return
        if isinstance(frame, PlaybackPauseFrame):
            self._paused = True
            return
        if isinstance(frame, PlaybackResumeFrame):
            self._paused = False
            self._wake.set()
            return
        if isinstance(frame, InterruptionFrame):
            await self._cut()
        elif isinstance(frame, EndFrame | CancelFrame):
            await self._stop()
        await self.push_frame(frame, direction)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._stop()

    def _enqueue(self, frame: BotAudioFrame) -> None:
        if frame.turn is not None and frame.speech_end_mono is not None and frame.pcm16:
            self._speech_end.setdefault(frame.turn, frame.speech_end_mono)
        pcm = frame.pcm16
        for i in range(0, len(pcm), CHUNK_BYTES):
            piece = pcm[i : i + CHUNK_BYTES]
            if len(piece) < CHUNK_BYTES:
                piece += b"\x00" * (CHUNK_BYTES - len(piece))
            self._chunks.append(_Chunk(piece, frame.turn, frame.kind))
        if frame.last:
            self._chunks.append(_Chunk(b"", frame.turn, frame.kind, last=True))
        if self._task is None:
            self._task = self.create_task(self._pace())
        self._wake.set()

    async def _cut(self) -> None:
        """Barge-in: drop everything queued; the bot listens."""
        if self._chunks or self._speaking:
            self.cut_count += 1
            self.trace.stage("barge_in", started_mono=time.monotonic())
        self._chunks.clear()
        self._paused = False
        await self._set_speaking(False, "reply")

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await self.cancel_task(task)

    async def _set_speaking(self, speaking: bool, kind: str) -> None:
        if speaking == self._speaking:
            return
        self._speaking = speaking
        await self.push_frame(
            PlaybackStateFrame(speaking=speaking, kind=kind), FrameDirection.UPSTREAM
        )
        cls = BotStartedSpeakingFrame if speaking else BotStoppedSpeakingFrame
        await self.push_frame(cls(), FrameDirection.DOWNSTREAM)

    async def _pace(self) -> None:
        deadline = time.monotonic()
        while True:
            while not self._chunks or self._paused:
                self._wake.clear()
                await self._wake.wait()
                deadline = max(deadline, time.monotonic())
            chunk = self._chunks.popleft()
            if chunk.last:
                await self._set_speaking(False, chunk.kind)
                if chunk.kind == "announcement":
                    await self.push_frame(AnnouncementPlayedFrame(), FrameDirection.UPSTREAM)
                    await self.push_frame(AnnouncementPlayedFrame(), FrameDirection.DOWNSTREAM)
                continue
            if not self._speaking:
                await self._set_speaking(True, chunk.kind)
                end = self._speech_end.pop(chunk.turn, None) if chunk.turn is not None else None
                if end is not None:
                    self.trace.stage("first_audio", started_mono=end, turn=chunk.turn)
            await self.push_frame(
                OutputAudioRawFrame(audio=chunk.pcm16, sample_rate=PIPELINE_RATE_HZ, num_channels=1)
            )
            self.played_s += CHUNK_S
            deadline = max(deadline, time.monotonic()) + CHUNK_S
            delay = deadline - self.lead_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
