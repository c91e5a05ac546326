"""Spoken digits → digit strings, for card numbers, PINs and menu choices said aloud.

Why: Whisper writes a digit said alone as "One.", "1", "won" or "Oh" depending on context,
and Mandarin callers say 幺 for 1 and 两 for 2. Callers of ASR that expect digits normalise
with :func:`spoken_digits` instead of matching words. Homophones (to/too/for/ate/won) count
as digits only here, where the caller already expects digits.
"""

from __future__ import annotations

import re

DIGIT_WORDS: dict[str, str] = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0",
    "one": "1", "won": "1",
    "two": "2", "to": "2", "too": "2",
    "three": "3", "tree": "3",
    "four": "4", "for": "4", "fore": "4",
    "five": "5",
    "six": "6", "sicks": "6",
    "seven": "7",
    "eight": "8", "ate": "8",
    "nine": "9", "nein": "9",
    "零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip
_TOKEN = re.compile(r"[a-z]+|\d|[零〇一幺二两三四五六七八九]")

# A digit-list decoder prompt, kept for bench/asr_accuracy.py's comparison only: on isolated
# FSDD digits tiny.en often runs on into the prompt's sequence ("3 3 4 5 5 7 9 9 9 …"), which
# costs seconds of decoding. Do not use it on live turns; normalise with spoken_digits instead.
DIGITS_PROMPT = "Digits: 0 1 2 3 4 5 6 7 8 9."


def spoken_digits(text: str) -> str:
    """Every digit said in ``text``, in order, as one string ("four, 2 one" → "421")."""
    out = []
    for tok in _TOKEN.findall(text.lower()):
        if tok.isdigit():
            out.append(tok)
        elif tok in DIGIT_WORDS:
            out.append(DIGIT_WORDS[tok])
    return "".join(out)
