"""Split articles into paragraph-level passages, each carrying its article's title.

The sidebar shows the passage that answers the question, not the whole article, so the unit
of retrieval is a paragraph. The title is prepended for embedding and BM25 because a
paragraph like "It arrives within 5 working days" means nothing without it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from assist.articles import Article
from assist.tokens import has_han

MAX_CHARS = 700
MIN_CHARS = 40
MIN_CHARS_HAN = 15  # a Chinese character carries about a word
_SENTENCE_END = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s*")


@dataclass(frozen=True)
class Passage:
    article_id: str
    version: int
    position: int
    title: str
    text: str
    language: str

    @property
    def id(self) -> str:
        return f"{self.article_id}#{self.position}"

    @property
    def indexed_text(self) -> str:
        return f"{self.title}\n{self.text}"

    @property
    def fingerprint(self) -> str:
        """Content hash: an unchanged paragraph keeps its embedding across article versions."""
        return hashlib.sha1(self.indexed_text.encode(), usedforsecurity=False).hexdigest()


def _split_long(text: str) -> list[str]:
    if len(text) <= MAX_CHARS:
        return [text]
    chunks: list[str] = []
    cur = ""
    for sent in _SENTENCE_END.split(text):
        if cur and len(cur) + len(sent) > MAX_CHARS:
            chunks.append(cur.strip())
            cur = ""
        cur += sent + ("" if sent.endswith(("\u3002", "\uff01", "\uff1f")) else " ")
    if cur.strip():
        chunks.append(cur.strip())
    return chunks


def split_passages(article: Article) -> list[Passage]:
    """Blank-line paragraphs; headings and short lines join the next paragraph."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", article.body) if p.strip()]
    merged: list[str] = []
    carry = ""
    for p in paragraphs:
        p = re.sub(r"^#+\s*", "", p)
        if len(p) < (MIN_CHARS_HAN if has_han(p) else MIN_CHARS):
            carry = f"{carry} {p}".strip()
            continue
        merged.append(f"{carry}\n{p}" if carry else p)
        carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]}\n{carry}"
        else:
            merged.append(carry)
    texts = [chunk for p in merged for chunk in _split_long(p)]
    return [
        Passage(article.id, article.version, i, article.title, t, article.language)
        for i, t in enumerate(texts)
    ]
