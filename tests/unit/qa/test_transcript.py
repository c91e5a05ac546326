"""Bad call input is refused with a clear, coded error."""

from __future__ import annotations

import pytest

from qa.errors import TranscriptError
from qa.transcript import detect_language, parse_call

A = {"speaker": "agent", "start": 0.0, "end": 2.0, "text": "Hello"}
C = {"speaker": "customer", "start": 2.5, "end": 4.0, "text": "Hi"}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("{not json", "transcript_json"),
        ({"call_id": "x", "language": "en", "turns": [C]}, "transcript_no_agent"),
        ({"call_id": "x", "language": "en", "turns": []}, "transcript_empty"),
        ({"call_id": "x", "language": "fr", "turns": [A]}, "transcript_language"),
        ({"call_id": "x", "turns": [A]}, "transcript_language"),
        ({"call_id": "x", "language": "en", "turns": [C, A]}, "transcript_timestamps"),
        (
            {"call_id": "x", "language": "en", "turns": [A, {**A, "start": 1.0, "end": 3.0}]},
            "transcript_timestamps",
        ),
        ({"call_id": "x", "language": "en", "turns": [{**A, "end": -1}]}, "transcript_schema"),
        (
            {"call_id": "x", "language": "en", "turns": [{**A, "start": 3.0}]},
            "transcript_timestamps",
        ),
        (
            {"call_id": "x", "language": "en", "turns": [{**A, "speaker": "robot"}]},
            "transcript_schema",
        ),
        ({"language": "en", "turns": [A]}, "transcript_schema"),
        ({"call_id": "x", "language": "en", "turns": "nope"}, "transcript_schema"),
    ],
)
def test_bad_calls_are_refused(data, code: str) -> None:
    with pytest.raises(TranscriptError) as err:
        parse_call(data)
    assert err.value.code == code


def test_cross_speaker_overlap_is_talk_over_not_an_error() -> None:
    call = parse_call(
        {"call_id": "x", "language": "en-US", "turns": [A, {**C, "start": 1.0, "end": 3.0}]}
    )
    assert call.language == "en" and len(call.turns) == 2


def test_language_aliases_and_detection() -> None:
    assert parse_call({"call_id": "x", "language": "zh-CN", "turns": [A]}).language == "zh"
    assert detect_language(["您好，请问有什么可以帮您？"]) == "zh"
    assert detect_language(["Hello there"]) == "en"
