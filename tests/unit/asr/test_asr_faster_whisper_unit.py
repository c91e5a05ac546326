"""FasterWhisperSTT decisions that need no model: languages, resampling, errors, prompts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asr.errors import ASRModelUnavailable, UnsupportedLanguage
from asr.faster_whisper import (
    ZH_SIMPLIFIED_PROMPT,
    FasterWhisperSTT,
    normalize_peak,
    pcm16_to_float,
)
from models import CATALOG, Registry


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(CATALOG, models_dir=tmp_path)


def test_english_only_model_refuses_mandarin_before_loading(registry: Registry) -> None:
    stt = FasterWhisperSTT(registry, model="whisper-tiny-en")
    assert stt.capabilities.languages == ("en",)
    with pytest.raises(UnsupportedLanguage) as err:
        stt.transcribe_sync(b"\x00\x00" * 1600, sample_rate_hz=16_000, language="zh")
    assert err.value.code == "asr_language_unsupported"


@pytest.mark.parametrize(
    ("model", "language", "expected"),
    [
        ("whisper-tiny-en", None, "en"),
        ("whisper-tiny-en", "auto", "en"),
        ("whisper-tiny-en", "en-US", "en"),
        ("whisper-base", None, None),
        ("whisper-base", "auto", None),
        ("whisper-base", "zh-CN", "zh"),
        ("whisper-base", "EN", "en"),
    ],
)
def test_language_resolution(registry: Registry, model: str, language, expected) -> None:
    assert FasterWhisperSTT(registry, model=model)._resolve_language(language) == expected


def test_unknown_model_is_an_asr_error(registry: Registry) -> None:
    with pytest.raises(ASRModelUnavailable):
        FasterWhisperSTT(registry, model="whisper-huge-v9")


def test_mandarin_gets_the_simplified_prompt_in_front_of_the_callers() -> None:
    assert FasterWhisperSTT._prompt("zh", None) == ZH_SIMPLIFIED_PROMPT
    assert FasterWhisperSTT._prompt("zh", "账户") == ZH_SIMPLIFIED_PROMPT + "账户"
    assert FasterWhisperSTT._prompt("en", "Digits") == "Digits"
    assert FasterWhisperSTT._prompt(None, None) is None


def test_empty_audio_returns_empty_transcript(registry: Registry) -> None:
    stt = FasterWhisperSTT(registry, model="whisper-tiny-en")
    tr = stt.transcribe_sync(b"", sample_rate_hz=8_000)
    assert tr.text == "" and tr.segments == ()


@pytest.mark.parametrize("rate_hz", [8_000, 16_000, 44_100])
def test_pcm16_to_float_resamples_to_16k(rate_hz: int) -> None:
    pcm = (np.ones(rate_hz // 2) * 16384).astype("<i2").tobytes() + b"\x01"  # torn last byte
    audio = pcm16_to_float(pcm, rate_hz)
    assert audio.dtype == np.float32
    assert audio.size == pytest.approx(8_000, abs=2)
    assert float(np.median(audio)) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    ("peak", "expected_peak"),
    [(0.0, 0.0), (0.02, 0.5), (0.001, 0.032), (0.3, 0.5), (0.9, 0.9)],
)
def test_normalize_peak_raises_quiet_audio_only(peak: float, expected_peak: float) -> None:
    audio = np.array([0.0, peak, -peak / 2], dtype=np.float32)
    out = normalize_peak(audio)
    assert float(np.abs(out).max()) == pytest.approx(expected_peak, rel=1e-5)
