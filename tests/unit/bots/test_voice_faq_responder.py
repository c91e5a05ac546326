import pytest

from bots.backchannel import is_backchannel
from bots.errors import FaqFormatError
from bots.faq_responder import FaqResponder


@pytest.fixture(scope="module")
def faq() -> FaqResponder:
    return FaqResponder()


@pytest.mark.parametrize(
    ("text", "language", "entry"),
    [
        ("What are your opening hours?", "en", "opening_hours"),
        ("I lost my card yesterday", "en", "lost_card"),
        ("My card number is 4532 1234 5678 9012", "en", "card_number"),
        ("how do I transfer money to my son", "en", "transfer"),
        ("I forgot my PIN", "en", "pin"),
        ("can I talk to a human", "en", "agent"),
        ("你们几点开门", "zh", "opening_hours"),
        ("我的银行卡丢了", "zh", "lost_card"),
        ("我想查一下余额", "zh", "balance"),
        ("我要转人工", "zh", "agent"),
    ],
)
def test_matches_the_faq_entry(faq: FaqResponder, text: str, language: str, entry: str) -> None:
    match = faq.match(text, language)
    assert match is not None and match.id == entry


async def test_answers_in_the_callers_language_and_falls_back(faq: FaqResponder) -> None:
    zh = await faq.respond("我的银行卡丢了", contact_id="c1", language="zh-CN")
    assert "冻结" in zh
    other = await faq.respond("tell me a joke", contact_id="c1", language="en")
    assert other == faq.fallback["en"]
    assert await faq.respond("  ", contact_id="c1", language="en") == ""


def test_phrases_cover_every_answer_and_the_announcement(faq: FaqResponder) -> None:
    phrases = faq.phrases()
    assert (faq.announcement("en"), "en") in phrases
    assert (faq.announcement("zh"), "zh") in phrases
    assert len(phrases) >= 2 * len(faq.entries)


def test_bad_faq_file_names_the_problem(tmp_path) -> None:
    bad = tmp_path / "faq.yaml"
    bad.write_text("version: 1\nfallback: {en: x}\nentries:\n  - id: a\n", encoding="utf-8")
    with pytest.raises(FaqFormatError, match="entry #0"):
        FaqResponder(bad)
    bad.write_text("version: 9\n", encoding="utf-8")
    with pytest.raises(FaqFormatError, match="version"):
        FaqResponder(bad)


@pytest.mark.parametrize(
    "text",
    [
        "Uh-huh.",
        "uh huh",
        "Mm-hmm.",
        "OK.",
        "okay",
        "Yeah.",
        "嗯",
        "嗯。",
        "对对",
        "",
        " . ",
        "Oh, uh-huh.",
        "Yeah, okay, yeah.",
    ],
)
def test_backchannels(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize(
    "text", ["Wait, stop.", "No, I lost my card", "okay what about loans", "我要转人工"]
)
def test_not_backchannels(text: str) -> None:
    assert not is_backchannel(text)
