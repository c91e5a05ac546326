"""Assist benchmark: transcript.final → suggestion latency, and KB search at 100k passages.

Issue 8 targets: suggestion p95 ≤ 300 ms after ``transcript.final`` with 20 concurrent
contacts; KB search p99 ≤ 5 ms at 100 000 passages; forbidden-phrase alert < 1 s.

Part 1 replays customer questions (the labelled set) through a real MemoryBus and the real
AssistService with the E5 knowledge base. Each contact speaks a question every
``turn_interval_s`` (jittered) and the time to its ``knowledge`` suggestion is measured, for
1 and 20 concurrent contacts; a burst run has all 20 contacts ask at the same instant (worst
case). Every contact's agent then says a forbidden phrase and the compliance alert latency is
measured. Only questions whose answer passes the service's display gate are used, so every
measured utterance produces a suggestion.

Between questions each contact also says a line of small talk ("ok thanks", "嗯好的"), as
callers do; it is not measured, but it competes for the search slots.

Before / after in the same run (issue 8 latency work). The suggestion runs are repeated
with the earlier wiring (``before_*``): the store writer awaited inline in the consumer
(``StoreWriter``) and every customer line embedded, even small talk no passage shares a
keyword with; the new wiring writes suggestions behind, in batches (``QueuedStoreWriter``),
and skips the embedding without keyword support (``require_keyword``). Both write to a real
migrated SQLite store. The 100k search is timed against the earlier search code kept here
as the baseline (:func:`_legacy_search_vector`: the dense side oversampled ×8 with
``efSearch`` raised on the shared index and filtered afterwards, BM25 candidates by
``np.unique``), query by query, interleaved, on the same index.

Part 2 bulk-loads synthetic passages (real demo passages, perturbed: embeddings with noise,
text with tokens dropped and added) up to ``passages`` and measures hybrid search
(HNSW + BM25 + fusion) with precomputed query vectors, the E5 query embedding separately,
index build time, memory, and the HNSW recall@10 against exact search (whose latency is
reported too).

``hotline bench assist`` → ``run()``; writes bench/results/assist_latency.json.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import yaml

from assist.bm25 import Bm25Index
from assist.embedding import Embedder, HashingEmbedder, load_e5
from assist.kb import CANDIDATES, Hit, KnowledgeBase
from assist.passages import Passage
from assist.repo import QueuedStoreWriter, StoreWriter
from assist.service import MIN_COSINE, MIN_QUESTION_TOKENS, AssistService
from assist.tokens import tokenize
from bench.report import finish
from core.bus.memory import MemoryBus
from core.clock import SystemClock
from core.events import AssistSuggestion, ContactStarted, Event, TranscriptFinal
from core.store import open_store
from core.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
KB_DIR = ROOT / "assist" / "kb"
QUESTIONS = ROOT / "tests" / "fixtures" / "assist" / "kb_questions.yaml"
SMALL_TALK = (
    "ok thanks", "hmm okay one second", "yeah sure", "alright got it", "okay great thank you",
    "嗯好的", "好的谢谢",
)  # fmt: skip


class _UngatedKB:
    """The earlier search call: every customer line embedded (``require_keyword`` ignored)."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb

    def search(self, query: str, **kwargs: Any) -> list[Hit]:
        kwargs.pop("require_keyword", None)
        return self.kb.search(query, **kwargs)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, round(q / 100 * len(s)) - 1))], 3)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _questions() -> list[dict[str, Any]]:
    return yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]


def _answerable(
    kb: KnowledgeBase, questions: list[dict[str, Any]], gate: dict[str, float]
) -> list[tuple[dict, str]]:
    """Questions whose top hit the service would show, with that hit's passage id."""
    out = []
    for q in questions:
        hits = kb.search(q["q"], k=1, language=q["lang"])
        if len(tokenize(q["q"])) < MIN_QUESTION_TOKENS:
            continue
        if hits and hits[0].bm25 is not None and (hits[0].cosine or 0) >= gate[q["lang"]]:
            out.append((q, hits[0].passage_id))
    return out


