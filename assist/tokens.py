"""Text normalisation and tokenisation shared by BM25, compliance matching and entities.

English is split into lower-case words with a tiny stop list and plural folding; Chinese has
no spaces, so every run of Han characters becomes overlapping character bigrams (the usual
choice for Chinese BM25 without a segmenter: robust to out-of-vocabulary words, no model).
"""

from __future__ import annotations

import itertools
import re
import unicodedata

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_HAN}]+|[a-z0-9]+(?:'[a-z]+)?")
_HAN_RE = re.compile(rf"[{_HAN}]")

_STOP_EN_WORDS = (
    "a an and are as at be been but by can could do does did for from had has have how i if "
    "in into is it its me my of on or our please so than that the their them then there these "
    "they this to was we were what when where which who why will with would you your yours "
    "i'm it's i've i'd can't don't hi hello"
)
STOP_EN = frozenset(_STOP_EN_WORDS.split())
STOP_ZH = frozenset(
    {"的", "了", "吗", "呢", "吧", "我", "你", "您", "是", "在", "请问", "一下", "怎么", "什么"}
)


def normalise(text: str) -> str:
    """NFKC (full-width → ASCII), lower case, single spaces: the form every matcher sees."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(text.split())


def has_han(text: str) -> bool:
    return _HAN_RE.search(text) is not None


def _fold_en(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Index/query terms: folded English words and Han character bigrams (unigram if alone)."""
    out: list[str] = []
    for m in _TOKEN_RE.finditer(normalise(text)):
        tok = m.group()
        if _HAN_RE.match(tok):
            chars = list(tok)
            if len(chars) == 1:
                if tok not in STOP_ZH:
                    out.append(tok)
                continue
            out.extend(a + b for a, b in itertools.pairwise(chars))
        elif tok not in STOP_EN:
            out.append(_fold_en(tok))
    return out
