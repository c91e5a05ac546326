import pytest

from bots.turn_text import looks_unfinished


@pytest.mark.parametrize(
    "text",
    [
        "My card number is:",
        "My card number is...",
        "My card number is.",
        "My card number is 4532,",
        "My card number is 4532.",
        "My card number is four five three two.",
        "My date of birth is the fourth of March,",
        "My date of birth is the fourth of March 19",
        "My card number is 4532 1234.",
        "I want to transfer money to my",
        "I'd like to talk about the",
        "我的卡号是四五三二，",
        "我的卡号是4532",
        "我想问一下是",
    ],
)
def test_unfinished(text: str) -> None:
    assert looks_unfinished(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "What are your opening hours?",
        "I lost my card yesterday.",
        "I forgot my PIN.",
        "Can I talk to a human?",
        "What is the interest rate on a loan?",
        "你们几点开门？",
        "我的银行卡丢了。",
        # dictation that is already whole: a date with its year, a full card, the last four
        "My date of birth is, the fourth of March, 1980.",
        "My date of birth is 04/03/1980",
        "My card number is 4111 1111 1111 1111.",
        "The last four digits are 4321.",
        "我的卡号是4111111111111111",
        "我的生日是1980年3月4日",
    ],
)
def test_finished(text: str) -> None:
    assert not looks_unfinished(text)
