"""`hotline transcribe FILE... [--language en|zh|auto] [--model NAME] [--json] [--beam N]
[--grammar free|digits]`.

Loads the model once for all files. A file that cannot be read prints an error line for
that file and the run goes on; the exit code is 1 if any file failed. ``--grammar digits``
reads each file as spoken digits (a card/account number or a menu choice) with
:class:`asr.digits.DigitRecognizer`; JSON lines then also carry ``digits``,
``confidences`` (one per digit) and ``rejected`` (why there are no digits, else null).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from asr.audio_io import decode_file
from asr.errors import ASRError, UnsupportedLanguage
from models import Registry

if TYPE_CHECKING:
    from asr.digits import DigitResult

app = typer.Typer(help="Transcribe audio files with the offline Whisper models.")


class Language(StrEnum):
    en = "en"
    zh = "zh"
    auto = "auto"


class Grammar(StrEnum):
    free = "free"
    digits = "digits"


def default_model(language: Language) -> str:
    """tiny.en for English (fast), multilingual base for Mandarin and auto-detection."""
    return "whisper-tiny-en" if language is Language.en else "whisper-base"


def _registry(models_dir: Path | None) -> Registry:
    from core.settings import Settings
    from models import CATALOG

    return Registry(CATALOG, models_dir=models_dir or Settings().models_dir)


@app.command("transcribe")
def transcribe(
    files: Annotated[list[Path], typer.Argument(help="wav / mp3 / 8 kHz μ-law wav files")],
    language: Annotated[Language, typer.Option(help="spoken language")] = Language.auto,
    model: Annotated[str | None, typer.Option(help="catalog model name")] = None,
    json_lines: Annotated[bool, typer.Option("--json", help="one JSON object per file")] = False,
    beam: Annotated[int, typer.Option(min=1, max=10, help="beam size")] = 5,
    models_dir: Annotated[Path | None, typer.Option(help="prepared models directory")] = None,
    grammar: Annotated[
        Grammar, typer.Option(help="free speech, or digits only (card numbers, menu choices)")
    ] = Grammar.free,
) -> None:
    """Print each file's text and timed segments, or its digits with --grammar digits."""
    from asr.digits import DigitRecognizer
    from asr.faster_whisper import FasterWhisperSTT

    digits_mode = grammar is Grammar.digits
    # the digits grammar is English digit words: tiny.en unless a model is named
    name = model or ("whisper-tiny-en" if digits_mode else default_model(language))
    lang = None if language is Language.auto else language.value
    try:
        if digits_mode and language is Language.zh:
            raise UnsupportedLanguage("--grammar digits recognises English digits only")
        engine = FasterWhisperSTT(_registry(models_dir), model=name, beam_size=beam)
        _ = engine.model  # load once, before the first file, so a missing model fails early
        recognizer = DigitRecognizer(engine, beam_size=beam) if digits_mode else None
    except ASRError as e:
        typer.echo(f"error: {e.code}: {e.message}", err=True)
        raise typer.Exit(2) from e
    failed = 0
    for path in files:
        try:
            audio = decode_file(path)
            if recognizer is not None:
                _print_digits(path, recognizer.recognize(audio.pcm16), json_lines)
                continue
            result = engine.transcribe_sync(
                audio.pcm16, sample_rate_hz=audio.sample_rate_hz, language=lang
            )
        except ASRError as e:
            failed += 1
            if json_lines:
                typer.echo(
                    json.dumps(
                        {"file": str(path), "error": {"code": e.code, "message": e.message}},
                        ensure_ascii=False,
                    )
                )
            else:
                typer.echo(f"{path}: error: {e.code}: {e.message}", err=True)
            continue
        segments = [
            {"start": round(s.start_s, 2), "end": round(s.end_s, 2), "text": s.text}
            for s in result.segments
        ]
        if json_lines:
            line = {
                "file": str(path),
                "text": result.text,
                "language": result.language,
                "segments": segments,
            }
            typer.echo(json.dumps(line, ensure_ascii=False))
        else:
            typer.echo(f"{path} [{result.language}] {result.text}")
            for s in segments:
                typer.echo(f"  [{s['start']:7.2f} → {s['end']:7.2f}] {s['text']}")
    if failed:
        raise typer.Exit(1)


def _print_digits(path: Path, result: DigitResult, json_lines: bool) -> None:
    """One file's digits: the usual JSON line plus ``digits``/``confidences``, or one text line."""
    if json_lines:
        line = {
            "file": str(path),
            "text": result.text,
            "language": "en",
            "segments": [],
            "digits": result.digits,
            "confidences": list(result.confidences),
            "rejected": result.rejected,  # "no_speech" / "out_of_grammar": why no digits
        }
        typer.echo(json.dumps(line, ensure_ascii=False))
    else:
        conf = " ".join(f"{c:.2f}" for c in result.confidences)
        why = f"confidence {conf}" if result.digits else (result.rejected or "no digits")
        typer.echo(f"{path} [digits] {result.digits or '-'}  ({why})")
