"""Each check type on small hand-made calls, with a one-item card per check."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from qa.score import score_contact
from qa.scorecard import parse_scorecard
from qa.sensitive import cn_id_ok, find_sensitive, luhn_ok
from tests.unit.qa.conftest import make_call

UPSET = "upset: {check: mad}\n"
MAD = "  mad: {type: phrases, speaker: customer, phrases: {en: [angry, ridiculous]}}\n"


def one_item(check_yaml: str, *, applies: str = "", extra_checks: str = "") -> object:
    text = (
        "version: 1\nname: t\n"
        + UPSET
        + "checks:\n"
        + MAD
        + "  it:\n"
        + "".join(f"    {line}\n" for line in check_yaml.strip().splitlines())
        + extra_checks
        + "sections:\n  - id: s\n    items:\n"
        + f"      - {{id: item, weight: 100, checks: [it]{applies}}}\n"
    )
    return parse_scorecard(text, source="t.yaml")


def verdict(card, call) -> str:
    return score_contact(call, card).items["item"].verdict


def test_time_window() -> None:
    card = one_item(
        "type: time_window\ncheck: hi\nwithin_s: 10",
        extra_checks="  hi: {type: phrases, phrases: {en: [hello]}}\n",
    )
    assert verdict(card, make_call([("agent", "Hello there")])) == "pass"
    late = make_call([("customer", "Anyone?"), ("agent", "Hello, sorry", 12.0)])
    assert verdict(card, late) == "fail"
    assert verdict(card, make_call([("agent", "Yes?")])) == "fail"


def test_order_pass_fail_na() -> None:
    card = one_item(
        "type: order\nfirst: ask\nthen: tell",
        extra_checks=(
            "  ask: {type: phrases, phrases: {en: [date of birth]}}\n"
            "  tell: {type: phrases, phrases: {en: [your balance]}}\n"
        ),
    )
    ok = make_call([("agent", "Your date of birth?"), ("agent", "Your balance is 5.")])
    bad = make_call([("agent", "Your balance is 5."), ("agent", "Your date of birth?")])
    missing = make_call([("agent", "Your balance is 5.")])
    assert verdict(card, ok) == "pass"
    assert verdict(card, bad) == "fail"
    assert verdict(card, missing) == "fail"
    assert verdict(card, make_call([("agent", "Hi")])) == "na"


def test_emotion_trajectory_with_labels_and_lexicon() -> None:
    card = one_item("type: emotion_trajectory")
    calm = make_call([("agent", "Hi"), ("customer", "Fine thanks")])
    assert verdict(card, calm) == "na"
    lex_ok = make_call(
        [
            ("agent", "Hi"),
            ("customer", "This is ridiculous"),
            ("agent", "Sorry"),
            ("customer", "Ok thanks"),
        ]
    )
    assert verdict(card, lex_ok) == "pass"
    lex_bad = make_call([("agent", "Hi"), ("customer", "Fine"), ("customer", "I am angry")])
    assert verdict(card, lex_bad) == "fail"
    labelled = make_call([("agent", "Hi"), ("customer", "x"), ("customer", "y")])
    turns = list(labelled.turns)
    turns[1] = turns[1].model_copy(update={"emotion": "angry"})
    turns[2] = turns[2].model_copy(update={"emotion": "neutral"})
    assert verdict(card, labelled.model_copy(update={"turns": tuple(turns)})) == "pass"


def test_silence_and_hold() -> None:
    silence = one_item("type: silence\nmax_gap_s: 10")
    assert verdict(silence, make_call([("agent", "Hi"), ("customer", "Hi", 2.0)])) == "pass"
    assert verdict(silence, make_call([("agent", "Hi"), ("customer", "Hi?", 15.0)])) == "fail"
    hold = one_item(
        "type: hold\nannounce: ann\nresume: res\nmin_hold_s: 20\nmax_hold_s: 100",
        extra_checks=(
            "  ann: {type: phrases, phrases: {en: [please hold]}}\n"
            "  res: {type: phrases, phrases: {en: [thanks for holding]}}\n"
        ),
    )
    good = [("agent", "Please hold"), ("customer", "Ok"), ("agent", "Thanks for holding", 60.0)]
    assert verdict(hold, make_call(good)) == "pass"
    unannounced = [("agent", "Hmm"), ("agent", "Thanks for holding", 60.0)]
    assert verdict(hold, make_call(unannounced)) == "fail"
    too_long = [("agent", "Please hold"), ("agent", "Thanks for holding", 200.0)]
    assert verdict(hold, make_call(too_long)) == "fail"
    customer_pause = [("agent", "Card?"), ("customer", "Let me find it"), ("customer", "Ok", 40.0)]
    assert verdict(hold, make_call(customer_pause)) == "na"
    assert verdict(hold, make_call([("agent", "Hi"), ("customer", "Hi")])) == "na"


def test_talk_over_and_ratio() -> None:
    over = one_item("type: talk_over\nmin_overlap_s: 0.5\nmax_count: 0")
    polite = make_call([("customer", "I have a question"), ("agent", "Sure")])
    assert verdict(over, polite) == "pass"
    rude = make_call([("customer", "I have a long question"), ("agent", "No", -2.0)])
    assert verdict(over, rude) == "fail"
    ratio = one_item("type: talk_ratio\nmin_ratio: 0.3\nmax_ratio: 0.7")
    assert verdict(ratio, polite) == "pass"
    monologue = make_call([("agent", "a"), ("agent", "b"), ("agent", "c"), ("customer", "d")])
    assert verdict(ratio, monologue) == "fail"


def test_phrase_negation_and_chinese_spaces() -> None:
    card = one_item(
        "type: phrases\nexpect: absent\nnegation: true\n"
        "phrases: {en: [risk-free], zh: [保本保息, 零风险]}"
    )
    assert verdict(card, make_call([("agent", "It is totally risk-free")])) == "fail"
    assert verdict(card, make_call([("agent", "No investment is risk-free.")])) == "pass"
    assert verdict(card, make_call([("agent", "这个产品保 本 保 息")], language="zh")) == "fail"
    assert verdict(card, make_call([("agent", "我们不承诺保本保息")], language="zh")) == "pass"
    assert verdict(card, make_call([("agent", "零风险是不可能的")], language="zh")) == "pass"


def test_applies_when_conditions() -> None:
    card = one_item(
        "type: phrases\nphrases: {en: [sorry]}", applies=", applies_when: {customer_upset: true}"
    )
    assert verdict(card, make_call([("agent", "Hi"), ("customer", "ok")])) == "na"
    assert verdict(card, make_call([("agent", "Hi"), ("customer", "I am angry")])) == "fail"
    out = one_item(
        "type: phrases\nphrases: {en: [hello]}", applies=", applies_when: {direction: [outbound]}"
    )
    assert verdict(out, make_call([("agent", "hello")])) == "na"
    assert verdict(out, make_call([("agent", "hello")], direction="outbound")) == "pass"


class BagOfWords:
    """Deterministic fake embedder: hashed bag of words (same Protocol as e5)."""

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(",", " ").replace(".", " ").split():
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
        return out


def test_semantic_check_with_fake_embedder_and_text_only_mode() -> None:
    card = one_item(
        "type: semantic\nthreshold: 0.8\n"
        "examples: {en: ['I am so sorry about this trouble']}\n"
        "counter_examples: {en: ['thank you for calling']}"
    )
    call = make_call([("agent", "Hello. So sorry about this trouble, truly.")])
    emb = BagOfWords()
    result = score_contact(call, card, embedder=emb)
    assert result.items["item"].verdict == "pass"
    assert result.items["item"].evidence[0].matched == ("So sorry about this trouble, truly.",)
    assert (
        score_contact(make_call([("agent", "Your order shipped")]), card, embedder=emb)
        .items["item"]
        .verdict
        == "fail"
    )
    assert score_contact(call, card).items["item"].verdict == "na"  # no embedder


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("the card is 4539 1488 0343 6467 ok", ["card"]),
        (
            "four five three nine one four eight eight zero three four three six four six seven",
            ["card"],
        ),
        ("卡号是四五三九一四八八零三四三六四六七", ["card"]),
        ("card 4539 1488 0343 6468", []),  # Luhn fails
        ("ending in 6467", []),
        ("卡号六二二二零二一二三四五六七八九零一二三，对吗", ["card"]),  # said to be a card
        ("the card number is 4539 1488 0343 6468", ["card"]),
        ("身份证号11010519491231002X", ["cn_id"]),
        ("编号110105194912310021", []),  # wrong check character, not said to be an ID
        ("身份证号110105194912310021", ["cn_id"]),  # said to be an ID: flagged anyway
        ("my ssn is 123-45-6789", ["ssn"]),
        ("order 123456789012", []),
    ],
)
def test_sensitive_numbers(text: str, kinds: list[str]) -> None:
    assert [f.kind for f in find_sensitive(text)] == kinds


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert cn_id_ok("11010519491231002X") and not cn_id_ok("11010519491231002")
