"""ASR engine interface: PCM16 mono audio at a stated rate → a timed transcript.

Adapters implement ``_transcribe`` only; :class:`Transcriber` wraps it with timing and runs
the blocking model call off the event loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Capabilities:
    languages: tuple[str, ...]
    streaming: bool = False
    sample_rates_hz: tuple[int, ...] = (16_000,)
    word_timestamps: bool = True


@dataclass(frozen=True)
class WordTiming:
    text: str
    start_s: float
    end_s: float
    probability: float | None = None


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str
    words: tuple[WordTiming, ...] = ()


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None
    segments: tuple[Segment, ...] = ()
    duration_s: float = 0.0
    elapsed_ms: float = 0.0
    extra: dict = field(default_factory=dict)


@runtime_checkable
class SpeechToText(Protocol):
    capabilities: Capabilities

    def transcribe_sync(
        self,
        pcm16: bytes,
        *,
        sample_rate_hz: int,
        language: str | None = None,
        beam_size: int | None = None,
        word_timestamps: bool = False,
        prompt: str | None = None,
    ) -> Transcript: ...


async def transcribe(engine: SpeechToText, pcm16: bytes, **kw: object) -> Transcript:
    """Run a (blocking) engine in a worker thread and stamp the elapsed time."""
    t0 = time.perf_counter()
    result = await asyncio.to_thread(engine.transcribe_sync, pcm16, **kw)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - t0) * 1000
    return Transcript(
        result.text, result.language, result.segments, result.duration_s, elapsed, result.extra
    )
