"""The latency work on the search path (issue 8) keeps results and removes work:

- the dense search filters inside the HNSW walk (a FAISS selector) and returns only allowed
  rows, the same top rows as exact search on a small index, and searches exactly when a
  filter is too narrow for the graph walk;
- BM25 candidates from the score accumulator give the same ranking as exact BM25 scores;
- ``require_keyword`` skips the query embedding when no passage shares a keyword.
"""

from __future__ import annotations

import numpy as np

from assist.bm25 import Bm25Index
from assist.dense import DenseIndex, RowFilter
from assist.embedding import HashingEmbedder
from assist.kb import KnowledgeBase
from core.clock import FrozenClock


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_filtered_dense_search_returns_only_allowed_rows_in_exact_order() -> None:
    rng = np.random.default_rng(3)
    vecs = _unit(rng, 2000, 32)
    index = DenseIndex(32)
    index.add(vecs)
    allowed = rng.random(2000) < 0.5
    filt = RowFilter(allowed)
    for q in _unit(rng, 10, 32):
        got = index.search(q, 10, filt)
        assert len(got) == 10 and all(allowed[r] for r, _ in got)
        exact = np.flatnonzero(allowed)[np.argsort(-(vecs[allowed] @ q))][:10]
        assert got[0][0] == exact[0]  # an HNSW graph this small finds the best row
        assert len({r for r, _ in got} & set(exact.tolist())) >= 8
        assert index.search(q, 10, allowed) == got  # a bare mask works the same
    assert index.search(vecs[0], 5, RowFilter(np.zeros(2000, dtype=bool))) == []


def test_a_narrow_filter_falls_back_to_exact_search() -> None:
    rng = np.random.default_rng(5)
    vecs = _unit(rng, 3000, 16)
    index = DenseIndex(16, ef_search=16)
    index.add(vecs)
    allowed = np.zeros(3000, dtype=bool)
    allowed[[7, 1500, 2999]] = True  # three rows scattered in a big graph
    got = index.search(vecs[1500], 5, RowFilter(allowed))
    assert sorted(r for r, _ in got) == [7, 1500, 2999]  # all of them, never fewer
    assert got[0][0] == 1500 and abs(got[0][1] - 1.0) < 1e-5


def test_bm25_candidates_match_exact_scores() -> None:
    rng = np.random.default_rng(11)
    words = [f"w{i}" for i in range(300)]
    docs = [[words[j] for j in rng.integers(0, 300, size=rng.integers(3, 30))] for _ in range(800)]
    index = Bm25Index(docs)
    allowed = rng.random(800) < 0.6
    for _ in range(20):
        query = [words[j] for j in rng.integers(0, 300, size=4)]
        exact = index.scores(query) * allowed
        want = sorted(np.flatnonzero(exact > 0), key=lambda r: (-exact[r], r))[:10]
        got = index.search(query, 10, allowed)
        assert [r for r, _ in got] == want
        assert np.allclose([s for _, s in got], exact[want])


class _CountingQueries(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.queries = 0

    def query(self, texts: str) -> np.ndarray:
        self.queries += 1
        return super().query(texts)


def test_require_keyword_skips_the_embedding_of_small_talk(demo_kb_dir) -> None:  # type: ignore[no-untyped-def]
    emb = _CountingQueries()
    kb = KnowledgeBase(embedder=emb, clock=FrozenClock(), query_cache_size=0)
    kb.import_folder(demo_kb_dir)
    assert kb.search("zzzqx blorfy", k=1, language="en", require_keyword=True) == []
    assert not kb.keyword_support("zzzqx blorfy", language="en")
    assert emb.queries == 0  # nothing embedded
    hits = kb.search("my card was stolen", k=1, language="en", require_keyword=True)
    assert hits and hits[0].bm25 is not None and emb.queries == 1
    # without the flag the dense side still answers (the KB page, the retrieval test)
    assert kb.search("zzzqx blorfy", k=1, language="en") != [] and emb.queries == 2
