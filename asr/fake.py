"""A deterministic speech-to-text fake for unit tests of code that consumes ASR.

It honours :class:`asr.base.SpeechToText` exactly (same keyword-only signature, same
validation of its input) so tests that use it catch misuse the real engine would catch:
silence (or no audio) gives an empty transcript, speech gives the next scripted text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from asr.base import Capabilities, Segment, Transcript, WordTiming
from asr.errors import UnsupportedLanguage

_SILENCE_RMS = 100.0  # PCM16 units; FSDD/telephone speech sits well above this


@dataclass(frozen=True)
class FakeCall:
    n_bytes: int
    sample_rate_hz: int
    language: str | None
    beam_size: int | None
    prompt: str | None


class FakeSTT:
    """Returns scripted texts in order (cycling) for audio that is not silence."""

    def __init__(
        self,
        texts: tuple[str, ...] = ("hello",),
        *,
        languages: tuple[str, ...] = ("en", "zh"),
        detected_language: str = "en",
    ) -> None:
        if not texts:
            raise ValueError("FakeSTT needs at least one scripted text")
        self.texts = texts
        self.detected_language = detected_language
        self.capabilities = Capabilities(languages=languages)
        self.calls: list[FakeCall] = []
        self._next = 0

    def transcribe_sync(
        self,
        pcm16: bytes,
        *,
        sample_rate_hz: int,
        language: str | None = None,
        beam_size: int | None = None,
        word_timestamps: bool = False,
        prompt: str | None = None,
    ) -> Transcript:
        if sample_rate_hz <= 0:
            raise ValueError("sample_rate_hz must be positive")
        if language not in (None, "auto") and language not in self.capabilities.languages:
            raise UnsupportedLanguage(f"fake engine does not speak {language!r}")
        self.calls.append(FakeCall(len(pcm16), sample_rate_hz, language, beam_size, prompt))
        samples = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").astype(np.float64)
        duration_s = samples.size / sample_rate_hz
        lang = language if language not in (None, "auto") else self.detected_language
        if samples.size == 0 or float(np.sqrt(np.mean(samples**2))) < _SILENCE_RMS:
            return Transcript("", lang, (), duration_s, 0.0, {"model": "fake"})
        text = self.texts[self._next % len(self.texts)]
        self._next += 1
        words = text.split()
        step = duration_s / max(len(words), 1)
        timings = (
            tuple(WordTiming(w, i * step, (i + 1) * step, 1.0) for i, w in enumerate(words))
            if word_timestamps
            else ()
        )
        seg = Segment(0.0, duration_s, text, timings)
        return Transcript(text, lang, (seg,), duration_s, 0.0, {"model": "fake"})
