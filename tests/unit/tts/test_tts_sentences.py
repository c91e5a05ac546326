"""Sentence chunking decides time-to-first-audio: table-driven cases."""

from __future__ import annotations

import pytest

from tts.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("", []),
        ("  Hello.  ", ["Hello."]),
        ("Hello. How can I help?", ["Hello.", "How can I help?"]),
        ("Hi, thanks. Bye!", ["Hi, thanks.", "Bye!"]),
        (
            "Thank you for calling the bank today, how can I help you with your account?",
            ["Thank you for calling the bank today,", "how can I help you with your account?"],
        ),
        ("Version 2.5 is out. Yes.", ["Version 2.5 is out.", "Yes."]),
        ("您好。请问有什么可以帮您？", ["您好。", "请问有什么可以帮您？"]),
        (
            "欢迎致电客户服务中心，请问您需要办理什么业务？",
            ["欢迎致电客户服务中心，", "请问您需要办理什么业务？"],
        ),
        ("您好，请讲。", ["您好，请讲。"]),
    ],
)
def test_split_sentences(text: str, pieces: list[str]) -> None:
    assert split_sentences(text) == pieces


def test_first_clause_split_can_be_turned_off() -> None:
    text = "Thank you for calling the bank today, how can I help you with your account?"
    assert split_sentences(text, split_first_clause=False) == [text]
