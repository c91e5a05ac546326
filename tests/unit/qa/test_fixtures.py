"""Every EN/ZH fixture call scored with the default card matches its human verdicts."""

from __future__ import annotations

from collections import defaultdict

import pytest

from qa.score import score_contact
from qa.scorecard import Scorecard
from qa.transcript import parse_call
from tests.unit.qa.conftest import fixture_files, load_fixture

ITEMS = {
    "greeting",
    "identity_verification",
    "recording_disclosure",
    "empathy",
    "forbidden_phrases",
    "rude_language",
    "resolution_confirmation",
    "closing",
    "hold_etiquette",
    "sensitive_data_disclosure",
}
CASES = [
    pytest.param(p, item, verdict, id=f"{p.stem}-{item}")
    for p in fixture_files()
    for item, verdict in load_fixture(p)["expected"].items()
]


@pytest.mark.parametrize(("path", "item", "verdict"), CASES)
def test_fixture_item_verdict(card: Scorecard, path, item: str, verdict: str) -> None:
    result = score_contact(parse_call(load_fixture(path)), card)
    got = result.items[item]
    assert got.verdict == verdict, (got.note, [(e.turn, e.matched) for e in got.evidence])


def test_fixtures_cover_every_item_pass_and_fail_in_both_languages() -> None:
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in fixture_files():
        data = load_fixture(p)
        for item, verdict in data["expected"].items():
            seen[(data["language"], item)].add(verdict)
    assert len(fixture_files()) >= 24
    for lang in ("en", "zh"):
        for item in ITEMS:
            assert {"pass", "fail"} <= seen[(lang, item)], (lang, item)


def test_default_card_item_ids_are_exactly_the_issue_list(card: Scorecard) -> None:
    assert [i.id for i in card.items] and {i.id for i in card.items} == ITEMS
    assert len(card.items) == len(ITEMS)


def test_failing_compliance_items_carry_evidence_with_times(card: Scorecard) -> None:
    for p in fixture_files():
        result = score_contact(parse_call(load_fixture(p)), card)
        for item in ("forbidden_phrases", "rude_language", "sensitive_data_disclosure"):
            r = result.items[item]
            if r.verdict == "fail":
                assert r.evidence, (p.stem, item)
                for e in r.evidence:
                    assert e.speaker == "agent" and e.end >= e.start
                    assert e.matched


def test_auto_fail_and_weighted_total(card: Scorecard) -> None:
    for p in fixture_files():
        data = load_fixture(p)
        result = score_contact(parse_call(data), card)
        auto_items = {i.id for i in card.items if i.auto_fail}
        expected_auto = any(data["expected"][i] == "fail" for i in auto_items)
        assert result.auto_fail is expected_auto
        applicable = [r for r in result.items.values() if r.verdict != "na"]
        weight = sum(r.weight for r in applicable)
        passed = sum(r.weight for r in applicable if r.verdict == "pass")
        assert result.score == pytest.approx(100 * passed / weight, abs=0.01)


def test_sensitive_evidence_is_masked(card: Scorecard) -> None:
    data = load_fixture(next(p for p in fixture_files() if "reads_full_card" in p.stem))
    result = score_contact(parse_call(data), card)
    matched = " ".join(
        m for e in result.items["sensitive_data_disclosure"].evidence for m in e.matched
    )
    assert "6467" in matched and "4539" not in matched
