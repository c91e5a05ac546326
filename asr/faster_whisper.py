"""faster-whisper (CTranslate2 Whisper) adapter: one shared model per process, many calls.

Why this shape:
- Whisper weights cost ~75 MB (tiny.en) / ~150 MB (base) resident; issue 4 asks for ≤ 60 MB per
  extra call, so every engine instance shares one ``WhisperModel`` per (model, compute_type)
  through ``Registry.shared``. CTranslate2 queues concurrent calls on its worker(s).
- Live turns are short and already cut by Silero VAD + smart-turn upstream, so Whisper's own
  VAD filter stays off (it would only add latency and clip word onsets).
- Mandarin: Whisper often writes Traditional characters for Mandarin speech. An initial prompt
  in Simplified Chinese (``以下是普通话的句子。``) steers the decoder to Simplified script, and
  ``condition_on_previous_text`` keeps later windows in the same script. With ``language=None``
  the language is detected first; when it comes out as ``zh`` the decode restarts with the
  prompt (costs one extra encoder pass, only for Mandarin audio in auto mode).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

from asr.base import Capabilities, Segment, Transcript, WordTiming
from asr.errors import ASRModelUnavailable, TranscriptionFailed, UnsupportedLanguage
from models import Registry
from models.errors import ModelError, ModelMissing

WHISPER_RATE_HZ = 16_000
# Simplified-script steering prompt for Mandarin (see module docstring).
ZH_SIMPLIFIED_PROMPT = "以下是普通话的句子。"
_AUTO = {None, "", "auto"}


def pcm16_to_float(pcm16: bytes, sample_rate_hz: int) -> np.ndarray:
    """PCM16 mono bytes at any rate → float32 in [-1, 1] at 16 kHz (soxr, high quality)."""
    if len(pcm16) % 2:
        pcm16 = pcm16[:-1]  # a torn final sample is dropped rather than failing the turn
    audio = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
    if sample_rate_hz != WHISPER_RATE_HZ and audio.size:
        import soxr

        audio = soxr.resample(audio, sample_rate_hz, WHISPER_RATE_HZ, quality="HQ")
        audio = audio.astype(np.float32, copy=False)
    return audio


def normalize_peak(audio: np.ndarray, *, target: float = 0.5, max_gain: float = 32.0) -> np.ndarray:
    """Raise quiet audio so its peak reaches ``target`` (never lowers, gain capped).

    Why: Whisper's log-mel input is level-dependent; quiet telephone speech (FSDD has a speaker
    peaking at -30 dBFS) is read as silence and hallucinated as "Thank you.". The cap keeps
    line noise in a near-silent turn from being blown up into "speech".
    """
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak <= 0.0 or peak >= target:
        return audio
    return audio * min(target / peak, max_gain)


class FasterWhisperSTT:
    """Speech-to-text with faster-whisper, model loaded lazily once per process.

    Call :meth:`warm_up` at start-up so the first caller does not pay the load time.
    ``cpu_threads`` / ``num_workers`` of the first instance that loads a given model win.
    """

    def __init__(
        self,
        registry: Registry,
        *,
        model: str = "whisper-tiny-en",
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int = 1,
        num_workers: int = 1,
        no_speech_threshold: float | None = 0.6,
        normalize_gain: bool = False,
    ) -> None:
        self.registry = registry
        self.model_name = model
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads
        self.num_workers = num_workers
        self.beam_size = beam_size
        # None: never drop a window as "no speech" (upstream VAD already decided it is speech)
        self.no_speech_threshold = no_speech_threshold
        self.normalize_gain = normalize_gain
        try:
            entry = registry.entry(model)
        except ModelMissing as e:
            raise ASRModelUnavailable(str(e)) from e
        langs = tuple(lang for lang in entry.languages if lang != "multilingual")
        self.multilingual = "multilingual" in entry.languages
        self.capabilities = Capabilities(languages=langs, streaming=False)
        self._load_lock = threading.Lock()

    # -- model -------------------------------------------------------------------------
    def _model_dir(self) -> str:
        entry = self.registry.entry(self.model_name)
        try:
            return str(self.registry.path(self.model_name))
        except ModelMissing:
            if entry.join is None:
                raise
            # split weights (whisper-base) are joined once into models_dir, sha256-checked
            return str(self.registry.prepare(self.model_name))

    def _load(self) -> Any:
        from faster_whisper import WhisperModel

        try:
            path = self._model_dir()
            return WhisperModel(
                path,
                device="cpu",
                compute_type=self.compute_type,
                cpu_threads=self.cpu_threads,
                num_workers=self.num_workers,
            )
        except ModelError as e:
            raise ASRModelUnavailable(f"{self.model_name}: {e}") from e
        except (RuntimeError, ValueError, OSError) as e:
            raise ASRModelUnavailable(f"{self.model_name} failed to load: {e}") from e

    @property
    def model(self) -> Any:
        """The process-wide ``WhisperModel`` for (model, compute_type)."""
        key = ("asr.faster_whisper", self.model_name, self.compute_type)
        return self.registry.shared(key, self._load)

    def warm_up(self) -> None:
        """Load the model and decode 0.5 s of silence so the first real turn is fast."""
        self.transcribe_sync(b"\x00\x00" * (WHISPER_RATE_HZ // 2), sample_rate_hz=WHISPER_RATE_HZ)

    # -- transcription -----------------------------------------------------------------
    def _resolve_language(self, language: str | None) -> str | None:
        if language in _AUTO:
            return None if self.multilingual else self.capabilities.languages[0]
        lang = language.lower().split("-")[0]  # "zh-CN" → "zh", "en-US" → "en"
        if not self.multilingual and lang not in self.capabilities.languages:
            raise UnsupportedLanguage(
                f"model {self.model_name} only transcribes {', '.join(self.capabilities.languages)}"
                f"; use whisper-base for {language!r}"
            )
        return lang

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
        """Transcribe one utterance or file (blocking; see ``asr.base.transcribe``)."""
        t0 = time.perf_counter()
        lang = self._resolve_language(language)
        audio = pcm16_to_float(pcm16, sample_rate_hz)
        if self.normalize_gain:
            audio = normalize_peak(audio)
        duration_s = audio.size / WHISPER_RATE_HZ
        if audio.size < WHISPER_RATE_HZ // 100:  # < 10 ms: nothing to decode
            return Transcript("", lang, (), duration_s, 0.0, {"model": self.model_name})
        opts: dict[str, Any] = {
            "beam_size": beam_size or self.beam_size,
            "word_timestamps": word_timestamps,
            "vad_filter": False,
            "no_speech_threshold": self.no_speech_threshold,
        }
        model = self.model
        try:
            segments, info = model.transcribe(
                audio, language=lang, initial_prompt=self._prompt(lang, prompt), **opts
            )
            if lang is None and info.language == "zh":
                # detected Mandarin: redo with the Simplified-script prompt (module docstring)
                segments, info = model.transcribe(
                    audio, language="zh", initial_prompt=self._prompt("zh", prompt), **opts
                )
            segs = _segments(segments)
        except (RuntimeError, ValueError) as e:
            raise TranscriptionFailed(f"{self.model_name}: {e}") from e
        sep = "" if info.language in ("zh", "ja") else " "  # CJK has no spaces between segments
        return Transcript(
            text=sep.join(s.text for s in segs),
            language=info.language,
            segments=segs,
            duration_s=duration_s,
            elapsed_ms=(time.perf_counter() - t0) * 1000,
            extra={"model": self.model_name, "language_probability": info.language_probability},
        )

    @staticmethod
    def _prompt(lang: str | None, prompt: str | None) -> str | None:
        if lang == "zh":
            return ZH_SIMPLIFIED_PROMPT + (prompt or "")
        return prompt


def _segments(segments: Iterable[Any]) -> tuple[Segment, ...]:
    out = []
    for s in segments:
        words = tuple(
            WordTiming(w.word.strip(), float(w.start), float(w.end), float(w.probability))
            for w in (s.words or ())
        )
        text = s.text.strip()
        if text:
            out.append(Segment(float(s.start), float(s.end), text, words))
    return tuple(out)
