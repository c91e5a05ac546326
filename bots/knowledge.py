"""FAQ answers from the knowledge articles (the KB the assist sidebar searches).

A response in the flows may name a knowledge article (``kb: branch-hours``); when the KB is
available the bot answers with that article's lead paragraph in the customer's language
(``en-branch-hours`` / ``zh-branch-hours``), so an edit on the ``/kb`` page changes what the
bot says on the next turn. Without the KB, or for a retired, expired or missing article, the
response's own text is said instead.

The lead paragraph, not the best-ranked passage: article authors write the summary first,
and ranking by the question picks side paragraphs for general questions ("What are your
opening hours?" ranks the ATM paragraph first on the demo KB).

Bots may not import ``assist`` (import-linter layers), so the KB is duck-typed and handed in
by the composition root: ``articles()`` → objects with ``id``, ``version``, ``body``,
``language`` and ``valid_on(date)`` (``assist.kb.KnowledgeBase``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from core.clock import Clock

log = structlog.get_logger("hotline.bots.knowledge")

MAX_ANSWER_CHARS = 420
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s*")
_MARKDOWN = re.compile(r"^\s*(#+|[-*+]|\d+\.)\s+|\*\*|__|`", re.MULTILINE)
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")


@dataclass(frozen=True)
class KbAnswer:
    text: str
    article_id: str
    version: int


class KnowledgeSource(Protocol):
    async def answer(self, topic: str, *, question: str, language: str) -> KbAnswer | None:
        """The answer on ``topic`` (an article name) in ``language``; None: use the response."""
        ...


def lead_paragraph(body: str, *, max_chars: int = MAX_ANSWER_CHARS) -> str:
    """The article's first paragraph as plain text, cut at a sentence end near ``max_chars``."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    for p in paragraphs:
        text = " ".join(_MARKDOWN.sub("", _LINK.sub(r"\1", p)).split())
        if len(text) >= 20 or p is paragraphs[-1]:  # skip a lone heading line
            break
    else:
        return ""
    if len(text) <= max_chars:
        return text
    joiner = "" if _is_cjk(text) else " "
    out = ""
    for sentence in (s for s in _SENTENCE.split(text) if s):
        if out and len(out) + len(sentence) > max_chars:
            break
        out = f"{out}{joiner}{sentence}" if out else sentence
    return out or text[:max_chars]


def _is_cjk(text: str) -> bool:
    return bool(re.search(r"[\u3400-\u9fff]", text))


class ArticleAnswers:
    """``KnowledgeSource`` over the KB service; ``kb`` is the KB or a callable returning it
    (or None / a falsy stand-in while the assist feature is off or still starting)."""

    def __init__(self, kb: Any, *, clock: Clock, max_chars: int = MAX_ANSWER_CHARS):
        self._kb: Callable[[], Any] = kb if callable(kb) else (lambda: kb)
        self.clock = clock
        self.max_chars = max_chars

    async def answer(self, topic: str, *, question: str, language: str) -> KbAnswer | None:
        kb = self._kb()
        if not kb:
            return None
        try:
            articles = {a.id: a for a in kb.articles()}
        except Exception as e:  # a broken KB must not break the turn: the response is said
            log.warning("bots.kb.unavailable", error=str(e))
            return None
        today = self.clock.now().date()
        for article_id in (f"{language}-{topic}", topic):
            art = articles.get(article_id)
            if art is None or getattr(art, "language", language) != language:
                continue
            valid_on = getattr(art, "valid_on", None)
            if valid_on is not None and not valid_on(today):
                continue
            text = lead_paragraph(str(art.body), max_chars=self.max_chars)
            if text:
                return KbAnswer(text, art.id, int(getattr(art, "version", 1)))
        return None
