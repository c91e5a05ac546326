from __future__ import annotations

from collections.abc import Iterator

import pytest

from tts.base import AudioChunk, Capabilities
from tts.by_language import VoicesByLanguage
from tts.errors import UnsupportedLanguage


class Tone:
    def __init__(self, lang: str, rate: int) -> None:
        self.capabilities = Capabilities(languages=(lang,), sample_rate_hz=rate)
        self.said: list[str] = []

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        self.said.append(text)
        yield AudioChunk(b"\x01\x00" * 10, self.capabilities.sample_rate_hz)


def test_each_language_has_its_voice_and_heavy_ones_load_once_on_first_use() -> None:
    en = Tone("en", 22_050)
    made: list[Tone] = []

    def zh() -> Tone:
        made.append(Tone("zh", 24_000))
        return made[-1]

    voices = VoicesByLanguage({"en": en, "zh": zh})
    assert voices.capabilities.languages == ("en", "zh") and not made
    assert next(voices.synthesize_stream("Hello", language="en-US")).sample_rate_hz == 22_050
    assert next(voices.synthesize_stream("您好", language="zh")).sample_rate_hz == 24_000
    list(voices.synthesize_stream("再见", language="zh"))
    assert len(made) == 1 and made[0].said == ["您好", "再见"] and en.said == ["Hello"]
    assert next(voices.synthesize_stream("Default")).sample_rate_hz == 22_050
    with pytest.raises(UnsupportedLanguage):
        list(voices.synthesize_stream("Hola", language="es"))