def _plan(answerable: list[tuple[dict, str]], n: int, rng: random.Random) -> list[tuple[dict, str]]:
    """n questions with distinct answers (a passage is shown once per contact)."""
    pool = answerable[:]
    rng.shuffle(pool)
    seen: set[str] = set()
    plan = []
    for q, pid in pool:
        if pid not in seen:
            seen.add(pid)
            plan.append((q, pid))
        if len(plan) == n:
            break
    return plan


async def _suggestion_run(
    kb: KnowledgeBase,
    answerable: list[tuple[dict, str]],
    *,
    gate: dict[str, float],
    contacts: int,
    utterances: int,
    turn_interval_s: float,
    burst: bool,
    seed: int,
    before: bool = False,
) -> dict[str, Any]:
    clock = SystemClock()
    bus = MemoryBus()
    tmp = tempfile.TemporaryDirectory()
    store = open_store(f"sqlite+aiosqlite:///{Path(tmp.name) / 'bench.db'}")
    await upgrade(store)
    writer: StoreWriter | QueuedStoreWriter = (
        StoreWriter(store.sessions) if before else QueuedStoreWriter(store.sessions)
    )
    service = AssistService(
        bus, _UngatedKB(kb) if before else kb, clock=clock, min_cosine=gate,  # type: ignore[arg-type]
        store_writer=writer,
    )  # fmt: skip
    service.subscribe()
    # (contact, kind) → (future, source prefix the awaited suggestion must have)
    waiters: dict[tuple[str, str], tuple[asyncio.Future[float], str]] = {}

    async def collect(ev: Event) -> None:
        assert isinstance(ev, AssistSuggestion)
        fut, prefix = waiters.get((ev.contact_id or "", ev.kind), (None, ""))
        if fut is not None and not fut.done() and (ev.source or "").startswith(prefix):
            fut.set_result(time.perf_counter())

    bus.subscribe("bench", collect, types=["assist.suggestion"])
    await bus.start()
    latencies: list[float] = []
    alert_latencies: list[float] = []
    missed = 0
    start_gate = asyncio.Event()

    async def one_contact(i: int) -> None:
        nonlocal missed
        rng = random.Random(seed * 1000 + i)
        cid = f"bench-{contacts}-{i}-{seed}"
        lang_plan = _plan(answerable, utterances, rng)
        await bus.publish(ContactStarted(contact_id=cid, channel="voice", language="en"))
        await start_gate.wait()
        if not burst:
            await asyncio.sleep(rng.uniform(0, turn_interval_s))
        loop = asyncio.get_running_loop()
        for q, pid in lang_plan:
            fut = loop.create_future()
            waiters[(cid, "knowledge")] = (fut, f"kb:{pid}@")
            t0 = time.perf_counter()
            await bus.publish(
                TranscriptFinal(contact_id=cid, speaker="customer", text=q["q"], language=q["lang"])
            )
            try:
                latencies.append((await asyncio.wait_for(fut, timeout=10.0) - t0) * 1000)
            except TimeoutError:
                missed += 1
            if burst:
                await start_gate.wait()
                break
            await asyncio.sleep(turn_interval_s * rng.uniform(0.25, 0.75))
            chat = SMALL_TALK[rng.randrange(len(SMALL_TALK))]
            await bus.publish(TranscriptFinal(contact_id=cid, speaker="customer", text=chat))
            await asyncio.sleep(turn_interval_s * rng.uniform(0.25, 0.75))
        fut = loop.create_future()
        waiters[(cid, "compliance")] = (fut, "compliance:")
        t0 = time.perf_counter()
        text = "Honestly this fund gives guaranteed returns, you can't lose."
        await bus.publish(TranscriptFinal(contact_id=cid, speaker="agent", text=text))
        try:
            alert_latencies.append((await asyncio.wait_for(fut, timeout=10.0) - t0) * 1000)
        except TimeoutError:
            missed += 1

    kb.clear_query_cache()  # every utterance is embedded: no cache hits between contacts
    tasks = [asyncio.create_task(one_contact(i)) for i in range(contacts)]
    await bus.drain()
    start_gate.set()
    await asyncio.gather(*tasks)
    await bus.drain()
    await service.close()
    await bus.close()
    await store.close()
    tmp.cleanup()
    return {
        "contacts": contacts,
        "burst": burst,
        "before": before,
        "utterances": len(latencies),
        "missed": missed,
        "suggestion_p50_ms": _pct(latencies, 50),
        "suggestion_p95_ms": _pct(latencies, 95),
        "suggestion_max_ms": round(max(latencies), 3) if latencies else None,
        "compliance_alert_p95_ms": _pct(alert_latencies, 95),
    }


