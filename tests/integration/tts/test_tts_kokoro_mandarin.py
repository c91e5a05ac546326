"""Kokoro speaks Mandarin that our own ASR (whisper-base, zh) reads back with a low CER.

The bound has margin: the default voice measured ~9 % CER on bench/tts_quality.py's sentences,
eSpeak NG ~60 %. Kokoro's ONNX graph is deterministic, so the audio is the same every run.
"""

from __future__ import annotations

import numpy as np
import pytest

from asr.faster_whisper import FasterWhisperSTT
from bench.tts_quality import ZH_SENTENCES, cer
from models import Registry
from tts.errors import TTSModelUnavailable
from tts.kokoro import KOKORO_RATE_HZ, KokoroTTS

pytestmark = pytest.mark.slow

SENTENCES = ZH_SENTENCES[:8]
CER_BOUND = 0.25


def test_kokoro_streams_one_chunk_per_sentence(kokoro: KokoroTTS) -> None:
    chunks = list(kokoro.synthesize_stream("您好。我的银行卡丢了。请稍等。", language="zh-CN"))
    assert len(chunks) == 3
    for chunk in chunks:
        assert chunk.sample_rate_hz == KOKORO_RATE_HZ
        pcm = np.frombuffer(chunk.pcm16, dtype="<i2")
        assert 0.3 < pcm.size / KOKORO_RATE_HZ < 5.0
        assert 5_000 < np.abs(pcm).max() <= 32_767 * 0.98 + 1  # speech, never clipped


def test_kokoro_mandarin_is_read_back_by_whisper_base(
    kokoro: KokoroTTS, multilingual_listener: FasterWhisperSTT
) -> None:
    hyps = []
    for text in SENTENCES:
        chunks = list(kokoro.synthesize_stream(text, language="zh"))
        pcm = b"".join(c.pcm16 for c in chunks)
        hyps.append(
            multilingual_listener.transcribe_sync(
                pcm, sample_rate_hz=KOKORO_RATE_HZ, language="zh"
            ).text
        )
    score = cer(list(SENTENCES), hyps)
    assert score <= CER_BOUND, list(zip(SENTENCES, hyps, strict=True))
    assert any("银行卡" in h for h in hyps)  # a key phrase survives verbatim


def test_blended_and_unknown_speakers(tts_registry: Registry) -> None:
    blend = KokoroTTS(tts_registry, voice="jm_kumo+jf_gongitsune")
    chunks = list(blend.synthesize_stream("您好。", language="zh"))
    assert len(chunks) == 1 and len(chunks[0].pcm16) > 0.3 * KOKORO_RATE_HZ * 2
    with pytest.raises(TTSModelUnavailable, match="jm_kumo"):  # the message lists the packs
        list(KokoroTTS(tts_registry, voice="zf_xiaobei").synthesize_stream("您好。"))
