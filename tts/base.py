"""TTS engine interface: text → PCM16 mono chunks, streamed so playback starts early."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Capabilities:
    languages: tuple[str, ...]
    sample_rate_hz: int
    streaming: bool = True


@dataclass(frozen=True)
class AudioChunk:
    pcm16: bytes
    sample_rate_hz: int


@runtime_checkable
class TextToSpeech(Protocol):
    capabilities: Capabilities

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        """Yield audio chunk by chunk (blocking; callers run it in a worker thread)."""
        ...
