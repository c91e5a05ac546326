"""Shared QA test helpers: the default card (loaded once) and a call builder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.scorecard import Scorecard, load_default
from qa.transcript import CallTranscript, parse_call

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "qa" / "calls"


@pytest.fixture(scope="session")
def card() -> Scorecard:
    return load_default()


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


def load_fixture(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def make_call(
    lines: list[tuple[str, str] | tuple[str, str, float]],
    *,
    language: str = "en",
    turn_s: float = 3.0,
    **extra: object,
) -> CallTranscript:
    """Turns of ``turn_s`` seconds, 1 s apart; a third tuple element is the gap before it."""
    turns, t = [], 0.0
    for line in lines:
        speaker, text = line[0], line[1]
        t += line[2] if len(line) > 2 else 1.0  # type: ignore[misc]
        turns.append({"speaker": speaker, "start": t, "end": t + turn_s, "text": text})
        t += turn_s
    return parse_call({"call_id": "t", "language": language, "turns": turns, **extra})
