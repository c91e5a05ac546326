"""Which language an utterance is in, from its script: enough to route en vs zh.

A Han-character share of 20 % or more sends text to the Chinese (multilingual e5) head; mixed
"我的card丢了" goes there too because e5 reads both scripts while MiniLM reads only English.
"""

from __future__ import annotations


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF


def detect_language(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "en"
    han = sum(1 for c in letters if _is_han(c))
    # a Han character carries about a word; latin letters come ~5 to a word
    return "zh" if han * 5 >= 0.2 * (len(letters) - han + han * 5) else "en"
