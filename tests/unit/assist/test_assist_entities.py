import pytest

from assist.entities import extract_entities


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        ("I was charged $1,250.50 twice", [("amount", "1250.50 USD")]),
        ("about 300 dollars", [("amount", "300 USD")]),
        ("每次扣了199元", [("amount", "199 CNY")]),
        ("我想贷款5万", [("amount", "50000 CNY")]),
        ("card ending in 4821", [("account_last4", "4821")]),
        ("尾号是4821的卡", [("account_last4", "4821")]),
        ("on 2026-02-01", [("date", "2026-02-01")]),
        ("on the 3rd of March", [("date", "03-03")]),
        ("since March 5th", [("date", "03-05")]),
        ("2026年3月5日扣的款", [("date", "2026-03-05")]),
        ("hello there", []),
    ],
)
def test_extract_entities(text: str, entities: list[tuple[str, str]]):
    assert extract_entities(text) == entities
