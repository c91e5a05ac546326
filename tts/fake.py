"""A deterministic text-to-speech fake: one tone chunk per sentence, length set by the text.

Same protocol, same sentence chunking as the real adapters (``tts.sentences``), so tests of
streaming/barge-in see the chunk pattern the real engines produce, without a model.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tts.base import AudioChunk, Capabilities
from tts.errors import UnsupportedLanguage
from tts.sentences import split_sentences


class FakeTTS:
    """Yields a 440 Hz tone of ``ms_per_char`` per character for each sentence."""

    def __init__(
        self,
        *,
        sample_rate_hz: int = 16_000,
        ms_per_char: float = 60.0,
        languages: tuple[str, ...] = ("en", "zh"),
        voice_name: str = "fake",
    ) -> None:
        self.capabilities = Capabilities(languages=languages, sample_rate_hz=sample_rate_hz)
        self.ms_per_char = ms_per_char
        self.voice_name = voice_name
        self.calls: list[str] = []

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        if language and language.split("-")[0] not in self.capabilities.languages:
            raise UnsupportedLanguage(f"fake voice does not speak {language!r}")
        self.calls.append(text)
        rate = self.capabilities.sample_rate_hz
        for piece in split_sentences(text):
            n = int(rate * self.ms_per_char / 1000 * len(piece))
            t = np.arange(n, dtype=np.float32) / rate
            tone = (0.3 * np.sin(2 * np.pi * 440.0 * t) * 32767).astype("<i2")
            yield AudioChunk(pcm16=tone.tobytes(), sample_rate_hz=rate)
