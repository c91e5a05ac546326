"""Scorecard validation: every bad card names its file and item and carries a code."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import ScorecardError
from qa.scorecard import DEFAULT_PATH, load_scorecard, parse_scorecard

GOOD = """
version: 1
name: mini
checks:
  hello: {type: phrases, phrases: {en: [hello], zh: [您好]}}
  bye: {type: phrases, scope: {last_speaker_turns: 1}, phrases: {en: [goodbye]}}
sections:
  - id: s
    items:
      - {id: greeting, weight: 60, checks: [hello]}
      - {id: closing, weight: 40, checks: [bye]}
"""


def test_good_card_loads() -> None:
    card = parse_scorecard(GOOD, source="mini.yaml")
    assert [i.id for i in card.items] == ["greeting", "closing"]
    assert card.matchers("hello", "zh")


def test_default_card_loads_from_file() -> None:
    card = load_scorecard(DEFAULT_PATH)
    assert card.name == "default" and card.version == 1


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        (GOOD.replace("weight: 40", "weight: 30"), "scorecard_weights", "weights"),
        (GOOD.replace("checks: [bye]", "checks: [farewell]"), "scorecard_missing_check", "closing"),
        (
            GOOD.replace("type: phrases, scope", "type: vibes, scope"),
            "scorecard_unknown_check_type",
            "checks.bye",
        ),
        (
            GOOD.replace("phrases: {en: [hello], zh: [您好]}", "patterns: {en: ['(unclosed']}"),
            "scorecard_regex",
            "checks.hello",
        ),
        (GOOD.replace("weight: 60", "weight: -60"), "scorecard_schema", "greeting.weight"),
        (GOOD.replace("version: 1", "version: 9"), "scorecard_schema", ""),
        (GOOD.replace("id: closing", "id: greeting"), "scorecard_duplicate_id", "greeting"),
        ("version: 1\nname: [unclosed", "scorecard_yaml", ""),
        (GOOD + "\nupset: {check: nope}\n", "scorecard_missing_check", "upset"),
    ],
)
def test_bad_cards_raise_with_code_and_location(text: str, code: str, where: str) -> None:
    with pytest.raises(ScorecardError) as err:
        parse_scorecard(text, source="cards/mini.yaml")
    assert err.value.code == code
    assert "cards/mini.yaml" in str(err.value)
    assert where in str(err.value)


def test_order_check_referring_to_missing_check() -> None:
    text = GOOD.replace("  bye:", "  seq: {type: order, first: hello, then: account}\n  bye:")
    with pytest.raises(ScorecardError) as err:
        parse_scorecard(text, source="x.yaml")
    assert err.value.code == "scorecard_missing_check" and "checks.seq" in str(err.value)


def test_missing_file_is_a_scorecard_error(tmp_path: Path) -> None:
    with pytest.raises(ScorecardError) as err:
        load_scorecard(tmp_path / "nope.yaml")
    assert str(tmp_path / "nope.yaml") in str(err.value)
