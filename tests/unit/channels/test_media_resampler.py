import numpy as np

from channels.media import Resampler


def test_streaming_resampler_keeps_duration_and_passes_same_rate_through() -> None:
    tone = (np.sin(np.arange(8000 * 2) * 2 * np.pi * 440 / 8000) * 8000).astype("<i2")
    up = Resampler(8000, 16000)
    out = b"".join(up(tone[i : i + 160].tobytes()) for i in range(0, tone.size, 160))
    assert 0 <= 32000 - len(out) // 2 < 800  # 2 s at 16 kHz, less ≤ 50 ms filter delay
    same = Resampler(16000, 16000)
    assert same(b"\x01\x00\x02\x00") == b"\x01\x00\x02\x00"
    assert up(b"") == b""
