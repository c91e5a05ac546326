"""Built-in entity extractors, table-driven (EN + ZH)."""

from datetime import date

import pytest

from nlu.entities import (
    EntityExtractor,
    cn_id_valid,
    extract_amounts,
    extract_cards,
    extract_cn_ids,
    extract_dates,
    extract_phones,
    luhn_valid,
    zh_to_number,
)
from nlu.rasa_format import read_nlu_yaml

TODAY = date(2026, 11, 23)  # a Monday


def values(ents, name=None):
    return [e.value for e in ents if name is None or e.entity == name]


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("call me at (415) 555-2671", "US", ["+14155552671"]),
        ("my number is +44 20 7946 0958", "US", ["+442079460958"]),
        ("我的手机是13812345678", "CN", ["+8613812345678"]),
        ("电话 010-6552 9988", "CN", ["+861065529988"]),
        ("no phone here 12345", "US", []),
    ],
)
def test_phones(text, region, expected):
    assert values(extract_phones(text, region=region)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I was charged $89.99 twice", ["89.99 USD"]),
        ("refund 1,250 dollars please", ["1250.00 USD"]),
        ("about €15", ["15.00 EUR"]),
        ("£3k", ["3000.00 GBP"]),
        ("多扣了200元", ["200.00 CNY"]),
        ("转了一千二百五十块钱", ["1250.00 CNY"]),
        ("两万美元", ["20000.00 USD"]),
        ("USD 40", ["40.00 USD"]),
        ("I have 3 cards", []),
    ],
)
def test_amounts(text, expected):
    assert values(extract_amounts(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("on 2026-05-03", ["2026-05-03"]),
        ("on 3/14/2025", ["2025-03-14"]),
        ("since March 3rd", ["2026-03-03"]),
        ("on 2 May 2024", ["2024-05-02"]),
        ("lost it yesterday", ["2026-11-22"]),
        ("the day after tomorrow", ["2026-11-25"]),
        ("next Friday", ["2026-11-27"]),
        ("last Monday", ["2026-11-16"]),
        ("2024年5月3日", ["2024-05-03"]),
        ("五月三号", ["2026-05-03"]),
        ("5月3号", ["2026-05-03"]),
        ("十二月二十五日", ["2026-12-25"]),
        ("明天", ["2026-11-24"]),
        ("下周五", ["2026-12-04"]),
        ("星期三", ["2026-11-25"]),
        ("on 2/30", []),
    ],
)
def test_dates(text, expected):
    assert values(extract_dates(text, today=TODAY)) == expected


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("79927398713", True),
        ("0", False),
        ("abc", False),
    ],
)
def test_luhn(number, ok):
    assert luhn_valid(number) is ok


@pytest.mark.parametrize(
    ("text", "cards", "last4"),
    [
        ("card 4111 1111 1111 1111 was stolen", ["4111111111111111"], []),
        ("card 4111-1111-1111-1112", [], []),
        ("my card ending in 4321 is lost", [], ["4321"]),
        ("last four digits are 9876", [], ["9876"]),
        ("尾号5678的卡丢了", [], ["5678"]),
    ],
)
def test_cards(text, cards, last4):
    ents = extract_cards(text)
    assert values(ents, "card_number") == cards
    assert values(ents, "card_last4") == last4


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("11010519491231002X", True),  # GB 11643 worked example
        ("110105194912310021", False),  # wrong check character
        ("11010519491331002X", False),  # month 13
        ("1101051949123100", False),
    ],
)
def test_cn_id_checksum(number, ok):
    assert cn_id_valid(number) is ok


def test_cn_id_extraction():
    assert values(extract_cn_ids("身份证号11010519491231002x")) == ["11010519491231002X"]
    assert values(extract_cn_ids("身份证号110105194912310021")) == []


def test_zh_numbers():
    assert zh_to_number("一千二百五十") == 1250
    assert zh_to_number("两万") == 20000
    assert zh_to_number("十五") == 15
    assert zh_to_number("三点五") == 3.5
    assert zh_to_number("abc") is None


def test_configurable_regex_and_gazetteer():
    data = read_nlu_yaml(
        """nlu:
- intent: order_status
  examples: |
    - where is my [laptop](product)
    - status of my [phone case](product)
- regex: ticket_id
  examples: |
    - TCK-(\\d{5})
- lookup: product
  examples: |
    - tablet
"""
    )
    ex = EntityExtractor(data, regexes={"member_id": [r"\bM(\d{6})\b"]})
    got = ex.extract(
        "Is my tablet and laptop in TCK-12345? member M123456, account number 12345678", today=TODAY
    )
    assert [(e.entity, e.value) for e in got] == [
        ("product", "tablet"),
        ("product", "laptop"),
        ("ticket_id", "12345"),
        ("member_id", "123456"),
        ("account_number", "12345678"),
    ]
    zh = ex.extract("账号是6222021234567890123，订单号A2024-778899", language="zh", today=TODAY)
    assert ("account_number", "6222021234567890123") in [(e.entity, e.value) for e in zh]
    assert ("order_number", "A2024-778899") in [(e.entity, e.value) for e in zh]


def test_overlaps_prefer_longer_span():
    got = EntityExtractor().extract(
        "charge of $45.20 on 3/14 from card 4111111111111111", today=TODAY
    )
    assert [(e.entity, e.value) for e in got] == [
        ("amount", "45.20 USD"),
        ("date", "2026-03-14"),
        ("card_number", "4111111111111111"),
    ]
