"""audio_io on generated audio: every container/codec we promise decodes to mono 16 kHz PCM16."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.audio_io import (
    alaw_to_pcm16,
    decode_bytes,
    decode_file,
    pcm16_to_ulaw,
    ulaw_to_pcm16,
)
from asr.errors import AudioDecodeError


def tone(
    rate_hz: int, seconds: float = 0.5, freq_hz: float = 440.0, channels: int = 1
) -> np.ndarray:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    mono = 0.5 * np.sin(2 * np.pi * freq_hz * t)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


def encode(audio: np.ndarray, rate_hz: int, fmt: str, subtype: str | None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, rate_hz, format=fmt, subtype=subtype)
    return buf.getvalue()


def dominant_hz(pcm16: bytes, rate_hz: int) -> float:
    x = np.frombuffer(pcm16, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x))
    return float(np.fft.rfftfreq(x.size, 1 / rate_hz)[spectrum.argmax()])


@pytest.mark.parametrize(
    ("rate_hz", "channels", "fmt", "subtype"),
    [
        (16_000, 1, "WAV", "PCM_16"),
        (44_100, 2, "WAV", "PCM_24"),
        (48_000, 1, "WAV", "PCM_32"),
        (22_050, 1, "WAV", "FLOAT"),
        (11_025, 1, "WAV", "PCM_U8"),
        (8_000, 1, "WAV", "ULAW"),
        (8_000, 1, "WAV", "ALAW"),
        (24_000, 1, "MP3", None),
    ],
)
def test_decodes_to_mono_16k_keeping_pitch_and_length(rate_hz, channels, fmt, subtype) -> None:
    data = encode(tone(rate_hz, channels=channels), rate_hz, fmt, subtype)
    out = decode_bytes(data)
    assert out.sample_rate_hz == 16_000
    assert out.source_rate_hz == rate_hz
    assert out.source_channels == channels
    # mp3 adds encoder delay/padding; PCM and G.711 keep the exact length
    assert out.duration_s == pytest.approx(0.5, abs=0.1 if fmt == "MP3" else 0.002)
    assert dominant_hz(out.pcm16, 16_000) == pytest.approx(440.0, abs=5.0)


def test_ulaw_wav_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    path.write_bytes(encode(tone(8_000), 8_000, "WAV", "ULAW"))
    out = decode_file(path)
    assert out.source_format == "wav/ulaw"
    assert len(out.pcm16) == 2 * 8_000  # 0.5 s at 16 kHz


@pytest.mark.parametrize(
    "data",
    [b"", b"not audio at all" * 100, b"RIFF\x10\x00\x00\x00WAVEfmt garbage", bytes(range(256)) * 4],
)
def test_corrupt_or_unknown_bytes_raise_audio_decode_error(data: bytes) -> None:
    with pytest.raises(AudioDecodeError) as err:
        decode_bytes(data, name="bad.wav")
    assert err.value.code == "audio_decode_failed"
    assert "bad.wav" in err.value.message


def test_truncated_wav_keeps_what_is_there() -> None:
    data = encode(tone(16_000), 16_000, "WAV", "PCM_16")
    out = decode_bytes(data[: 44 + 3200 + 1])  # header + 0.1 s + a torn sample
    assert 0.09 <= out.duration_s <= 0.11


def test_missing_file_is_a_decode_error(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError):
        decode_file(tmp_path / "nope.wav")


def test_g711_tables_match_the_standard_library_reference() -> None:
    import audioop as ref  # stdlib G.711 reference (deprecated, present in 3.11)

    every_code = bytes(range(256))
    assert ulaw_to_pcm16(every_code) == ref.ulaw2lin(every_code, 2)
    assert alaw_to_pcm16(every_code) == ref.alaw2lin(every_code, 2)


def test_ulaw_round_trip_error_is_within_quantisation() -> None:
    x = (tone(8_000) * 32767).astype("<i2")
    back = np.frombuffer(ulaw_to_pcm16(pcm16_to_ulaw(x.tobytes())), dtype="<i2")
    err = np.abs(back.astype(np.int32) - x.astype(np.int32))
    # μ-law step is ≤ 1/16 of the segment: ≤ ~3.2 % of magnitude, ≤ 8 near zero
    assert np.all(err <= np.maximum(8, np.abs(x.astype(np.int32)) * 0.04))
