"""Does the caller's text so far sound unfinished? A second opinion next to smart-turn.

Measured (bench/voice_latency.py): smart-turn v3 alone judged "My card number is: four five
three two," complete in most runs, so the bot answered in the middle of a card number read in
groups. Whisper's speculative transcript (ready about when smart-turn is) tells what acoustics
cannot: a trailing comma or colon, a dangling function word, or digits after "card number" /
"date of birth" mean the caller is probably mid-dictation; the turn then waits for a longer
silence (``TurnConfig.unfinished_pause_s``) instead of ending at once — unless the value is
already whole: a date with its year, a Luhn-valid card number, the four digits asked for
"the last four" (bench/voice_latency.py: the date-of-birth turn then ends ~0.5 s sooner).
"""

from __future__ import annotations

import re

from core.masking import luhn_ok

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


_MONTHS = (
    r"jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|"
    r"sep(t(ember)?)?|oct(ober)?|nov(ember)?|dec(ember)?"
)
_WHOLE_DATE_EN = re.compile(
    rf"(\b({_MONTHS})\b.*\b(19|20)\d{{2}}|\b\d{{1,2}}[/.-]\d{{1,2}}[/.-](19|20)\d{{2}})[\s.!]*$"
)
_WHOLE_DATE_ZH = re.compile(r"(\d{4}|[零〇一二三四五六七八九]{4})年.{1,3}月.{1,3}[日号][。.\s]*$")
_LAST_FOUR = re.compile(r"\blast (four|4)\b.*(?<!\d)\d{4}[\s.!]*$")


def _whole_value(text: str) -> bool:
    """The dictated value is complete: a date with its year, a full card number, last four."""
    low = text.lower()
    if _WHOLE_DATE_EN.search(low) or _WHOLE_DATE_ZH.search(text) or _LAST_FOUR.search(low):
        return True
    digits = "".join(re.findall(r"\d", low))
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


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
        return not _whole_value(t)
    stripped = t.rstrip("。.!！?？ ")
    if stripped.endswith(_CONTINUATION_ZH):
        return True
    return bool(_DICTATION_ZH.search(t) and _DIGIT_ZH.search(t)) and not _whole_value(t)
