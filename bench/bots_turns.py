"""Bot turns over the REST channel with the real NLU: throughput, turn latency, containment.

Replays the Rasa-style test stories (tests/stories/*.yml, EN + ZH) as scripted customers
against the Rasa-compatible REST webhook (ASGI, no network), with the trackers in SQLite and
the demo CRM seeded. Stories that are requests (they state an ``outcome`` or ``handoff``) make
the containment set; each run's containment = conversations resolved by the bot / all.
Latency is per REST turn and excludes model load (the NLU is trained/loaded before timing);
it is measured with one customer at a time, then throughput with ``concurrency`` customers
in parallel (whose turns queue behind each other on a 2-core machine).
Targets (issue 6): p99 turn ≤ 100 ms, containment ≥ 70 %.

    .venv/bin/python -m bench.bots_turns            # or: hotline bench bots_turns
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
STORIES_DIR = REPO / "tests" / "stories"
NAME = "bots_turns"


def load_requests() -> list[dict[str, Any]]:
    """Scripted customers: the user turns of every request story, with metadata."""
    out = []
    for path in sorted(STORIES_DIR.glob("*.yml")):
        for story in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
            if "outcome" not in story and "handoff" not in story:
                continue  # mechanics stories (digressions…) are not customer requests
            out.append(
                {
                    "name": f"{path.stem}:{story['story']}",
                    "metadata": story.get("metadata", {}),
                    "turns": [str(s["user"]).strip() for s in story["steps"] if "user" in s],
                }
            )
    return out


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


async def _run(rounds: int, concurrency: int, nlu_cache: Path, models_dir: Path) -> dict[str, Any]:
    import httpx
    from fastapi import FastAPI

    from bots.api import build_channel_router
    from bots.crm import seed_demo_crm
    from bots.dialogue.assembly import build_bot_service, train_demo_nlu
    from bots.dialogue.understanding import NluUnderstander
    from core.bus.memory import MemoryBus
    from core.clock import SystemClock
    from core.store import open_store
    from core.store.tables import bots as _bots_tables  # noqa: F401 - registers tables
    from core.store.tables import crm as _crm_tables  # noqa: F401
    from core.store.tables.base import Base
    from models import CATALOG, Registry

    t0 = time.perf_counter()
    nlu = train_demo_nlu(registry=Registry(CATALOG, models_dir=models_dir), cache_dir=nlu_cache)
    nlu.parse("warm up", language="en")
    nlu.parse("预热", language="zh")
    load_s = time.perf_counter() - t0

    tmp = Path(tempfile.mkdtemp(prefix="bench-bots-"))
    store = open_store(f"sqlite+aiosqlite:///{tmp / 'bench.db'}")
    names = [n for n in Base.metadata.tables if n.startswith(("crm_", "bot_"))]
    async with store.engine.begin() as conn:
        await conn.run_sync(
            lambda c: Base.metadata.create_all(c, tables=[Base.metadata.tables[n] for n in names])
        )
    await seed_demo_crm(store.sessions)
    bus = MemoryBus()
    await bus.start()
    service = await build_bot_service(
        sessions=store.sessions, bus=bus, clock=SystemClock(), understander=NluUnderstander(nlu)
    )
    app = FastAPI()
    app.state.bots = service
    app.include_router(build_channel_router(staff_dependencies=[]))

    requests = load_requests()

    async def phase(conc: int, tag: str) -> dict[str, Any]:
        latencies_ms: list[float] = []
        outcomes: dict[str, int] = {}
        sem = asyncio.Semaphore(conc)

        async def converse(client: httpx.AsyncClient, req: dict[str, Any], sender: str) -> None:
            async with sem:
                for text in req["turns"]:
                    t = time.perf_counter()
                    r = await client.post(
                        "/webhooks/rest/webhook",
                        json={"sender": sender, "message": text, "metadata": req["metadata"]},
                    )
                    latencies_ms.append((time.perf_counter() - t) * 1000)
                    r.raise_for_status()
                outcome = await service.end_conversation(sender, reason="bench_end") or "none"
                outcomes[outcome] = outcomes.get(outcome, 0) + 1

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            jobs = [
                (req, f"bench-{tag}-{r}-{i}")
                for r in range(rounds)
                for i, req in enumerate(requests)
            ]
            t1 = time.perf_counter()
            await asyncio.gather(*(converse(client, req, sender) for req, sender in jobs))
            wall_s = time.perf_counter() - t1
        return {"lat": latencies_ms, "outcomes": outcomes, "wall_s": wall_s}

    seq = await phase(1, "seq")  # turn latency without queueing behind other customers
    par = await phase(concurrency, "par")  # throughput with parallel customers
    await bus.close()
    await store.close()
    lat, outcomes = seq["lat"], seq["outcomes"]
    total = sum(outcomes.values())
    par_total = sum(par["outcomes"].values())
    return {
        "metrics": {
            "conversations": total,
            "turns": len(lat),
            "turn_p50_ms": round(_pct(lat, 0.5), 1),
            "turn_p99_ms": round(_pct(lat, 0.99), 1),
            "turn_mean_ms": round(statistics.fmean(lat), 1) if lat else 0.0,
            "conversations_per_s": round(par_total / par["wall_s"], 2),
            "turns_per_s": round(len(par["lat"]) / par["wall_s"], 1),
            "parallel_turn_p50_ms": round(_pct(par["lat"], 0.5), 1),
            "parallel_turn_p99_ms": round(_pct(par["lat"], 0.99), 1),
            "containment_rate": round(outcomes.get("resolved_by_bot", 0) / total, 3)
            if total
            else 0.0,
            "outcomes": outcomes,
            "model_load_s": round(load_s, 1),
        },
        "targets": {"turn_p99_ms": 100, "containment_rate": 0.70},
    }


def run(
    *,
    rounds: int = 3,
    concurrency: int = 4,
    nlu_cache: str | None = None,
    models_dir: str | None = None,
    write: bool = True,
) -> dict[str, Any]:
    """Replay the request stories ``rounds`` times with ``concurrency`` parallel customers."""
    from bench.report import finish

    result = asyncio.run(
        _run(
            rounds,
            concurrency,
            Path(nlu_cache) if nlu_cache else REPO / "var" / "nlu",
            Path(models_dir) if models_dir else REPO / "var" / "models",
        )
    )
    params = {"rounds": rounds, "concurrency": concurrency, "stories": len(load_requests())}
    return finish(NAME, {"params": params, **result}, write=write)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, ensure_ascii=False))