def _legacy_bm25(
    index: Bm25Index, tokens: list[str], k: int, allowed: np.ndarray
) -> list[tuple[int, float]]:
    """BM25 top-k as searched before: candidates by ``np.unique`` of the postings (baseline)."""
    out = np.zeros(index.n_docs, dtype=np.float32)
    touched = []
    for term in set(tokens):
        t = index.vocab.get(term)
        if t is None:
            continue
        s = index._indptr[t]
        e = min(index._indptr[t + 1], s + index.max_postings)
        cols = index._cols[s:e]
        out[cols] += index._weights[s:e]
        touched.append(cols)
    if not touched:
        return []
    cand = np.unique(np.concatenate(touched))
    cand = cand[allowed[cand]]
    if len(cand) == 0:
        return []
    vals = out[cand]
    if len(cand) > k:
        kth = np.partition(vals, len(vals) - k)[len(vals) - k]
        top = np.flatnonzero(vals >= kth)
    else:
        top = np.arange(len(cand))
    top = top[np.lexsort((cand[top], -vals[top]))][:k]
    return [(int(cand[i]), float(vals[i])) for i in top if vals[i] > 0.0]


def _legacy_search_vector(
    kb: KnowledgeBase, query: str, vector: np.ndarray, *, k: int, language: str
) -> list[Hit]:
    """The hybrid search as it was before the issue-8 latency work, on the same index (the
    baseline): the dense side oversampled ×8 with ``efSearch`` raised on the shared index and
    filtered afterwards, BM25 candidates by ``np.unique``; the same fusion."""
    allowed = kb.row_filter(language=language).mask
    dense = _legacy_dense(kb, vector, allowed)
    sparse = _legacy_bm25(kb.bm25_index, tokenize(query), CANDIDATES, allowed)
    return kb.fuse(dense, sparse, k=k)


def _legacy_dense(
    kb: KnowledgeBase, vector: np.ndarray, allowed: np.ndarray
) -> list[tuple[int, float]]:
    """The earlier dense side: oversample ×8 with efSearch raised, filter afterwards."""
    dense_index = kb.dense_index
    index = dense_index.index
    want = min(len(dense_index), CANDIDATES * 8)
    index.hnsw.efSearch = max(dense_index.ef_search, want)
    scores, ids = index.search(vector.reshape(1, -1).astype(np.float32), want)
    index.hnsw.efSearch = dense_index.ef_search
    return [
        (int(r), float(sc)) for r, sc in zip(ids[0], scores[0], strict=True)
        if r >= 0 and allowed[r]
    ][:CANDIDATES]  # fmt: skip


