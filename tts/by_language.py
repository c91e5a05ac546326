"""One ``TextToSpeech`` that speaks each language with its own voice.

Campaign scripts and other callers that get a single engine can then say English lines with
Piper and Mandarin lines with Kokoro. Voices may be given as factories: a heavy voice (Kokoro
with its G2P is ~300 MB) loads on its first line, once, behind a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping

from tts.base import AudioChunk, Capabilities, TextToSpeech
from tts.errors import UnsupportedLanguage

VoiceOrFactory = TextToSpeech | Callable[[], TextToSpeech]


class VoicesByLanguage:
    """Routes ``synthesize_stream`` by ``language`` (the first voice when none is given)."""

    def __init__(self, voices: Mapping[str, VoiceOrFactory]) -> None:
        if not voices:
            raise ValueError("VoicesByLanguage needs at least one voice")
        self._voices: dict[str, VoiceOrFactory] = {k.lower(): v for k, v in voices.items()}
        self._default = next(iter(self._voices))
        self._lock = threading.Lock()
        first = self._voices[self._default]
        rate = first.capabilities.sample_rate_hz if hasattr(first, "capabilities") else 22_050
        self.capabilities = Capabilities(languages=tuple(self._voices), sample_rate_hz=rate)

    def voice(self, language: str | None) -> TextToSpeech:
        key = (language or self._default).lower().split("-")[0]
        if key not in self._voices:
            raise UnsupportedLanguage(f"no voice for language {language!r}")
        with self._lock:
            v = self._voices[key]
            if not hasattr(v, "synthesize_stream"):
                v = self._voices[key] = v()  # type: ignore[operator]
        return v  # type: ignore[return-value]

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        return self.voice(language).synthesize_stream(text, language=language)
