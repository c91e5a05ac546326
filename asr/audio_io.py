"""Decode audio files and bytes into mono PCM16 at 16 kHz, the one format ASR takes.

Why: recordings arrive as PCM wav of any width/rate/channel count, mp3, and telephone
8 kHz G.711 μ-law/A-law wav. ``soundfile`` (libsndfile) reads every wav variant including
G.711 exactly; PyAV (FFmpeg) handles the rest (mp3, ogg, m4a…). Anything neither can read
raises :class:`AudioDecodeError` (``audio_decode_failed``) naming the input, never a library
exception. G.711 codecs for raw telephone frames (no container) are here too, because the
Twilio-style and AudioSocket transports hand us bare μ-law bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asr.errors import AudioDecodeError

TARGET_RATE_HZ = 16_000


@dataclass(frozen=True)
class DecodedAudio:
    """Mono PCM16 little-endian at ``sample_rate_hz`` plus what the source was."""

    pcm16: bytes
    sample_rate_hz: int
    source_rate_hz: int
    source_channels: int
    source_format: str

    @property
    def duration_s(self) -> float:
        return len(self.pcm16) / 2 / self.sample_rate_hz


def _to_pcm16(audio: np.ndarray, rate_hz: int, target_rate_hz: int) -> bytes:
    """float [-1,1] (frames × channels) → mono PCM16 at the target rate."""
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    audio = audio.astype(np.float32, copy=False)
    if rate_hz != target_rate_hz and audio.size:
        import soxr

        audio = soxr.resample(audio, rate_hz, target_rate_hz, quality="HQ")
    return (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


def _decode_soundfile(data: bytes) -> tuple[np.ndarray, int, int, str]:
    import soundfile as sf

    with sf.SoundFile(io.BytesIO(data)) as f:
        audio = f.read(dtype="float32", always_2d=True)
        return audio, f.samplerate, f.channels, f"{f.format}/{f.subtype}".lower()


def _decode_av(data: bytes) -> tuple[np.ndarray, int, int, str]:
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        channels = stream.codec_context.channels or 1
        rate = stream.codec_context.sample_rate
        # resample to packed float32 keeping the source rate/layout; soxr does the rate change
        resampler = av.AudioResampler(format="flt", layout=stream.layout.name, rate=rate)
        parts: list[np.ndarray] = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1, channels))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1, channels))
        fmt = f"{container.format.name}/{stream.codec_context.name}"
    if not parts:
        raise ValueError("no audio frames decoded")
    return np.concatenate(parts), rate, channels, fmt


def decode_bytes(
    data: bytes, *, name: str = "<bytes>", target_rate_hz: int = TARGET_RATE_HZ
) -> DecodedAudio:
    """Decode a whole audio file held in memory into mono PCM16 at ``target_rate_hz``."""
    if not data:
        raise AudioDecodeError(f"{name}: empty audio")
    errors: list[str] = []
    for decoder in (_decode_soundfile, _decode_av):
        try:
            audio, rate, channels, fmt = decoder(data)
        except Exception as e:  # each library has its own error zoo: collect, re-raise below
            errors.append(f"{decoder.__name__[8:]}: {e}")
            continue
        if rate <= 0 or audio.size == 0:
            errors.append(f"{decoder.__name__[8:]}: no samples")
            continue
        pcm = _to_pcm16(audio, rate, target_rate_hz)
        return DecodedAudio(pcm, target_rate_hz, rate, channels, fmt)
    raise AudioDecodeError(f"{name}: not a readable audio file ({'; '.join(errors)})")


def decode_file(path: str | Path, *, target_rate_hz: int = TARGET_RATE_HZ) -> DecodedAudio:
    """Decode a wav/mp3/… file into mono PCM16 at ``target_rate_hz``."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise AudioDecodeError(f"{p}: cannot read ({e.strerror or e})") from e
    return decode_bytes(data, name=str(p), target_rate_hz=target_rate_hz)


# -- G.711 for bare telephone frames ----------------------------------------------------
def _ulaw_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.uint8)
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    mag = (((mantissa.astype(np.int32) << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -mag, mag).astype(np.int16)


def _alaw_table() -> np.ndarray:
    a = np.arange(256, dtype=np.uint8) ^ 0x55
    sign = a & 0x80
    exponent = (a >> 4) & 0x07
    mantissa = (a & 0x0F).astype(np.int32)
    mag = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << (exponent - 1))
    return np.where(sign != 0, mag, -mag).astype(np.int16)


_ULAW = _ulaw_table()
_ALAW = _alaw_table()


def ulaw_to_pcm16(data: bytes) -> bytes:
    """G.711 μ-law bytes → PCM16 little-endian at the same rate (ITU-T G.711 table)."""
    return _ULAW[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def alaw_to_pcm16(data: bytes) -> bytes:
    """G.711 A-law bytes → PCM16 little-endian at the same rate."""
    return _ALAW[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes()


def pcm16_to_ulaw(pcm16: bytes) -> bytes:
    """PCM16 → G.711 μ-law (for telephone output and for tests)."""
    x = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()
