from pathlib import Path

import pytest

from assist.compliance import (
    check_utterance,
    cn_id_valid,
    disclosures_said,
    disclosures_triggered,
    find_card_numbers,
    find_cn_ids,
    load_rules,
    luhn_valid,
    mask_number,
    spoken_digits,
)
from assist.errors import AssistConfigInvalid

RULES = load_rules()


@pytest.mark.parametrize(
    ("digits", "ok"),
    [
        ("4539148803436467", True),  # Visa test number
        ("4539148803436468", False),
        ("378282246310005", True),  # Amex test number
        ("6011111111111117", True),
        ("79927398713", True),  # the textbook example
        ("1234567812345678", False),
        ("", False),
        ("45391488O3436467", False),
    ],
)
def test_luhn(digits: str, ok: bool):
    assert luhn_valid(digits) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("11010519491231002X", True),  # GB 11643 worked example
        ("11010519491231002x", True),
        ("110105194912310021", False),  # wrong check character
        ("11010519491331002X", False),  # month 13
        ("11010518001231002X", False),  # born before 1900
        ("1101051949123100", False),
    ],
)
def test_cn_id(value: str, ok: bool):
    assert cn_id_valid(value) is ok


@pytest.mark.parametrize(
    ("text", "cards"),
    [
        ("my card is 4539 1488 0343 6467 thanks", ["4539148803436467"]),
        ("4539-1488-0343-6467", ["4539148803436467"]),
        ("four five three nine one four eight eight zero three four three six four six seven",
         ["4539148803436467"]),
        ("卡号是四五三九一四八八零三四三六四六七", ["4539148803436467"]),
        ("ending in 6467", []),
        ("call 400-800-1234 or +1 800 555 0199", []),
        ("transfer 5,000 and 20,000 dollars", []),
        ("身份证号11010519491231002X", []),  # an ID number is not a card number
    ],
)  # fmt: skip
def test_find_card_numbers(text: str, cards: list[str]):
    assert find_card_numbers(text) == cards


def test_find_cn_ids_and_mask():
    assert find_cn_ids("我的身份证是 110105 19491231 002x。") == ["11010519491231002X"]
    assert find_cn_ids("订单号 123456789012345678") == []
    assert mask_number("4539148803436467") == "************6467"
    assert spoken_digits("Oh Four 五") == "0 4 5"


@pytest.mark.parametrize(
    ("text", "lang", "speaker", "keys"),
    [
        ("This fund offers guaranteed returns of 8%", "en", "agent", ["guaranteed_returns"]),
        ("It's basically a risk-free investment", "en", "agent", ["guaranteed_returns"]),
        ("这款产品保本保息", "zh", "agent", ["guaranteed_returns"]),
        ("放心，稳赚不赔的", "zh", "agent", ["guaranteed_returns"]),
        ("稳 赚 不 赔", "zh", "agent", ["guaranteed_returns"]),  # ASR spacing
        ("Are these guaranteed returns?", "en", "customer", []),  # customers may ask
        ("Returns are not guaranteed", "en", "agent", []),
        ("Could you tell me your password please", "en", "agent", ["credentials_request"]),
        ("麻烦您把验证码告诉我", "zh", "agent", ["credentials_request"]),
        ("This is guaranteed approval", "en", "bot", ["approval_promise"]),
        ("Card 4539 1488 0343 6467", "en", "customer", ["card_number_spoken"]),
        ("身份证 11010519491231002X", "zh", "agent", ["id_number_spoken"]),
        ("Your balance is 1,250 dollars", "en", "agent", []),
    ],
)
def test_check_utterance_table(text: str, lang: str, speaker: str, keys: list[str]):
    alerts = check_utterance(text, language=lang, speaker=speaker, rules=RULES)
    assert [a.key for a in alerts] == keys
    for a in alerts:
        assert "4539148803436467" not in a.evidence and "11010519491231002X" not in a.evidence


def test_alert_titles_follow_the_contact_language():
    en = check_utterance("4539148803436467", language="en", speaker="agent", rules=RULES)
    zh = check_utterance("4539148803436467", language="zh", speaker="customer", rules=RULES)
    assert en[0].title == "Agent read out a full card number"
    assert zh[0].title == "客户报出了完整卡号"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Hi, this call is recorded for quality and training purposes.", {"recording_notice"}),
        ("您好，为了提升服务质量，本次通话将会被录音。", {"recording_notice"}),
        ("There is a fee of $15, which will be charged to your account today.", {"fee_disclosure"}),
        ("补卡需收取手续费15元", {"fee_disclosure"}),
        ("理财非存款，产品有风险，投资须谨慎。", {"investment_risk_warning"}),
        ("There's no fee for that.", set()),
        ("Hello, how can I help?", set()),
    ],
)
def test_disclosures_said(text: str, said: set[str]):
    assert disclosures_said(text, RULES) == said


@pytest.mark.parametrize(
    ("text", "intent", "triggered"),
    [
        ("", "fees", {"fee_disclosure"}),
        ("", "investment", {"investment_risk_warning"}),
        ("Can I get express delivery?", None, {"fee_disclosure"}),
        ("我想买点理财", None, {"investment_risk_warning"}),
        ("What time do you open?", "branch_hours", set()),
    ],
)
def test_disclosures_triggered(text: str, intent: str | None, triggered: set[str]):
    assert disclosures_triggered(text, intent, RULES) == triggered


def test_bad_rules_file_names_the_item(tmp_path: Path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: 1\nforbidden:\n  - key: x\n    name: {en: X}\n    phrases: {en: []}\n")
    with pytest.raises(AssistConfigInvalid, match=r"forbidden x\.phrases\.en"):
        load_rules(bad)
    bad.write_text("version: 2\n")
    with pytest.raises(AssistConfigInvalid, match="version: 1"):
        load_rules(bad)
