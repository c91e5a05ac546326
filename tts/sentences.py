"""Split reply text into speakable pieces so the first one can play while the rest synthesize.

Why: time-to-first-audio is the synthesis time of the first piece, so a long first sentence
is cut once more at its first clause break (comma/semicolon/colon, ASCII or CJK) when both
parts stay long enough to keep natural prosody (≥ 4 words, or ≥ 6 CJK characters).
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])")
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|(?<=[，；：])")
_CJK = re.compile(r"[\u3400-\u9fff]")
_MIN_WORDS = 4
_MIN_CJK_CHARS = 6


def _long_enough(piece: str) -> bool:
    cjk = len(_CJK.findall(piece))
    return cjk >= _MIN_CJK_CHARS if cjk else len(piece.split()) >= _MIN_WORDS


def split_sentences(text: str, *, split_first_clause: bool = True) -> list[str]:
    """Sentences of ``text`` in order; the first one cut at a clause break when it is long."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text.strip()) if p and p.strip()]
    if split_first_clause and pieces:
        parts = _CLAUSE_BREAK.split(pieces[0], maxsplit=1)
        if len(parts) == 2 and all(_long_enough(p) for p in parts):
            pieces[0:1] = [parts[0].strip(), parts[1].strip()]
    return pieces
