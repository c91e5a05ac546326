"""Turn a response name into what one channel shows or says.

Variations rotate deterministically per conversation turn (repeatable tests, no
``random`` state); text is filled from slots with ``{slot}`` placeholders, a missing slot
renders as an empty string rather than raising mid-conversation. ``[pause]`` in a text is a
short pause: SSML ``<break>`` for voice, a sentence break for plain voice text, a space in
chat. Chat keeps buttons; voice drops them (the prompt text already lists the options).
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass, field
from typing import Any

from bots.dialogue.schema import Response

PAUSE = "[pause]"
PAUSE_MS = 400
ZH_CURRENCY = {"CNY": "元", "USD": "美元", "EUR": "欧元", "GBP": "英镑", "HKD": "港币"}


class _Formatter(string.Formatter):
    """``{slot}`` plus ``{slot:money}``: "35.00 CNY" → "35.00元" in Chinese, as-is otherwise."""

    def __init__(self, language: str):
        self.language = language

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "money":
            amount, _, cur = str(value).partition(" ")
            if self.language == "zh" and cur:
                return f"{amount}{ZH_CURRENCY.get(cur, cur)}"
            return str(value)
        return super().format_field(value, format_spec)


@dataclass(frozen=True)
class Reply:
    """One bot message, channel-neutral until rendered."""

    text: str
    response: str | None = None
    buttons: tuple[dict[str, str], ...] = ()
    ssml: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_rest(self, recipient_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {"recipient_id": recipient_id, "text": self.text}
        if self.buttons:
            out["buttons"] = [dict(b) for b in self.buttons]
        if self.response:
            out["response"] = self.response
        return out


class _Slots(dict):
    def __missing__(self, key: str) -> str:
        return ""


def pick_variation(options: list[str], *, seed: str) -> str:
    if len(options) == 1:
        return options[0]
    h = int.from_bytes(hashlib.blake2s(seed.encode(), digest_size=4).digest(), "little")
    return options[h % len(options)]


def fill(template: str, slots: dict[str, str], *, language: str = "en") -> str:
    try:
        return _Formatter(language).vformat(template, (), _Slots(slots))
    except (ValueError, IndexError, AttributeError):
        return template  # an editor's stray brace: show the text rather than fail the turn


def _chat_text(text: str) -> str:
    return re.sub(r"\s*\[pause\]\s*", " ", text).strip()


def _voice_plain(text: str) -> str:
    # Piper pauses on sentence punctuation, so a pause becomes a sentence break.
    out = re.sub(r"\s*\[pause\]\s*", ". ", text).strip()
    return re.sub(r"([.!?。！？])\.\s", r"\1 ", out)


def _voice_ssml(text: str) -> str:
    from html import escape

    parts = [escape(p.strip()) for p in text.split(PAUSE)]
    body = f'<break time="{PAUSE_MS}ms"/>'.join(p for p in parts if p)
    return f"<speak>{body}</speak>"


def render(
    name: str,
    response: Response,
    *,
    language: str,
    default_language: str,
    channel: str,
    slots: dict[str, str],
    seed: str,
) -> Reply:
    """Render ``response`` for ``channel`` (``voice`` or anything else = chat)."""
    texts = response.text
    if channel == "voice" and response.voice:
        texts = response.voice
    options = texts.get(language) or texts.get(default_language) or next(iter(texts.values()))
    raw = fill(pick_variation(options, seed=seed), slots, language=language)
    if channel == "voice":
        return Reply(text=_voice_plain(raw), response=name, ssml=_voice_ssml(raw))
    buttons = tuple(
        {
            "title": b.title.get(language) or b.title.get(default_language) or b.payload,
            "payload": b.payload,
        }
        for b in response.buttons
    )
    return Reply(text=_chat_text(raw), response=name, buttons=buttons)


def render_text(
    name: str, text: str, *, channel: str, extra: dict[str, Any] | None = None
) -> Reply:
    """A literal text (not a template: no ``{slot}`` filling), e.g. a knowledge-article
    answer, rendered for ``channel`` like a response."""
    extra = dict(extra or {})
    if channel == "voice":
        return Reply(text=_voice_plain(text), response=name, ssml=_voice_ssml(text), extra=extra)
    return Reply(text=_chat_text(text), response=name, extra=extra)
