"""Dense passage vectors in a FAISS HNSW index: add-only with tombstones, persisted.

HNSW cannot delete, so a changed or retired passage is tombstoned (filtered out of results)
and new passages are appended; only new fingerprints are embedded. When more than a quarter
of the rows are dead the graph is rebuilt from the stored vectors (``reconstruct_n``), with
no re-embedding. Vectors are L2-normalised, so inner product = cosine.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from assist.errors import KnowledgeIndexInvalid

INDEX_FILE = "dense.faiss"


class DenseIndex:
    def __init__(self, dim: int, *, m: int = 32, ef_construction: int = 80, ef_search: int = 64):
        self.dim = dim
        self.m = m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.index = self._new()

    def _new(self) -> faiss.IndexHNSWFlat:
        index = faiss.IndexHNSWFlat(self.dim, self.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        index.hnsw.efSearch = self.ef_search
        return index

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, vectors: np.ndarray) -> range:
        """Append vectors; returns the rows they got."""
        start = len(self)
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return range(start, len(self))

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        if len(self) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        all_vecs = self.index.reconstruct_n(0, len(self))
        return all_vecs[rows]

    def rebuild(self, keep_rows: np.ndarray) -> None:
        """Drop every row not in ``keep_rows`` (order kept); row numbers become 0..len-1."""
        kept = self.vectors(keep_rows)
        self.index = self._new()
        self.add(kept)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (row, cosine); oversamples so filtered rows (dead/expired/other language) fit."""
        if len(self) == 0 or k <= 0:
            return []
        want = min(len(self), k * 8 if allowed is not None else k)
        self.index.hnsw.efSearch = max(self.ef_search, want)
        scores, ids = self.index.search(query.reshape(1, -1).astype(np.float32), want)
        out: list[tuple[int, float]] = []
        for row, score in zip(ids[0], scores[0], strict=True):
            if row < 0 or (allowed is not None and not allowed[row]):
                continue
            out.append((int(row), float(score)))
            if len(out) == k:
                break
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (INDEX_FILE + ".tmp")
        faiss.write_index(self.index, str(tmp))
        tmp.replace(folder / INDEX_FILE)

    def load(self, folder: Path) -> None:
        path = folder / INDEX_FILE
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as e:
            raise KnowledgeIndexInvalid(f"cannot read {path}: {e}".splitlines()[0]) from e
        if index.d != self.dim:
            raise KnowledgeIndexInvalid(f"{path}: dimension {index.d}, expected {self.dim}")
        self.index = index
        self.index.hnsw.efSearch = self.ef_search
