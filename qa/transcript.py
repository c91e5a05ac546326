"""The transcript QA scores: turns of a diarized call or a chat, validated before scoring.

Voice calls arrive with caller and agent on separate channels, so turns of *different*
speakers may overlap (that is talk-over, which a check measures). Turns of the *same*
speaker overlapping, a turn ending before it starts, or turns out of start order mean the
input is broken, and scoring it would produce confident nonsense: those are refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from qa.errors import TranscriptError

LANGUAGES = ("en", "zh")
_LANGUAGE_ALIASES = {
    "en": "en",
    "eng": "en",
    "english": "en",
    "zh": "zh",
    "zho": "zh",
    "cmn": "zh",
    "chinese": "zh",
    "mandarin": "zh",
}
# Same-speaker overlap below this is rounding in the ASR timestamps, not broken input.
_OVERLAP_TOLERANCE_S = 0.05

SpeakerName = Literal["agent", "customer", "bot"]
_SPEAKER_ALIASES = {"caller": "customer", "client": "customer", "user": "customer", "ivr": "bot"}


class Turn(BaseModel):
    """One speaker turn; ``emotion`` is a per-turn label when an emotion engine ran."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    speaker: SpeakerName
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    text: str
    emotion: str | None = None

    @field_validator("speaker", mode="before")
    @classmethod
    def _speaker_alias(cls, value: object) -> object:
        """Accept "Agent", "caller" …: exports from other tools spell speakers freely."""
        if isinstance(value, str):
            v = value.strip().lower()
            return _SPEAKER_ALIASES.get(v, v)
        return value


class CallTranscript(BaseModel):
    """A whole contact as QA sees it; build one with :func:`parse_call` to get validation."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    call_id: str
    language: str
    turns: tuple[Turn, ...]
    channel: str = "voice"
    direction: str = "inbound"
    agent_id: str | None = None

    @property
    def duration_s(self) -> float:
        return max((t.end for t in self.turns), default=0.0)


def normalize_language(value: object, *, call_id: str = "") -> str:
    """Map ``en-US``, ``zh-CN``, ``cmn`` … onto the languages scorecards carry (en, zh)."""
    if not isinstance(value, str) or not value.strip():
        raise TranscriptError("missing language", code="transcript_language", call_id=call_id)
    base = value.strip().lower().replace("_", "-").split("-")[0]
    lang = _LANGUAGE_ALIASES.get(base)
    if lang is None:
        raise TranscriptError(
            f"unknown language {value!r}; supported: {', '.join(LANGUAGES)}",
            code="transcript_language",
            call_id=call_id,
        )
    return lang


def validate_turns(turns: tuple[Turn, ...], *, call_id: str = "") -> None:
    """Refuse transcripts that cannot be scored meaningfully (see module docstring)."""
    if not turns:
        raise TranscriptError("no turns", code="transcript_empty", call_id=call_id)
    if not any(t.speaker == "agent" for t in turns):
        raise TranscriptError(
            "no agent turns: nothing to score", code="transcript_no_agent", call_id=call_id
        )
    last_end: dict[str, float] = {}
    prev_start = -1.0
    for i, t in enumerate(turns):
        if t.end < t.start:
            raise TranscriptError(
                f"turn {i} ends ({t.end}) before it starts ({t.start})",
                code="transcript_timestamps",
                call_id=call_id,
            )
        if t.start < prev_start:
            raise TranscriptError(
                f"turn {i} starts at {t.start}, before turn {i - 1} ({prev_start}): "
                "turns must be in time order",
                code="transcript_timestamps",
                call_id=call_id,
            )
        if t.start < last_end.get(t.speaker, -1.0) - _OVERLAP_TOLERANCE_S:
            raise TranscriptError(
                f"turn {i} ({t.speaker}, {t.start}-{t.end}) overlaps the previous "
                f"{t.speaker} turn ending at {last_end[t.speaker]}",
                code="transcript_timestamps",
                call_id=call_id,
            )
        prev_start = t.start
        last_end[t.speaker] = max(t.end, last_end.get(t.speaker, 0.0))


def parse_call(data: Mapping[str, Any] | str | bytes, *, source: str = "") -> CallTranscript:
    """Build and validate a call from the CLI JSON shape (or the same dict)."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            raise TranscriptError(
                f"malformed JSON: {e}", code="transcript_json", call_id=source
            ) from e
    if not isinstance(data, Mapping):
        raise TranscriptError(
            "a call must be a JSON object", code="transcript_schema", call_id=source
        )
    call_id = str(data.get("call_id") or source or "")
    if not data.get("call_id"):
        raise TranscriptError("missing call_id", code="transcript_schema", call_id=call_id)
    language = normalize_language(data.get("language"), call_id=call_id)
    raw_turns = data.get("turns")
    if not isinstance(raw_turns, list):
        raise TranscriptError("turns must be a list", code="transcript_schema", call_id=call_id)
    try:
        call = CallTranscript.model_validate({**data, "call_id": call_id, "language": language})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TranscriptError(
            f"{where}: {first['msg']}", code="transcript_schema", call_id=call_id
        ) from e
    validate_turns(call.turns, call_id=call_id)
    return call


def detect_language(texts: list[str]) -> str:
    """Guess en/zh from the script when a contact carries no language tag."""
    joined = "".join(texts)
    cjk = sum(1 for ch in joined if "\u4e00" <= ch <= "\u9fff")
    return "zh" if cjk and cjk * 4 >= len(joined.replace(" ", "")) * 1 else "en"
