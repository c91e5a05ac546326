"""Prosody of one utterance from raw PCM16: loudness, pitch and speech rate.

Arousal shows in the voice before it shows in words ("fine." said shouting is not fine), so
emotion fuses these with the text. Pure numpy/scipy, ~1 ms per second of audio: short-time
RMS energy, autocorrelation pitch (75-400 Hz) on voiced frames, and speech rate as energy
envelope peaks (syllable nuclei) per second of voiced audio.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import find_peaks

from nlu.errors import NluInputError

_FRAME_S = 0.032
_HOP_S = 0.010


@dataclass(frozen=True)
class Prosody:
    energy_db: float  # mean RMS of voiced frames, dBFS
    pitch_hz: float  # median F0 of voiced frames (0 if none found)
    pitch_std_hz: float
    speech_rate_sps: float  # syllable-like peaks per voiced second
    voiced_ratio: float
    duration_s: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def arousal(self) -> float:
        """-1 (flat, quiet, slow) .. +1 (loud, high varied pitch, fast); 0 is typical."""
        if self.voiced_ratio == 0:
            return 0.0
        energy = np.clip((self.energy_db + 26.0) / 8.0, -1, 1)
        pitch_var = np.clip((self.pitch_std_hz - 25.0) / 25.0, -1, 1) if self.pitch_hz else 0.0
        rate = np.clip((self.speech_rate_sps - 4.0) / 2.0, -1, 1)
        return float(0.45 * energy + 0.3 * pitch_var + 0.25 * rate)


def _as_float(pcm16: bytes | np.ndarray) -> np.ndarray:
    if isinstance(pcm16, bytes | bytearray | memoryview):
        buf = bytes(pcm16)
        if len(buf) % 2:
            buf = buf[:-1]
        arr = np.frombuffer(buf, dtype="<i2")
    else:
        arr = np.asarray(pcm16)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32)
    return arr.astype(np.float32) / 32768.0


def extract_prosody(pcm16: bytes | np.ndarray, sample_rate_hz: int) -> Prosody:
    """Prosodic features of mono PCM16 audio (bytes little-endian, or an int16 array)."""
    if sample_rate_hz < 4000:
        raise NluInputError(
            f"sample rate {sample_rate_hz} Hz is too low for prosody (need >= 4000)"
        )
    x = _as_float(pcm16)
    duration = len(x) / sample_rate_hz
    frame, hop = int(_FRAME_S * sample_rate_hz), int(_HOP_S * sample_rate_hz)
    if len(x) < frame:
        return Prosody(-120.0, 0.0, 0.0, 0.0, 0.0, duration)
    n = 1 + (len(x) - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    frames = x[idx] * np.hanning(frame)[None, :].astype(np.float32)
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-12)
    db = 20 * np.log10(rms + 1e-9)
    voiced = db > max(-50.0, float(db.max()) - 30.0)
    if not voiced.any():
        return Prosody(float(db.mean()), 0.0, 0.0, 0.0, 0.0, duration)
    energy_db = float(20 * np.log10(np.sqrt((rms[voiced] ** 2).mean())))
    # pitch: autocorrelation via FFT on voiced frames
    vf = frames[voiced]
    lag_min, lag_max = int(sample_rate_hz / 400), min(int(sample_rate_hz / 75), frame - 1)
    spec = np.fft.rfft(vf, n=2 * frame, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :frame]
    ac = ac / (ac[:, :1] + 1e-12)
    seg = ac[:, lag_min:lag_max]
    best = seg.argmax(axis=1)
    strength = seg[np.arange(len(seg)), best]
    pitched = strength > 0.4
    f0 = sample_rate_hz / (best[pitched] + lag_min) if pitched.any() else np.array([])
    pitch = float(np.median(f0)) if len(f0) else 0.0
    pitch_std = float(np.std(f0)) if len(f0) > 1 else 0.0
    # speech rate: peaks of the smoothed voiced-energy envelope, >= 100 ms apart
    env = np.where(voiced, rms, 0.0)
    k = max(1, int(0.05 / _HOP_S))
    env = np.convolve(env, np.ones(k) / k, mode="same")
    peaks, _ = find_peaks(
        env, distance=max(1, int(0.1 / _HOP_S)), prominence=0.25 * float(env.max())
    )
    voiced_s = max(voiced.sum() * _HOP_S, 1e-3)
    return Prosody(
        energy_db=energy_db,
        pitch_hz=pitch,
        pitch_std_hz=pitch_std,
        speech_rate_sps=float(len(peaks) / voiced_s),
        voiced_ratio=float(voiced.mean()),
        duration_s=duration,
    )
