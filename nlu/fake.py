"""Deterministic fake embedder for unit tests: hashed bag of words and characters.

Honours the :class:`~nlu.embedders.Embedder` protocol so the engine, heads and API run in
milliseconds without model weights. Never selected by product code.
"""

from __future__ import annotations

import hashlib
import itertools
import re

import numpy as np


class FakeEmbedder:
    """Hashes word unigrams/bigrams and CJK characters into a fixed-width, L2-normalised vector."""

    def __init__(self, name: str = "minilm-l6-v2", dim: int = 384):
        self.name = name
        self.dim = dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        words = re.findall(r"\w+", text.lower())
        grams = words + [a + " " + b for a, b in itertools.pairwise(words)]
        grams += [c for c in text if "\u4e00" <= c <= "\u9fff"]
        for g in grams:
            h = int.from_bytes(
                hashlib.md5(g.encode(), usedforsecurity=False).digest()[:4], "little"
            )
            v[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vec(t) for t in texts])
