"""The outbound benchmark runs end to end on a tiny input and returns valid JSON (no
numbers asserted: durations belong in bench/)."""

from __future__ import annotations

import asyncio
import json

from bench.outbound_dialer import run


async def test_bench_runs_on_a_tiny_input() -> None:
    out = await asyncio.to_thread(
        run, contacts=12, bot_slots=4, max_lines=6, talk_s=0.01, write=False
    )
    json.dumps(out)
    assert out["name"] == "outbound_dialer" and out["metrics"]["dials"] == 12
    assert out["metrics"]["peak_concurrent_bot_calls"] <= 4
