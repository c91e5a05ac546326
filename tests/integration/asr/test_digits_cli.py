"""`hotline transcribe --grammar digits` end to end with the real tiny.en model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from asr.commands import app
from models import Registry

pytestmark = pytest.mark.slow


def ulaw_file(path: Path, samples: np.ndarray) -> Path:
    buf = io.BytesIO()
    sf.write(buf, samples, 8_000, format="WAV", subtype="ULAW")
    path.write_bytes(buf.getvalue())
    return path


def test_digits_json_lines_keep_the_schema_and_add_digits(
    tmp_path: Path, registry: Registry, fsdd_dir: Path
) -> None:
    one = ulaw_file(tmp_path / "one.wav", sf.read(fsdd_dir / "7_theo_9.wav", dtype="int16")[0])
    parts = []
    for name in ("4_theo_12.wav", "5_jackson_20.wav", "3_theo_31.wav", "2_jackson_44.wav"):
        parts += [sf.read(fsdd_dir / name, dtype="int16")[0], np.zeros(1600, dtype=np.int16)]
    many = ulaw_file(tmp_path / "many.wav", np.concatenate(parts[:-1]))
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"\x00garbage" * 30)
    quiet = ulaw_file(tmp_path / "quiet.wav", np.zeros(8_000, dtype=np.int16))

    result = CliRunner().invoke(
        app,
        [str(one), str(bad), str(many), str(quiet), "--grammar", "digits", "--json",
         "--models-dir", str(registry.models_dir)],
    )  # fmt: skip

    assert result.exit_code == 1, result.output  # the bad file failed, the others were read
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["file"] for line in lines] == [str(one), str(bad), str(many), str(quiet)]
    single, err, string, silence = lines
    assert {"file", "text", "language", "segments", "digits", "confidences"} <= set(single)
    assert single["digits"] == "7" and len(single["confidences"]) == 1
    assert single["rejected"] is None
    assert string["digits"] == "4532" and len(string["confidences"]) == 4
    assert err["error"]["code"] == "audio_decode_failed"
    assert (silence["digits"], silence["rejected"]) == ("", "no_speech")


def test_digits_plain_output(tmp_path: Path, registry: Registry, fsdd_dir: Path) -> None:
    clip = ulaw_file(tmp_path / "d.wav", sf.read(fsdd_dir / "0_jackson_5.wav", dtype="int16")[0])

    result = CliRunner().invoke(
        app, [str(clip), "--grammar", "digits", "--models-dir", str(registry.models_dir)]
    )

    assert result.exit_code == 0, result.output
    assert f"{clip} [digits] 0" in result.stdout
