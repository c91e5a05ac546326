"""FakeSTT honours the SpeechToText protocol the way the real engine does."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from asr.base import SpeechToText, transcribe
from asr.errors import UnsupportedLanguage
from asr.fake import FakeSTT
from asr.faster_whisper import FasterWhisperSTT


def speech(seconds: float = 1.0, rate_hz: int = 16_000) -> bytes:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return (0.3 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2").tobytes()


def test_fake_is_a_speech_to_text_with_the_real_signature() -> None:
    fake = FakeSTT()
    assert isinstance(fake, SpeechToText)
    real = inspect.signature(FasterWhisperSTT.transcribe_sync)
    assert inspect.signature(FakeSTT.transcribe_sync) == real


def test_scripted_texts_in_order_and_silence_is_empty() -> None:
    fake = FakeSTT(("one", "two"))
    assert fake.transcribe_sync(speech(), sample_rate_hz=16_000).text == "one"
    assert fake.transcribe_sync(b"\x00\x00" * 16_000, sample_rate_hz=16_000).text == ""
    assert fake.transcribe_sync(speech(), sample_rate_hz=16_000).text == "two"
    assert fake.transcribe_sync(speech(), sample_rate_hz=16_000).text == "one"
    assert len(fake.calls) == 4


def test_word_timestamps_cover_the_audio() -> None:
    tr = FakeSTT(("card number four two",)).transcribe_sync(
        speech(2.0, 8_000), sample_rate_hz=8_000, word_timestamps=True
    )
    words = tr.segments[0].words
    assert [w.text for w in words] == ["card", "number", "four", "two"]
    assert words[-1].end_s == pytest.approx(2.0)
    assert tr.duration_s == pytest.approx(2.0)


def test_rejects_what_the_real_engine_rejects() -> None:
    fake = FakeSTT(languages=("en",))
    with pytest.raises(UnsupportedLanguage):
        fake.transcribe_sync(speech(), sample_rate_hz=16_000, language="zh")
    with pytest.raises(ValueError, match="sample_rate_hz"):
        fake.transcribe_sync(speech(), sample_rate_hz=0)


async def test_async_wrapper_stamps_elapsed_time() -> None:
    tr = await transcribe(FakeSTT(("hi",)), speech(), sample_rate_hz=16_000, language="en")
    assert tr.text == "hi"
    assert tr.language == "en"
    assert tr.elapsed_ms >= 0.0
