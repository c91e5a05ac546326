"""QA throughput: contacts scored per minute (text-only and with e5 embeddings), memory.

Contacts are the EN/ZH fixture calls of tests/fixtures/qa, cycled with fresh ids. The
target of issue 9 is ≥ 1 000 transcribed contacts per minute on this machine; the ratio
to that target is reported. Memory: peak RSS of the process and the Python heap peak
(tracemalloc) while scoring. Figures are taken on a shared 2-core machine.

Run: ``.venv/bin/python -m bench.qa_throughput`` or ``hotline bench qa_throughput``.
"""

from __future__ import annotations

import gc
import json
import resource
import time
import tracemalloc
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from bench.report import finish
from qa.score import score_contact
from qa.scorecard import load_default
from qa.transcript import CallTranscript, parse_call

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "qa" / "calls"
TARGET_PER_MIN = 1_000


def _calls(n: int) -> list[CallTranscript]:
    base = [parse_call(json.loads(p.read_text("utf-8"))) for p in sorted(FIXTURES.glob("*.json"))]
    return [
        c.model_copy(update={"call_id": f"{c.call_id}-{i}"})
        for i, c in enumerate(islice(cycle(base), n))
    ]


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _measure(calls: list[CallTranscript], embedder: Any) -> dict[str, float]:
    card = load_default()  # a fresh card: example embeddings are encoded inside the timing
    gc.collect()
    t0 = time.perf_counter()
    for call in calls:
        score_contact(call, card, embedder=embedder)
    elapsed = time.perf_counter() - t0
    # heap peak on a separate, smaller pass: tracemalloc slows scoring several-fold
    tracemalloc.start()
    for call in calls[:50]:
        score_contact(call, card, embedder=embedder)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_min = len(calls) / elapsed * 60
    return {
        "contacts": len(calls),
        "seconds": round(elapsed, 3),
        "contacts_per_min": round(per_min, 1),
        "ms_per_contact": round(elapsed / len(calls) * 1000, 2),
        "heap_peak_mb": round(peak / 2**20, 2),
        "ratio_to_target": round(per_min / TARGET_PER_MIN, 2),
    }


def run(
    contacts: int = 3_000,
    embedding_contacts: int = 150,
    embeddings: bool = True,
    write: bool = True,
) -> dict[str, Any]:
    """Score ``contacts`` text-only and ``embedding_contacts`` with e5; small = smoke test."""
    turns = sum(len(c.turns) for c in _calls(min(contacts, 30))) / max(min(contacts, 30), 1)
    metrics: dict[str, Any] = {"rss_start_mb": _rss_mb(), "turns_per_contact": round(turns, 1)}
    metrics["text_only"] = _measure(_calls(contacts), None)
    metrics["rss_after_text_only_mb"] = _rss_mb()
    if embeddings and embedding_contacts:
        from models import CATALOG, Registry
        from qa.embedding import load_e5

        t0 = time.perf_counter()
        embedder = load_e5(Registry(CATALOG, models_dir=Path("var/models")))
        metrics["e5_load_s"] = round(time.perf_counter() - t0, 2)
        metrics["with_embeddings"] = _measure(_calls(embedding_contacts), embedder)
        metrics["rss_after_embeddings_mb"] = _rss_mb()
    result = {
        "name": "qa_throughput",
        "params": {
            "contacts": contacts,
            "embedding_contacts": embedding_contacts,
            "embeddings": embeddings,
            "scorecard": "default",
        },
        "metrics": metrics,
        "baseline": {"target_contacts_per_min": TARGET_PER_MIN},
        "note": "2-core machine shared with other engineers' jobs; figures under contention",
    }
    return finish("qa_throughput", result, write=write)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
