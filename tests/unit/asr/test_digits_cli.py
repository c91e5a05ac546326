"""`hotline transcribe --grammar digits` decisions that need no model."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from asr.commands import app


def test_digits_grammar_refuses_mandarin_before_loading_a_model(tmp_path: Path) -> None:
    missing = tmp_path / "no-models"
    result = CliRunner().invoke(
        app,
        ["x.wav", "--grammar", "digits", "--language", "zh", "--models-dir", str(missing)],
    )

    assert result.exit_code == 2
    assert "asr_language_unsupported" in result.output
    assert not missing.exists()


def test_unknown_grammar_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["x.wav", "--grammar", "dates"])
    assert result.exit_code == 2
