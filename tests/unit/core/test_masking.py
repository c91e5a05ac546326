import pytest

from core.masking import luhn_ok, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("card 4111 1111 1111 1111 please", "card ************1111 please"),
        ("ref 4111111111111112 x", "ref ************1112 x"),  # long digit runs are masked anyway
        ("身份证 11010519491231002X 号", "身份证 110105********002X 号"),
        ("call me on +86 138 0013 8000", "call me on *********8000"),
        ("mail jane.doe@example.com now", "mail j***@example.com now"),
        ("order 12345 ok", "order 12345 ok"),
    ],
)
def test_mask_text(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
