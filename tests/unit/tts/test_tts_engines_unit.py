"""TTS adapters' model-free parts: fake protocol, espeak WAV parsing, piper voice lookup."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from models import CATALOG, Registry
from tts.base import TextToSpeech
from tts.errors import SynthesisFailed, TTSModelUnavailable, UnsupportedLanguage
from tts.espeak import wav_pcm16
from tts.fake import FakeTTS
from tts.piper import PiperTTS


def test_fake_yields_one_chunk_per_sentence_with_length_from_text() -> None:
    fake = FakeTTS(sample_rate_hz=8_000, ms_per_char=50)
    assert isinstance(fake, TextToSpeech)
    chunks = list(fake.synthesize_stream("Hi. Hello there!"))
    assert [len(c.pcm16) for c in chunks] == [2 * 8_000 * 3 // 20, 2 * 8_000 * 12 // 20]
    assert {c.sample_rate_hz for c in chunks} == {8_000}
    with pytest.raises(UnsupportedLanguage):
        list(fake.synthesize_stream("Bonjour.", language="fr"))


def streaming_wav(pcm: bytes, rate_hz: int, declared: int) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, rate_hz, rate_hz * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", declared)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", declared)
        + pcm
    )


@pytest.mark.parametrize("declared", [0, 0x7FFFFFFF, 6])
def test_espeak_wav_parser_reads_to_end_whatever_the_declared_size(declared: int) -> None:
    pcm = bytes(range(10)) + b"\x01"  # odd length: the torn byte is dropped
    data, rate = wav_pcm16(streaming_wav(pcm, 22_050, declared))
    assert rate == 22_050
    assert data == pcm[:10]


@pytest.mark.parametrize("blob", [b"", b"ID3 not a wav", b"RIFF\x00\x00\x00\x00WAVE"])
def test_espeak_wav_parser_rejects_non_wav(blob: bytes) -> None:
    with pytest.raises(SynthesisFailed):
        wav_pcm16(blob)


def test_piper_reads_voice_rate_from_its_config_without_loading(tmp_path: Path) -> None:
    tts = PiperTTS(Registry(CATALOG, models_dir=tmp_path))
    assert tts.capabilities.sample_rate_hz == 22_050
    assert tts.capabilities.languages == ("en",)
    with pytest.raises(UnsupportedLanguage):
        next(tts.synthesize_stream("你好", language="zh"))


def test_piper_unknown_voice_is_a_tts_error(tmp_path: Path) -> None:
    with pytest.raises(TTSModelUnavailable) as err:
        PiperTTS(Registry(CATALOG, models_dir=tmp_path), voice="piper-nobody")
    assert err.value.code == "tts_model_unavailable"
