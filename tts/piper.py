"""Piper (VITS, ONNX) adapter: one voice per process, audio streamed sentence by sentence.

Why: a caller hears the bot sooner when the first sentence plays while the rest is still
being synthesized, so the text is split into sentences and each one is yielded as soon as
it is ready (``tts.sentences.split_sentences``; a long first sentence is also cut at its
first clause break to shorten time-to-first-chunk). The ONNX session is shared by every call
(``Registry.shared``); onnxruntime sessions are thread-safe and piper locks its phonemizer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from models import Registry
from models.errors import ModelError
from tts.base import AudioChunk, Capabilities
from tts.errors import SynthesisFailed, TTSModelUnavailable, UnsupportedLanguage
from tts.sentences import split_sentences


class PiperTTS:
    """Text-to-speech with a Piper voice from the model registry (default: en_US joe medium)."""

    def __init__(
        self, registry: Registry, *, voice: str = "piper-joe-en-us", steady: bool = False
    ) -> None:
        """``steady`` turns Piper's generator noise off: the same text gives the same audio,
        which tests and benchmarks need to be reproducible (a live bot keeps the noise)."""
        self.registry = registry
        self.voice_name = voice
        self.steady = steady
        try:
            entry = registry.entry(voice)
            files = {f.path: registry.file_path(entry, f) for f in entry.files}
        except ModelError as e:
            raise TTSModelUnavailable(str(e)) from e
        onnx = [p for name, p in files.items() if name.endswith(".onnx")]
        conf = [p for name, p in files.items() if name.endswith(".onnx.json")]
        if not onnx or not conf:
            raise TTSModelUnavailable(f"voice {voice}: catalog entry lacks .onnx/.onnx.json")
        self._onnx_path: Path = onnx[0]
        self._config_path: Path = conf[0]
        try:
            config = json.loads(self._config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise TTSModelUnavailable(f"voice {voice}: cannot read config: {e}") from e
        self.capabilities = Capabilities(
            languages=tuple(entry.languages),
            sample_rate_hz=int(config["audio"]["sample_rate"]),
            streaming=True,
        )

    def _load(self) -> Any:
        from piper import PiperVoice

        if not self._onnx_path.is_file():
            raise TTSModelUnavailable(
                f"voice {self.voice_name} not installed; pip install "
                f"{self.registry.entry(self.voice_name).requirement}"
            )
        try:
            return PiperVoice.load(self._onnx_path, config_path=self._config_path)
        except (RuntimeError, ValueError, OSError) as e:
            raise TTSModelUnavailable(f"voice {self.voice_name} failed to load: {e}") from e

    @property
    def voice(self) -> Any:
        """The process-wide ``PiperVoice``."""
        return self.registry.shared(("tts.piper", self.voice_name), self._load)

    def warm_up(self) -> None:
        """Load the voice and synthesize one word so the first call is fast."""
        for _ in self.synthesize_stream("Hello."):
            pass

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        """Yield one PCM16 chunk per sentence (blocking; run it in a worker thread)."""
        if language and language.lower().split("-")[0] not in self.capabilities.languages:
            raise UnsupportedLanguage(f"voice {self.voice_name} cannot speak {language!r}")
        from piper import SynthesisConfig

        voice = self.voice
        rate = self.capabilities.sample_rate_hz
        config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if self.steady else None
        for piece in split_sentences(text):
            try:
                chunks = list(voice.synthesize(piece, syn_config=config))
            except (RuntimeError, ValueError, KeyError) as e:
                raise SynthesisFailed(f"voice {self.voice_name}: {e}") from e
            for chunk in chunks:
                pcm = np.asarray(chunk.audio_int16_array, dtype="<i2").tobytes()
                if pcm:
                    yield AudioChunk(pcm16=pcm, sample_rate_hz=rate)
