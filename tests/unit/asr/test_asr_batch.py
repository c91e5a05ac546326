"""The batch transcription core: one Transcript per file, failures kept, order kept."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf

from asr.batch import transcribe_recordings
from asr.fake import FakeSTT


def write_tone(path: Path, rate_hz: int, subtype: str) -> Path:
    t = np.arange(rate_hz) / rate_hz
    buf = io.BytesIO()
    sf.write(buf, 0.4 * np.sin(2 * np.pi * 300 * t), rate_hz, format="WAV", subtype=subtype)
    path.write_bytes(buf.getvalue())
    return path


async def test_each_recording_transcribed_in_order_and_bad_files_reported(tmp_path: Path) -> None:
    good1 = write_tone(tmp_path / "a.wav", 8_000, "ULAW")
    bad = tmp_path / "b.wav"
    bad.write_bytes(b"garbage" * 50)
    good2 = write_tone(tmp_path / "c.wav", 44_100, "PCM_16")
    fake = FakeSTT(("first", "second"))

    out = await transcribe_recordings([good1, bad, good2], fake, language="en")

    assert [t.text for t in out] == ["first", "", "second"]
    assert [t.extra["file"] for t in out] == [str(good1), str(bad), str(good2)]
    assert out[1].extra["error"]["code"] == "audio_decode_failed"
    assert "error" not in out[0].extra
    # the engine always gets 16 kHz PCM16, whatever the file was
    assert [c.sample_rate_hz for c in fake.calls] == [16_000, 16_000]
    assert [c.language for c in fake.calls] == ["en", "en"]
    assert out[0].duration_s == 1.0
