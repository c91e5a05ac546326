"""The knowledge base: versioned articles, paragraph passages, hybrid dense + BM25 retrieval.

Retrieval runs both retrievers over the passages that are live, valid on the given day and
(optionally) in the contact's language, then fuses the two rankings with reciprocal rank
fusion (Cormack et al. 2009, k=60): rank fusion needs no score calibration between cosine
and BM25, and it is robust when one retriever misses (BM25 on paraphrases, dense on exact
numbers and product names). One hit per article is returned, with the passage that ranked
best, because the sidebar shows the answer, not a list of paragraphs of one article.

Persistence (``index_dir``): ``kb.json`` (article versions + passage rows) and
``dense.faiss``. Re-importing embeds only passages whose fingerprint is new.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np

from assist.articles import LANGUAGES, Article, ImportProblem, read_folder
from assist.bm25 import Bm25Index
from assist.dense import DenseIndex, RowFilter
from assist.embedding import Embedder
from assist.errors import KnowledgeIndexInvalid
from assist.passages import Passage, split_passages
from assist.tokens import tokenize
from core.clock import Clock
from core.errors import NotFoundError

FORMAT_VERSION = 1
META_FILE = "kb.json"
RRF_K = 60
CANDIDATES = 20
_NO_END = date.max.toordinal()


@dataclass(frozen=True)
class Hit:
    """One answer: the best passage of one article, with its fused and raw scores."""

    passage_id: str
    article_id: str
    version: int
    title: str
    text: str
    language: str
    score: float
    cosine: float | None = None
    bm25: float | None = None

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    embedded_passages: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "problems": [{"path": p.path, "problem": p.problem} for p in self.problems],
            "embedded_passages": self.embedded_passages,
        }  # fmt: skip


UpsertStatus = Literal["added", "updated", "unchanged"]


def rrf(rankings: list[list[tuple[int, float]]], *, k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion of ranked (row, score) lists: sum of 1/(k + rank)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (row, _) in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return fused


class KnowledgeBase:
    """Articles in, passages indexed, hits out. Thread-safe: searches may run in threads."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        clock: Clock,
        index_dir: Path | None = None,
        query_cache_size: int = 2048,
    ):
        self.embedder = embedder
        self.clock = clock
        self.index_dir = index_dir
        self._lock = threading.RLock()
        self._versions: dict[str, list[Article]] = {}
        self._retired: set[str] = set()
        self._rows: list[Passage] = []
        self._live = np.zeros(0, dtype=bool)
        self._lang = np.zeros(0, dtype=np.int8)
        self._from = np.zeros(0, dtype=np.int32)
        self._to = np.zeros(0, dtype=np.int32)
        self._dense = DenseIndex(embedder.dim)
        self._bm25: Bm25Index | None = None
        self._masks: dict[tuple[int, str | None], RowFilter] = {}
        self._qcache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._qcache_size = query_cache_size

    # -- opening and saving ------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: Path, *, embedder: Embedder, clock: Clock) -> KnowledgeBase:
        """Load a persisted KB; a missing folder gives an empty KB; a stale index is rebuilt."""
        kb = cls(embedder=embedder, clock=clock, index_dir=index_dir)
        meta_path = index_dir / META_FILE
        if not meta_path.exists():
            return kb
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise KnowledgeIndexInvalid(f"cannot read {meta_path}: {e}") from e
        if meta.get("format_version") != FORMAT_VERSION:
            raise KnowledgeIndexInvalid(
                f"{meta_path}: unsupported format {meta.get('format_version')}"
            )
        kb._versions = {
            aid: [Article.from_dict(v) for v in versions]
            for aid, versions in meta["articles"].items()
        }
        kb._retired = set(meta.get("retired", []))
        rows_ok = meta.get("dim") == embedder.dim and meta.get("embedder") == _embedder_name(
            embedder
        )
        if rows_ok:
            try:
                kb._dense.load(index_dir)
            except KnowledgeIndexInvalid:
                rows_ok = False
        if rows_ok and len(kb._dense) == len(meta["rows"]):
            kb._rows = [Passage(**r["p"]) for r in meta["rows"]]
            kb._live = np.array([r["live"] for r in meta["rows"]], dtype=bool)
            n = len(kb._rows)
            kb._lang = np.array([LANGUAGES.index(p.language) for p in kb._rows], dtype=np.int8)
            kb._from = np.zeros(n, dtype=np.int32)
            kb._to = np.full(n, _NO_END, dtype=np.int32)
            for aid in kb._versions:
                kb._refresh_validity(aid)
        else:  # embedder changed or files out of step: re-embed everything once
            kb._dense = DenseIndex(embedder.dim)
            for aid in kb._versions:
                if aid not in kb._retired:
                    kb._sync(kb._versions[aid][-1])
            kb.save()
        return kb

    def save(self) -> None:
        if self.index_dir is None:
            return
        with self._lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            self._dense.save(self.index_dir)
            meta = {
                "format_version": FORMAT_VERSION,
                "embedder": _embedder_name(self.embedder),
                "dim": self.embedder.dim,
                "articles": {a: [v.to_dict() for v in vs] for a, vs in self._versions.items()},
                "retired": sorted(self._retired),
                "rows": [
                    {"p": p.__dict__, "live": bool(live)}
                    for p, live in zip(self._rows, self._live, strict=True)
                ],
            }
            tmp = self.index_dir / (META_FILE + ".tmp")
            tmp.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            tmp.replace(self.index_dir / META_FILE)

    # -- articles ----------------------------------------------------------------------------
    def upsert(self, article: Article) -> tuple[Article, UpsertStatus]:
        """Add or edit an article: an edit becomes a new version; the same content is a no-op."""
        with self._lock:
            versions = self._versions.get(article.id)
            if versions and versions[-1].fingerprint == article.fingerprint:
                if article.id in self._retired:  # re-imported after retiring: back in search
                    self._retired.discard(article.id)
                    self._sync(versions[-1])
                return versions[-1], "unchanged"
            new = article.with_version(versions[-1].version + 1 if versions else 1)
            self._versions.setdefault(article.id, []).append(new)
            self._retired.discard(article.id)
            self._sync(new)
            return new, "updated" if versions else "added"

    def retire(self, article_id: str) -> None:
        """Take an article out of search (its versions are kept for the record)."""
        with self._lock:
            if article_id not in self._versions:
                raise NotFoundError(f"no article {article_id!r}")
            self._retired.add(article_id)
            self._tombstone([r for r in self._article_rows(article_id)])

    def import_folder(self, folder: Path) -> ImportReport:
        """Import every article of a folder; malformed ones are reported, the rest imported."""
        report = ImportReport()
        if not folder.is_dir():
            report.problems.append(ImportProblem(str(folder), "not a folder"))
            return report
        articles, report.problems = read_folder(folder)
        before = len(self._dense)
        for art in articles:
            _, status = self.upsert(art)
            getattr(report, status).append(art.id)
        report.embedded_passages = len(self._dense) - before
        self.save()
        return report

    def article(self, article_id: str, version: int | None = None) -> Article:
        versions = self._versions.get(article_id)
        if not versions:
            raise NotFoundError(f"no article {article_id!r}")
        if version is None:
            return versions[-1]
        for v in versions:
            if v.version == version:
                return v
        raise NotFoundError(f"article {article_id!r} has no version {version}")

    def versions(self, article_id: str) -> list[Article]:
        return list(self._versions.get(article_id, []))

    def articles(self) -> list[Article]:
        """Current version of every article that is not retired."""
        return [vs[-1] for aid, vs in sorted(self._versions.items()) if aid not in self._retired]

    def warm(self) -> None:
        """Build the lazily built keyword index now (after a bulk load, before traffic)."""
        with self._lock:
            self._bm25_index()

    @property
    def dense_index(self) -> DenseIndex:
        return self._dense

    def passages(self) -> list[Passage]:
        """Every live passage (all validity dates and languages)."""
        return [p for p, live in zip(self._rows, self._live, strict=True) if live]

    @property
    def passage_count(self) -> int:
        return int(self._live.sum())

    # -- indexing ----------------------------------------------------------------------------
    def _article_rows(self, article_id: str) -> list[int]:
        return [i for i, p in enumerate(self._rows) if p.article_id == article_id and self._live[i]]

    def _tombstone(self, rows: list[int]) -> None:
        if rows:
            self._live[rows] = False
            self._changed()

    def _changed(self) -> None:
        self._bm25 = None
        self._masks.clear()

    def _refresh_validity(self, article_id: str) -> None:
        art = self._versions[article_id][-1]
        rows = [i for i, p in enumerate(self._rows) if p.article_id == article_id]
        self._from[rows] = art.valid_from.toordinal() if art.valid_from else 0
        self._to[rows] = art.valid_to.toordinal() if art.valid_to else _NO_END

    def _sync(self, article: Article) -> None:
        """Make the rows of one article match its current version, embedding only new text."""
        old = {self._rows[r].fingerprint: r for r in self._article_rows(article.id)}
        fresh: list[Passage] = []
        for p in split_passages(article):
            row = old.pop(p.fingerprint, None)
            if row is None:
                fresh.append(p)
            else:
                self._rows[row] = p  # same text: keep the vector, update version/position
        self._tombstone(list(old.values()))
        if fresh:
            vectors = self.embedder.passage([p.indexed_text for p in fresh])
            self._append(fresh, vectors)
        self._refresh_validity(article.id)
        self._changed()
        if len(self._rows) > 64 and (~self._live).sum() > 0.25 * len(self._rows):
            self._compact()

    def _append(self, passages: list[Passage], vectors: np.ndarray) -> None:
        self._dense.add(vectors)
        n = len(passages)
        self._rows.extend(passages)
        self._live = np.concatenate([self._live, np.ones(n, dtype=bool)])
        langs = [LANGUAGES.index(p.language) for p in passages]
        self._lang = np.concatenate([self._lang, np.array(langs, dtype=np.int8)])
        self._from = np.concatenate([self._from, np.zeros(n, dtype=np.int32)])
        self._to = np.concatenate([self._to, np.full(n, _NO_END, dtype=np.int32)])

    def _compact(self) -> None:
        keep = np.flatnonzero(self._live)
        self._dense.rebuild(keep)
        self._rows = [self._rows[i] for i in keep]
        self._live = np.ones(len(keep), dtype=bool)
        self._lang, self._from, self._to = self._lang[keep], self._from[keep], self._to[keep]
        self._changed()

    def add_passages(self, passages: list[Passage], vectors: np.ndarray) -> None:
        """Bulk-load pre-embedded passages (benchmarks at 100k scale; no article versions)."""
        with self._lock:
            self._append(passages, vectors)
            self._changed()

    # -- search ------------------------------------------------------------------------------
    def _mask(self, day: date, language: str | None) -> RowFilter:
        """Searchable rows on ``day`` in ``language``: built once per (day, language) until
        the passages change, with the FAISS selector the dense search filters by."""
        key = (day.toordinal(), language)
        filt = self._masks.get(key)
        if filt is None:
            o = day.toordinal()
            mask = self._live & (self._from <= o) & (self._to >= o)
            if language in LANGUAGES:
                mask &= self._lang == LANGUAGES.index(language)
            if len(self._masks) >= 16:  # old days of a long-running process
                self._masks.clear()
            filt = self._masks[key] = RowFilter(mask)
        return filt

    def row_filter(self, *, language: str | None = None, on: date | None = None) -> RowFilter:
        """The rows a search on ``on`` (default today) in ``language`` may return."""
        with self._lock:
            return self._mask(on or self.clock.now().date(), language)

    @property
    def bm25_index(self) -> Bm25Index:
        with self._lock:
            return self._bm25_index()

    def _bm25_index(self) -> Bm25Index:
        if self._bm25 is None:
            self._bm25 = Bm25Index(
                [
                    tokenize(p.indexed_text) if live else []
                    for p, live in zip(self._rows, self._live, strict=True)
                ]
            )
        return self._bm25

    def clear_query_cache(self) -> None:
        self._qcache.clear()

    def embed_query(self, text: str) -> np.ndarray:
        """Query vector, cached (agents and customers repeat the same questions)."""
        vec = self._qcache.get(text)
        if vec is None:
            vec = np.asarray(self.embedder.query(text), dtype=np.float32)
            if self._qcache_size:
                self._qcache[text] = vec
                if len(self._qcache) > self._qcache_size:
                    self._qcache.popitem(last=False)
        return vec

    def search(
        self,
        query: str,
        *,
        k: int = 3,
        language: str | None = None,
        on: date | None = None,
        require_keyword: bool = False,
    ) -> list[Hit]:
        """Best passages for a question; empty for an empty KB or a blank question.

        ``require_keyword``: answer ``[]`` without embedding the question when no searchable
        passage shares a keyword with it. The live sidebar only shows hits with keyword
        support, so for small talk the embedding (most of a search's cost) is wasted work.
        """
        if not query.strip() or not self._rows:
            return []
        if require_keyword and not self.keyword_support(query, language=language, on=on):
            return []
        return self.search_vector(query, self.embed_query(query), k=k, language=language, on=on)

    def keyword_support(
        self, query: str, *, language: str | None = None, on: date | None = None
    ) -> bool:
        """Whether any searchable passage matches a keyword of ``query`` (BM25 only)."""
        day = on or self.clock.now().date()
        with self._lock:
            if not self._rows:
                return False
            mask = self._mask(day, language).mask
            return bool(self._bm25_index().search(tokenize(query), 1, mask))

    def search_vector(
        self,
        query: str,
        vector: np.ndarray,
        *,
        k: int = 3,
        language: str | None = None,
        on: date | None = None,
    ) -> list[Hit]:
        """Hybrid search with a precomputed query vector (lets callers batch or cache it)."""
        day = on or self.clock.now().date()
        with self._lock:
            if not self._rows:
                return []
            allowed = self._mask(day, language)
            dense = self._dense.search(vector, CANDIDATES, allowed)
            sparse = self._bm25_index().search(tokenize(query), CANDIDATES, allowed.mask)
            return self.fuse(dense, sparse, k=k)

    def fuse(
        self, dense: list[tuple[int, float]], sparse: list[tuple[int, float]], *, k: int
    ) -> list[Hit]:
        """RRF of the two rankings, one hit per article (call with the lock held)."""
        fused = rrf([dense, sparse])
        cos = dict(dense)
        bm = dict(sparse)
        hits: list[Hit] = []
        seen: set[str] = set()
        for row, score in sorted(fused.items(), key=lambda kv: -kv[1]):
            p = self._rows[row]
            if p.article_id in seen:
                continue
            seen.add(p.article_id)
            hits.append(
                Hit(
                    p.id,
                    p.article_id,
                    p.version,
                    p.title,
                    p.text,
                    p.language,
                    round(score, 6),
                    cos.get(row),
                    bm.get(row),
                )
            )
            if len(hits) == k:
                break
        return hits


def _embedder_name(embedder: Embedder) -> str:
    return f"{type(embedder).__module__}.{type(embedder).__name__}:{embedder.dim}"
