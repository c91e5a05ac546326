"""The routing benchmark runs on a tiny input and returns JSON-able results (no timings
asserted); the indexed and linear decisions it compares must agree."""

from __future__ import annotations

import json

from bench.routing_decisions import run


def test_bench_smoke() -> None:
    r = run(
        agents=(60,),
        contacts=30,
        rounds=1,
        strategies=("longest_idle", "skill_level"),
        sim_calls=300,
        sim_replications=2,
        baseline_n=30,
        write=False,
    )
    json.dumps(r)
    assert r["name"] == "routing_decisions"
    rows = r["metrics"]["decisions"]
    assert {row["strategy"] for row in rows} == {"longest_idle", "skill_level"}
    assert all(row["index_vs_linear_mismatches"] == 0 for row in rows)
    assert all(row["decisions_per_s"] > 0 and row["p99_ms"] >= 0 for row in rows)
    assert len(r["metrics"]["simulator_vs_erlang_c"]["cases"]) == 3
    assert r["metrics"]["service_dispatch"]["assigned"] <= 50
