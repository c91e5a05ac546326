"""The assist benchmark runs on a tiny input and returns valid JSON (numbers not asserted)."""

import json

from bench.assist_latency import run


def test_bench_runs_tiny_and_returns_json():
    result = run(
        contacts=(1, 2), utterances_per_contact=1, turn_interval_s=0.0, passages=300,
        queries=10, embedder="hashing", write=False,
    )  # fmt: skip
    json.dumps(result)
    m = result["metrics"]
    assert result["name"] == "assist_latency"
    assert m["c1_missed"] == 0 and m["c2_utterances"] == 2 and m["burst2_utterances"] == 2
    assert {"kb300_search_p99_ms", "kb300_dense_index_build_s", "kb300_rss_increase_mb"} <= set(m)
    assert set(m["targets"]) == {
        "suggestion_p95_le_300ms_at_20", "kb_search_p99_le_5ms", "compliance_alert_lt_1s"
    }  # fmt: skip
