"""Real voices: Piper streams intelligible English; eSpeak NG speaks something Whisper hears as
Mandarin; the phrase cache returns the real voice's audio unchanged."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from asr.faster_whisper import FasterWhisperSTT
from tts.espeak import EspeakNgTTS
from tts.phrase_cache import PhraseCache
from tts.piper import PiperTTS

pytestmark = pytest.mark.slow


def test_piper_streams_each_sentence_as_its_own_chunk(
    joe: PiperTTS, listener: FasterWhisperSTT
) -> None:
    text = "Thank you for calling. Your ticket has been created. Goodbye!"
    chunks = list(joe.synthesize_stream(text, language="en"))
    assert len(chunks) == 3
    for chunk in chunks:
        assert chunk.sample_rate_hz == 22_050
        pcm = np.frombuffer(chunk.pcm16, dtype="<i2")
        assert 0.3 < pcm.size / 22_050 < 4.0
        assert np.abs(pcm).max() > 10_000  # normalised speech, not silence
    heard = listener.transcribe_sync(
        b"".join(c.pcm16 for c in chunks), sample_rate_hz=22_050
    ).text.lower()
    # Whisper hears the last sentence as "goodbye" or "bye bye" depending on thread timing
    assert "ticket" in heard and "created" in heard and "bye" in heard


def test_phrase_cache_serves_the_same_real_audio(joe: PiperTTS) -> None:
    cache = PhraseCache(joe)
    first = b"".join(c.pcm16 for c in cache.synthesize_stream("This call may be recorded."))
    again = b"".join(c.pcm16 for c in cache.synthesize_stream("This call may be recorded."))
    assert first == again and cache.hits == 1


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="apt package espeak-ng absent")
def test_espeak_mandarin_is_heard_as_mandarin(multilingual_listener: FasterWhisperSTT) -> None:
    voice = EspeakNgTTS()
    chunks = list(voice.synthesize_stream("我想查询一下我的账户余额。", language="zh"))
    assert len(chunks) == 1 and chunks[0].sample_rate_hz == 22_050
    result = multilingual_listener.transcribe_sync(
        chunks[0].pcm16, sample_rate_hz=22_050, language=None
    )
    assert result.language == "zh"
    assert "我想" in result.text  # the opening words survive the formant voice
