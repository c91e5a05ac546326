"""Agents' ratings (useful / not) feeding back into knowledge ranking.

A knowledge suggestion's source is ``kb:<passage>@v<version>``; ratings are counted per
passage (all versions: an edit rarely changes whether a passage answers a question).
:class:`RankedKnowledge` wraps a :class:`~assist.kb.KnowledgeBase`: it asks for a few more
candidates than wanted and re-sorts them by ``score * (1 + weight * net)`` where ``net`` is
``(up - down) / (up + down + 2)`` — a smoothed vote in (-1, 1), so one rating nudges and
many ratings move a passage, but never past a much better match.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from assist.kb import Hit, KnowledgeBase

WEIGHT = 0.5
CANDIDATES = 8


def passage_key(source: str | None) -> str | None:
    """``kb:en-fees#2@v3`` → ``en-fees#2``; None for non-knowledge sources."""
    if not source or not source.startswith("kb:"):
        return None
    return source[3:].split("@v", 1)[0]


class RatingBoosts:
    """(useful, not useful) counts per KB passage, kept in memory, safe across threads."""

    def __init__(self, weight: float = WEIGHT):
        self.weight = weight
        self._votes: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def load(self, by_source: Mapping[str, tuple[int, int]]) -> None:
        """Replace the counts from ``assist.repo.source_ratings`` (sources → up, down)."""
        votes: dict[str, tuple[int, int]] = {}
        for source, (up, down) in by_source.items():
            key = passage_key(source)
            if key is None:
                continue
            u, d = votes.get(key, (0, 0))
            votes[key] = (u + up, d + down)
        with self._lock:
            self._votes = votes

    def set_passage(self, source: str | None, up: int, down: int) -> None:
        key = passage_key(source)
        if key is not None:
            with self._lock:
                self._votes[key] = (up, down)

    def votes(self, passage_id: str) -> tuple[int, int]:
        with self._lock:
            return self._votes.get(passage_id, (0, 0))

    def net(self, passage_id: str) -> float:
        up, down = self.votes(passage_id)
        return (up - down) / (up + down + 2)

    def rerank(self, hits: list[Hit], k: int) -> list[Hit]:
        """Best ``k`` hits by rating-adjusted score (stable for unrated passages)."""
        scored = [
            (h.score * (1.0 + self.weight * self.net(h.passage_id)), -i, h)
            for i, h in enumerate(hits)
        ]
        scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
        return [replace(h, score=s) for s, _i, h in scored[:k]]


class RankedKnowledge:
    """A KnowledgeBase whose ``search`` is re-ranked by agents' ratings; all else delegated."""

    def __init__(self, kb: KnowledgeBase, boosts: RatingBoosts, *, candidates: int = CANDIDATES):
        self.inner = kb
        self.boosts = boosts
        self.candidates = candidates

    def search(self, query: str, *, k: int = 3, **kwargs: Any) -> list[Hit]:
        hits = self.inner.search(query, k=max(k, self.candidates), **kwargs)
        return self.boosts.rerank(hits, k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
