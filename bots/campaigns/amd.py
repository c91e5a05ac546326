"""Answering-machine detection from the first seconds of an answered call's audio.

Why these features: a person answers with a short greeting ("Hello?") and then waits for the
caller, while a voicemail plays a long, continuous greeting and then a beep. The rules follow
Asterisk's ``app_amd`` (initial silence, greeting length, silence after the greeting, number
of words; defaults 2500/1500/800 ms and 3 words) and add a beep detector: an FFT tone between
900 and 2100 Hz that holds one frequency for ≥ 120 ms with most of the frame's energy in a
narrow band, which speech never does. Energy thresholds adapt to the call's noise floor.

Accuracy on synthetic clips (short greetings vs long voicemail greetings ± beep, made with
espeak-ng / Piper) is measured by ``tests/unit/campaigns/test_amd.py`` and reported there.
Pure numpy; runs in well under a millisecond per second of audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class AmdLabel(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class AmdConfig:
    frame_ms: int = 20
    initial_silence_ms: int = 2500
    greeting_ms: int = 1500
    after_greeting_silence_ms: int = 800
    total_analysis_ms: int = 5000
    min_word_ms: int = 100
    between_words_silence_ms: int = 120
    max_words: int = 3
    beep_min_ms: int = 120
    beep_band_hz: tuple[float, float] = (900.0, 2100.0)
    beep_tonality: float = 0.6


@dataclass(frozen=True)
class AmdResult:
    label: AmdLabel
    confidence: float
    reason: str
    decided_at_ms: int
    greeting_ms: int = 0
    initial_silence_ms: int = 0
    words: int = 0
    beep_at_ms: int | None = None


def _frames(x: np.ndarray, size: int) -> np.ndarray:
    n = len(x) // size
    return x[: n * size].reshape(n, size)


def tonal_frames(x: np.ndarray, sr: int, cfg: AmdConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: is it a pure tone in the beep band, and its peak frequency."""
    size = int(sr * cfg.frame_ms / 1000)
    frames = _frames(x, size) * np.hanning(size)
    spec = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / sr)
    peak = spec.argmax(axis=1)
    peak_hz = freqs[peak]
    total = spec.sum(axis=1) + 1e-12
    bins = max(1, round(60 / (freqs[1] - freqs[0])))  # ±60 Hz around the peak
    idx = np.arange(spec.shape[1])
    near = np.abs(idx[None, :] - peak[:, None]) <= bins
    ratio = (spec * near).sum(axis=1) / total
    lo, hi = cfg.beep_band_hz
    return (ratio >= cfg.beep_tonality) & (peak_hz >= lo) & (peak_hz <= hi), peak_hz


def find_beep(x: np.ndarray, sr: int, cfg: AmdConfig, voiced: np.ndarray) -> int | None:
    """Start (ms) of the first steady tone ≥ ``beep_min_ms`` in the beep band, else None."""
    tonal, peak_hz = tonal_frames(x, sr, cfg)
    tonal &= voiced[: len(tonal)]
    need = max(1, cfg.beep_min_ms // cfg.frame_ms)
    run = 0
    for i in range(len(tonal)):
        steady = run > 0 and abs(peak_hz[i] - peak_hz[i - 1]) <= 40
        run = (run + 1 if steady else 1) if tonal[i] else 0
        if run >= need:
            return (i - run + 1) * cfg.frame_ms
    return None


def voiced_frames(x: np.ndarray, sr: int, cfg: AmdConfig) -> np.ndarray:
    size = int(sr * cfg.frame_ms / 1000)
    rms = np.sqrt((_frames(x, size) ** 2).mean(axis=1) + 1e-12)
    if len(rms) == 0:
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(rms, 10))
    threshold = max(floor * 4.0, 0.01 * float(rms.max()), 150 / 32768)
    return rms > threshold


def detect(
    pcm16: bytes | np.ndarray, sample_rate_hz: int, cfg: AmdConfig | None = None
) -> AmdResult:
    """Classify the start of an answered call as human, machine or unknown."""
    cfg = cfg or AmdConfig()
    x = np.frombuffer(pcm16, dtype=np.int16) if isinstance(pcm16, bytes) else np.asarray(pcm16)
    x = x.astype(np.float32) / 32768.0 if x.dtype == np.int16 else x.astype(np.float32)
    x = x[: int(sample_rate_hz * cfg.total_analysis_ms / 1000)]
    voiced = voiced_frames(x, sample_rate_hz, cfg)
    beep = find_beep(x, sample_rate_hz, cfg, voiced)
    f = cfg.frame_ms
    # Speech runs, with beep frames removed and short gaps bridged into one word.
    speech = voiced.copy()
    if beep is not None:
        speech[beep // f :] = False
    words: list[tuple[int, int]] = []
    start = gap = None
    for i, v in enumerate(speech):
        if v:
            if start is None:
                start = i
            gap = None
        elif start is not None:
            gap = i if gap is None else gap
            if (i - gap + 1) * f >= cfg.between_words_silence_ms:
                if (gap - start) * f >= cfg.min_word_ms:
                    words.append((start, gap))
                start = gap = None
    if start is not None:
        end = gap if gap is not None else len(speech)
        if (end - start) * f >= cfg.min_word_ms:
            words.append((start, end))
    total_ms = len(speech) * f
    initial_ms = words[0][0] * f if words else total_ms
    common = {"initial_silence_ms": initial_ms, "words": len(words), "beep_at_ms": beep}
    if beep is not None:
        return AmdResult(AmdLabel.MACHINE, 0.95, "beep", beep, **common)
    if not words:
        if initial_ms >= cfg.initial_silence_ms:
            return AmdResult(AmdLabel.MACHINE, 0.5, "initial_silence", initial_ms, **common)
        return AmdResult(AmdLabel.UNKNOWN, 0.0, "too_short", total_ms, **common)
    # The greeting: words until the first silence of ``after_greeting_silence_ms``.
    g_start, g_end = words[0][0], words[0][1]
    n_words = 1
    for ws, we in words[1:]:
        if (ws - g_end) * f >= cfg.after_greeting_silence_ms:
            break
        g_end = we
        n_words += 1
    greeting_ms = (g_end - g_start) * f
    common["greeting_ms"] = greeting_ms
    if greeting_ms > cfg.greeting_ms:
        conf = min(0.95, 0.6 + (greeting_ms - cfg.greeting_ms) / 4000)
        return AmdResult(
            AmdLabel.MACHINE, conf, "long_greeting", g_start * f + cfg.greeting_ms, **common
        )
    if n_words >= cfg.max_words:
        return AmdResult(AmdLabel.MACHINE, 0.7, "many_words", g_end * f, **common)
    silence_after = ((words[n_words][0] if n_words < len(words) else len(speech)) - g_end) * f
    if silence_after >= cfg.after_greeting_silence_ms:
        conf = min(0.95, 0.6 + (cfg.greeting_ms - greeting_ms) / 3000)
        return AmdResult(
            AmdLabel.HUMAN,
            conf,
            "short_greeting_then_silence",
            g_end * f + cfg.after_greeting_silence_ms,
            **common,
        )
    return AmdResult(AmdLabel.UNKNOWN, 0.3, "undecided", total_ms, **common)
