"""spoken_digits: table-driven, English and Mandarin."""

from __future__ import annotations

import pytest

from asr.numbers import spoken_digits


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("One.", "1"),
        ("7", "7"),
        ("Oh", "0"),
        ("four, 2 one", "421"),
        ("My card is 4 5 3 2, one two three four.", "45321234"),
        ("Ate.", "8"),
        ("Nothing here.", ""),
        ("幺三八零", "1380"),
        ("两千", "2"),
    ],
)
def test_spoken_digits(text: str, digits: str) -> None:
    assert spoken_digits(text) == digits