def _synthetic(
    kb: KnowledgeBase, embedder: Embedder, n: int, rng: np.random.Generator, noise: float
) -> tuple[list[Passage], np.ndarray]:
    base = kb.passages()  # the demo passages
    base_vecs = embedder.passage([p.indexed_text for p in base])
    vocab = sorted({t for p in base for t in tokenize(p.indexed_text)})
    picks = rng.integers(0, len(base), size=n)
    vecs = base_vecs[picks] + rng.normal(0, noise, size=(n, base_vecs.shape[1])).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    passages = []
    for i, j in enumerate(picks):
        src = base[j]
        toks = tokenize(src.text)
        keep = [t for t in toks if rng.random() > 0.3]
        extra = [vocab[k] for k in rng.integers(0, len(vocab), size=5)]
        text = " ".join([*keep, *extra, f"syn{i}"])
        passages.append(Passage(f"syn-{i // 4}", 1, i % 4, src.title, text, src.language))
    return passages, vecs.astype(np.float32)


def _search_scale(
    embedder: Embedder, passages_n: int, queries: int, seed: int, noise: float
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    clock = SystemClock()
    demo = KnowledgeBase(embedder=embedder, clock=clock)
    demo.import_folder(KB_DIR)
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    passages, vecs = _synthetic(demo, embedder, passages_n, rng, noise)
    gen_s = time.perf_counter() - t0
    big = KnowledgeBase(embedder=embedder, clock=clock)
    t0 = time.perf_counter()
    big.add_passages(passages, vecs)
    dense_build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    big.warm()
    bm25_build_s = time.perf_counter() - t0
    rss1 = _rss_mb()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        big.save()  # no index_dir: no-op; persist the dense index explicitly for its size
        big.dense_index.save(Path(tmp))
        save_s = time.perf_counter() - t0
        index_mb = round((Path(tmp) / "dense.faiss").stat().st_size / 2**20, 1)

    qs = _questions()
    qtexts = [q["q"] for q in qs]
    embed_ms = []
    qvecs = []
    for text in qtexts:
        t0 = time.perf_counter()
        qvecs.append(np.asarray(embedder.query(text), dtype=np.float32))
        embed_ms.append((time.perf_counter() - t0) * 1000)
    for i in range(min(20, len(qtexts))):  # warm the mask cache and code paths
        big.search_vector(qtexts[i], qvecs[i], k=3, language=qs[i]["lang"])
        _legacy_search_vector(big, qtexts[i], qvecs[i], k=3, language=qs[i]["lang"])
    search_ms, search_cpu_ms, legacy_ms, legacy_cpu_ms = [], [], [], []
    same_top = 0
    for i in range(queries):  # new and earlier search interleaved: the same load on both
        j = i % len(qtexts)
        t0, c0 = time.perf_counter(), time.thread_time()
        new = big.search_vector(qtexts[j], qvecs[j], k=3, language=qs[j]["lang"])
        search_ms.append((time.perf_counter() - t0) * 1000)
        search_cpu_ms.append((time.thread_time() - c0) * 1000)
        t0, c0 = time.perf_counter(), time.thread_time()
        old = _legacy_search_vector(big, qtexts[j], qvecs[j], k=3, language=qs[j]["lang"])
        legacy_ms.append((time.perf_counter() - t0) * 1000)
        legacy_cpu_ms.append((time.thread_time() - c0) * 1000)
        same_top += bool(new and old and new[0].passage_id == old[0].passage_id)

    # ANN quality and the exact-search baseline on the same vectors
    flat = faiss.IndexFlatIP(vecs.shape[1])
    flat.add(vecs)
    exact_ms, recall = [], []
    for qv in qvecs:
        t0 = time.perf_counter()
        _, exact = flat.search(qv.reshape(1, -1), 10)
        exact_ms.append((time.perf_counter() - t0) * 1000)
        approx = [r for r, _ in big.dense_index.search(qv, 10)]
        recall.append(len(set(approx) & set(exact[0].tolist())) / 10)
    # the filtered dense candidates (language filter) against exact search with the same filter
    filtered_recall: dict[str, list[float]] = {"new": [], "before": []}
    for qv, q in zip(qvecs, qs, strict=True):
        filt = big.row_filter(language=q["lang"])
        params = faiss.SearchParameters(sel=filt.selector)
        _, exact = flat.search(qv.reshape(1, -1), CANDIDATES, params=params)
        truth = set(exact[0].tolist())
        for name, got in (
            ("new", big.dense_index.search(qv, CANDIDATES, filt)),
            ("before", _legacy_dense(big, qv, filt.mask)),
        ):
            filtered_recall[name].append(len({r for r, _ in got} & truth) / CANDIDATES)
    hnsw_ms = []
    for qv in qvecs:
        t0 = time.perf_counter()
        big.dense_index.search(qv, 10)
        hnsw_ms.append((time.perf_counter() - t0) * 1000)
    return {
        "passages": passages_n,
        "synthetic_generation_s": round(gen_s, 2),
        "dense_index_build_s": round(dense_build_s, 2),
        "bm25_index_build_s": round(bm25_build_s, 2),
        "dense_index_save_s": round(save_s, 2),
        "dense_index_file_mb": index_mb,
        "rss_increase_mb": round(rss1 - rss0, 1),
        "rss_total_mb": rss1,
        "search_p50_ms": _pct(search_ms, 50),
        "search_p99_ms": _pct(search_ms, 99),
        # CPU time of the searching thread: the same searches without the time other
        # processes took the core away (the box is shared; wall p99 shows preemption)
        "search_cpu_p50_ms": _pct(search_cpu_ms, 50),
        "search_cpu_p99_ms": _pct(search_cpu_ms, 99),
        "before_search_p50_ms": _pct(legacy_ms, 50),
        "before_search_p99_ms": _pct(legacy_ms, 99),
        "before_search_cpu_p50_ms": _pct(legacy_cpu_ms, 50),
        "before_search_cpu_p99_ms": _pct(legacy_cpu_ms, 99),
        "same_top_hit_as_before": round(same_top / max(queries, 1), 3),
        "query_embedding_p50_ms": _pct(embed_ms, 50),
        "query_embedding_p99_ms": _pct(embed_ms, 99),
        "search_with_embedding_p99_ms": round(_pct(search_ms, 99) + _pct(embed_ms, 99), 3),
        "hnsw_p50_ms": _pct(hnsw_ms, 50),
        "hnsw_p99_ms": _pct(hnsw_ms, 99),
        "exact_flat_p50_ms": _pct(exact_ms, 50),
        "exact_flat_p99_ms": _pct(exact_ms, 99),
        "hnsw_speedup_vs_exact_p50": round(_pct(exact_ms, 50) / max(_pct(hnsw_ms, 50), 1e-6), 1),
        "hnsw_recall_at_10_vs_exact": round(float(np.mean(recall)), 3),
        "filtered_dense_recall_at_20_vs_exact": round(float(np.mean(filtered_recall["new"])), 3),
        "before_filtered_dense_recall_at_20_vs_exact": round(
            float(np.mean(filtered_recall["before"])), 3
        ),
    }


def _registry():  # type: ignore[no-untyped-def]
    from pathlib import Path

    from models import CATALOG, Registry

    return Registry(CATALOG, models_dir=Path("var/models"))


def run(
    *,
    contacts: tuple[int, ...] = (1, 20),
    utterances_per_contact: int = 8,
    turn_interval_s: float = 2.0,
    passages: int = 100_000,
    queries: int = 1000,
    embedder: str = "e5",
    noise: float = 0.035,
    seed: int = 7,
    write: bool = True,
) -> dict[str, Any]:
    """Run both parts; ``embedder="hashing"`` and small sizes make a seconds-long smoke run."""
    params = {
        "contacts": list(contacts), "utterances_per_contact": utterances_per_contact,
        "turn_interval_s": turn_interval_s, "passages": passages, "queries": queries,
        "embedder": embedder, "noise": noise, "seed": seed,
    }  # fmt: skip
    emb: Embedder = load_e5(_registry()) if embedder == "e5" else HashingEmbedder()
    t0 = time.perf_counter()
    kb = KnowledgeBase(embedder=emb, clock=SystemClock(), query_cache_size=0)
    kb.import_folder(KB_DIR)
    import_s = time.perf_counter() - t0
    # the hashing stand-in has no calibrated cosine: let its hits through
    gate = dict(MIN_COSINE) if embedder == "e5" else {"en": -1.0, "zh": -1.0}
    answerable = _answerable(kb, _questions(), gate)
    runs = []
    burst_n = max(contacts)
    # The earlier wiring (before) and the new one run back to back for each load, so both
    # see about the same contention from whatever else shares the machine.
    plan: list[tuple[int, bool, bool]] = [(n, False, False) for n in contacts if n != burst_n]
    plan += [(burst_n, False, True), (burst_n, False, False)]
    plan += [(burst_n, True, True), (burst_n, True, False)]
    for n, burst_run, before in plan:
        one = _suggestion_run(
            kb, answerable, gate=gate, contacts=n,
            utterances=1 if burst_run else utterances_per_contact,
            turn_interval_s=0 if burst_run else turn_interval_s, burst=burst_run, seed=seed,
            before=before,
        )  # fmt: skip
        runs.append(asyncio.run(one))
    scale = _search_scale(emb, passages, queries, seed, noise)
    metrics: dict[str, Any] = {
        "demo_kb_import_s": round(import_s, 2),
        "demo_kb_passages": kb.passage_count,
        "answerable_questions": len(answerable),
    }
    for r in runs:
        tag = f"burst{r['contacts']}" if r["burst"] else f"c{r['contacts']}"
        tag = f"before_{tag}" if r["before"] else tag
        for key, value in r.items():
            if key not in ("contacts", "burst", "before"):
                metrics[f"{tag}_{key}"] = value
    metrics.update({f"kb{passages}_{k}": v for k, v in scale.items() if k != "passages"})
    c20 = next(r for r in runs if r["contacts"] == burst_n and not r["burst"] and not r["before"])
    b20 = next(r for r in runs if r["contacts"] == burst_n and not r["burst"] and r["before"])
    metrics["targets"] = {
        "suggestion_p95_le_300ms_at_20": c20["suggestion_p95_ms"] <= 300,
        "kb_search_p99_le_5ms": scale["search_p99_ms"] <= 5,
        "compliance_alert_lt_1s": all((r["compliance_alert_p95_ms"] or 0) < 1000 for r in runs),
    }
    result = {
        "name": "assist_latency",
        "params": params,
        "metrics": metrics,
        "baseline": {
            "name": "the same run with the earlier code: inline store writes, every line "
                    "embedded, oversampled dense search, np.unique BM25; and exact FAISS",
            "suggestion_p95_ms_at_max": b20["suggestion_p95_ms"],
            "search_p99_ms": scale["before_search_p99_ms"],
            "exact_flat_p50_ms": scale["exact_flat_p50_ms"],
            "exact_flat_p99_ms": scale["exact_flat_p99_ms"],
        },
        "ratio": {
            "suggestion_p95_before_over_after": round(
                b20["suggestion_p95_ms"] / max(c20["suggestion_p95_ms"], 1e-6), 2),
            "search_p99_before_over_after": round(
                scale["before_search_p99_ms"] / max(scale["search_p99_ms"], 1e-6), 2),
            "search_cpu_p50_before_over_after": round(
                scale["before_search_cpu_p50_ms"] / max(scale["search_cpu_p50_ms"], 1e-6), 2),
            "hnsw_speedup_vs_exact_p50": scale["hnsw_speedup_vs_exact_p50"],
        },
        "note": "2-core machine shared with other engineers' jobs: figures taken under contention",
    }  # fmt: skip
    return finish("assist_latency", result, write=write)


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
