"""Real models on real audio: our own TTS read back by our ASR, and FSDD digits over μ-law."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import soundfile as sf

from asr.audio_io import decode_file
from asr.base import transcribe
from asr.faster_whisper import FasterWhisperSTT
from asr.numbers import spoken_digits
from tts.piper import PiperTTS

pytestmark = pytest.mark.slow


async def test_piper_speech_is_transcribed_back(piper: PiperTTS, tiny_en: FasterWhisperSTT) -> None:
    text = "I would like to check my account balance. My order number is missing."
    chunks = list(piper.synthesize_stream(text))
    assert len(chunks) == 2  # streamed sentence by sentence
    pcm = b"".join(c.pcm16 for c in chunks)

    result = await transcribe(
        tiny_en, pcm, sample_rate_hz=chunks[0].sample_rate_hz, word_timestamps=True
    )

    words = result.text.lower()
    for key in ("check", "account", "balance", "order", "number", "missing"):
        assert key in words
    assert result.language == "en"
    assert result.segments[0].words[0].start_s < 0.5
    assert result.segments[-1].end_s == pytest.approx(result.duration_s, abs=0.6)


# one clip per speaker that tiny.en reads right; accuracy over the whole set is bench work
# (bench/asr_accuracy.py), this checks the 8 kHz μ-law → 16 kHz → ASR → digits path
@pytest.mark.parametrize("clip", ["3_theo_7.wav", "0_jackson_5.wav", "2_nicolas_10.wav"])
def test_fsdd_digit_over_8k_ulaw(
    clip: str, fsdd_dir: Path, tmp_path: Path, tiny_en: FasterWhisperSTT
) -> None:
    audio, rate = sf.read(fsdd_dir / clip, dtype="int16")
    assert rate == 8_000
    ulaw = tmp_path / "digit.wav"
    buf = io.BytesIO()
    sf.write(buf, audio, rate, format="WAV", subtype="ULAW")
    ulaw.write_bytes(buf.getvalue())

    decoded = decode_file(ulaw)
    assert decoded.source_format == "wav/ulaw" and decoded.sample_rate_hz == 16_000
    result = tiny_en.transcribe_sync(decoded.pcm16, sample_rate_hz=16_000, language="en")
    assert spoken_digits(result.text) == clip[0]
