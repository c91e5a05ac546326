"""`hotline transcribe` end to end with the real tiny.en model, through Typer's CliRunner."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from asr.commands import app
from models import Registry
from tts.piper import PiperTTS

pytestmark = pytest.mark.slow


def test_transcribe_json_lines_and_a_bad_file(
    tmp_path: Path, piper: PiperTTS, registry: Registry, fsdd_dir: Path
) -> None:
    import numpy as np

    chunks = list(piper.synthesize_stream("Please transfer me to billing."))
    speech = tmp_path / "speech.wav"
    pcm = np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2")
    sf.write(speech, pcm, chunks[0].sample_rate_hz, subtype="PCM_16")
    digit, rate = sf.read(fsdd_dir / "2_jackson_3.wav", dtype="int16")
    phone = tmp_path / "phone.wav"
    buf = io.BytesIO()
    sf.write(buf, digit, rate, format="WAV", subtype="ULAW")
    phone.write_bytes(buf.getvalue())
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"\x00garbage" * 30)

    result = CliRunner().invoke(
        app,
        [str(speech), str(bad), str(phone), "--language", "en", "--json", "--beam", "1",
         "--models-dir", str(registry.models_dir)],
    )  # fmt: skip

    assert result.exit_code == 1, result.output  # one file failed, the others were done
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["file"] for line in lines] == [str(speech), str(bad), str(phone)]
    ok, err, tel = lines
    text = ok["text"].lower()
    assert "transfer" in text and "bill" in text and ok["language"] == "en", text
    assert ok["segments"] and {"start", "end", "text"} <= set(ok["segments"][0])
    assert ok["segments"][0]["end"] > ok["segments"][0]["start"]
    assert err["error"]["code"] == "audio_decode_failed"
    assert tel["text"]  # the 8 kHz μ-law file decodes and yields speech


def test_transcribe_plain_text_output(tmp_path: Path, piper: PiperTTS, registry: Registry) -> None:
    import numpy as np

    chunks = list(piper.synthesize_stream("Hello there."))
    speech = tmp_path / "hello.wav"
    sf.write(speech, np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2"), 22_050)

    result = CliRunner().invoke(
        app, [str(speech), "--language", "en", "--models-dir", str(registry.models_dir)]
    )

    assert result.exit_code == 0, result.output
    assert "hello" in result.stdout.lower()
    assert "→" in result.stdout  # a timed segment line
