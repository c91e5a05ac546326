"""Short-window Whisper decoding for live turns: the encoder sees ≈ the turn, not 30 s.

Whisper pads every input to a 30 s window, so a 2 s caller turn pays for 30 s of encoder
work (measured here: ~1.0 s for tiny.en int8 on the shared 2-core box). CTranslate2 accepts
a shorter mel window; at ``max(8 s, audio + 4 s)`` the same turn decodes in ~0.2 s with the
same text. Much shorter windows (4 s) make Whisper loop on its own output, hence the floor
and the margin. Long turns (> ``max_window_s - margin``) and multilingual models go to the
wrapped engine unchanged. This adapter composes the engine (style: composing engines is
the consuming package's job); it shares the engine's one model per process.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from asr.base import Segment, SpeechToText, Transcript
from asr.faster_whisper import FasterWhisperSTT, pcm16_to_float

WHISPER_RATE_HZ = 16_000
FRAMES_PER_S = 100


class ShortWindowWhisper:
    """``SpeechToText`` for live turns on top of a ``FasterWhisperSTT``."""

    def __init__(
        self,
        engine: FasterWhisperSTT,
        *,
        min_window_s: float = 8.0,
        margin_s: float = 4.0,
        max_window_s: float = 30.0,
        tokens_per_s: float = 8.0,
    ) -> None:
        self.engine = engine
        self.capabilities = engine.capabilities
        self.min_window_s = min_window_s
        self.margin_s = margin_s
        self.max_window_s = max_window_s
        self.tokens_per_s = tokens_per_s
        self._tokenizers: dict[str, Any] = {}

    def window_s(self, duration_s: float) -> float:
        """Encoder window for a turn of ``duration_s`` (whole seconds, within the limits)."""
        return float(
            min(self.max_window_s, max(self.min_window_s, math.ceil(duration_s + self.margin_s)))
        )

    def _tokenizer(self, model: Any, language: str) -> Any:
        from faster_whisper.tokenizer import Tokenizer

        if language not in self._tokenizers:
            self._tokenizers[language] = Tokenizer(
                model.hf_tokenizer,
                model.model.is_multilingual,
                task="transcribe",
                language=language,
            )
        return self._tokenizers[language]

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
        """Decode one live turn (blocking); falls back to the engine where it must."""
        t0 = time.perf_counter()
        lang = language or (None if self.engine.multilingual else "en")
        audio = pcm16_to_float(pcm16, sample_rate_hz)
        duration_s = audio.size / WHISPER_RATE_HZ
        if (
            self.engine.multilingual
            or lang != "en"
            or word_timestamps
            or prompt
            or duration_s + self.margin_s > self.max_window_s
        ):
            return self.engine.transcribe_sync(
                pcm16,
                sample_rate_hz=sample_rate_hz,
                language=language,
                beam_size=beam_size,
                word_timestamps=word_timestamps,
                prompt=prompt,
            )
        if audio.size < WHISPER_RATE_HZ // 100:
            return Transcript("", lang, (), duration_s, 0.0, {"model": self.engine.model_name})
        import ctranslate2

        model = self.engine.model
        window = self.window_s(duration_s)
        n = int(window * WHISPER_RATE_HZ)
        feats = model.feature_extractor(np.pad(audio, (0, max(0, n - audio.size))))
        feats = np.ascontiguousarray(feats[:, : int(window * FRAMES_PER_S)][None], dtype=np.float32)
        tok = self._tokenizer(model, lang)
        prompt_ids = [*tok.sot_sequence, tok.no_timestamps]
        result = model.model.generate(
            ctranslate2.StorageView.from_array(feats),
            [prompt_ids],
            beam_size=beam_size or self.engine.beam_size,
            max_length=int(16 + self.tokens_per_s * duration_s),
            suppress_blank=True,
            suppress_tokens=[-1],
        )
        ids = [t for t in result[0].sequences_ids[0] if t < tok.eot]
        text = tok.decode(ids).strip()
        segments = (Segment(0.0, duration_s, text),) if text else ()
        return Transcript(
            text=text,
            language=lang,
            segments=segments,
            duration_s=duration_s,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            extra={"model": self.engine.model_name, "window_s": window},
        )


def live_turn_stt(engine: SpeechToText) -> SpeechToText:
    """Wrap a faster-whisper engine for live turns; other engines pass through."""
    return ShortWindowWhisper(engine) if isinstance(engine, FasterWhisperSTT) else engine
