"""`hotline qa …`: score call files from the command line.

``hotline qa score CALL.json… [--scorecard FILE] [--json] [--embeddings]`` prints one line
per call (JSON with ``--json``). A bad file (malformed JSON, no agent turns, broken
timestamps, unknown language) is reported on stderr with its error code and the other files
are still scored; the exit code is 1 when any file failed, 2 when the scorecard is invalid.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa.checks import Embedder
from qa.errors import QaError
from qa.score import score_contact
from qa.scorecard import DEFAULT_PATH, load_scorecard
from qa.transcript import parse_call

app = typer.Typer(help="Automatic QA: score contacts against scorecards.", no_args_is_help=True)


@app.callback()
def _qa() -> None:
    """Automatic QA: score contacts against scorecards."""


@app.command("validate")
def validate(scorecard: Annotated[Path, typer.Argument(help="scorecard YAML")]) -> None:
    """Check a scorecard file (schema, check types, references, weights) without scoring."""
    try:
        card = load_scorecard(scorecard)
    except QaError as e:
        typer.echo(f"error: {e.code}: {e}", err=True)
        raise typer.Exit(2) from e
    typer.echo(f"ok: {card.name} revision {card.revision}, {len(card.items)} items")


def _expand(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    return out


def _embedder() -> Embedder:
    from core.settings import load_settings
    from models import CATALOG, Registry
    from qa.embedding import load_e5

    return load_e5(Registry(CATALOG, models_dir=load_settings().models_dir))


@app.command("score")
def score(
    calls: Annotated[list[Path], typer.Argument(help="call JSON files (or folders of them)")],
    scorecard: Annotated[
        Path | None, typer.Option("--scorecard", "-s", help="scorecard YAML (default: built-in)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    embeddings: Annotated[
        bool, typer.Option("--embeddings", help="run semantic checks with the e5 embedder")
    ] = False,
) -> None:
    """Score call files: {"call_id","language","turns":[{"speaker","start","end","text"}]}."""
    try:
        card = load_scorecard(scorecard or DEFAULT_PATH)
    except QaError as e:
        typer.echo(f"error: {e.code}: {e}", err=True)
        raise typer.Exit(2) from e
    embedder = _embedder() if embeddings else None
    failed = 0
    for path in _expand(calls):
        try:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as e:
                raise QaError(f"cannot read: {e.strerror or e}", code="transcript_io") from e
            call = parse_call(text, source=path.stem)
            result = score_contact(call, card, embedder=embedder)
        except QaError as e:
            failed += 1
            typer.echo(f"error: {path}: {e.code}: {e}", err=True)
            continue
        if as_json:
            typer.echo(json.dumps(result.summary(), ensure_ascii=False))
        else:
            failed_items = ", ".join(result.failed_items) or "-"
            flag = "AUTO-FAIL" if result.auto_fail else "ok"
            typer.echo(f"{result.call_id}\t{result.score}\t{flag}\tfailed: {failed_items}")
    if failed:
        raise typer.Exit(1)
