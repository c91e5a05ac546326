"""Does the caller's text so far sound unfinished? A second opinion next to smart-turn.

Measured (bench/voice_latency.py): smart-turn v3 alone judged "My card number is: four five
three two," complete in most runs, so the bot answered in the middle of a card number read in
groups. Whisper's speculative transcript (ready about when smart-turn is) tells what acoustics
cannot: a trailing comma or colon, a dangling function word, or digits after "card number" /
"date of birth" mean the caller is probably mid-dictation; the turn then waits for a longer
silence (``TurnConfig.unfinished_pause_s``) instead of ending at once.
"""

from __future__ import annotations

import re

_CONTINUATION_EN = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "am",
        "and",
        "or",
        "but",
        "the",
        "a",
        "an",
        "my",
        "your",
        "our",
        "of",
        "to",
        "at",
        "in",
        "on",
        "for",
        "with",
        "from",
        "by",
        "um",
        "uh",
        "er",
        "so",
        "because",
        "then",
        "like",
        "than",
        "number",
    ]
)
_DICTATION_EN = re.compile(
    r"\b(number|card|account|phone|pin|code|birth|born|birthday|postcode|zip|digits?|iban)\b"
)
_NUMBER_END_EN = re.compile(
    r"(\d|\b(zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
    r"fifty|sixty|seventy|eighty|ninety|hundred|thousand))[\s.,]*$"
)
_DICTATION_ZH = re.compile(r"(卡号|号码|账号|帐号|生日|出生|密码|验证码|手机)")
_CONTINUATION_ZH = tuple("是的和跟或者还有就")
_DIGIT_ZH = re.compile(r"[0-9零一二三四五六七八九十百千两幺][。，,.\s]*$")


def looks_unfinished(text: str) -> bool:
    """True when the words so far suggest more is coming (dictation, a dangling clause)."""
    t = text.strip()
    if not t:
        return False
    if t[-1] in ",:;-–…，：；、" or t.endswith(".."):  # Whisper writes a trailing-off "..."
        return True
    low = t.lower()
    words = re.findall(r"[a-z']+", low)
    last_chunk = re.sub(r"[.!]+$", "", low).rstrip()
    if words and words[-1] in _CONTINUATION_EN and last_chunk.endswith(words[-1]):
        return True
    if _DICTATION_EN.search(low) and _NUMBER_END_EN.search(low):
        return True
    stripped = t.rstrip("。.!！?？ ")
    if stripped.endswith(_CONTINUATION_ZH):
        return True
    return bool(_DICTATION_ZH.search(t) and _DIGIT_ZH.search(t))
