"""Outbound dialer benchmark: dials/minute the campaign scheduler sustains, and how many bot
conversations it keeps up at once, against the ARI (or Twilio) protocol fake on localhost.

Everything is real except the far end: SQLite (WAL) store with the claim/lease transitions,
the ARI HTTP originate + websocket events (or Twilio call-create + signed status callbacks),
the pacing decision and the per-attempt settle. Each answered call is held by a bot that
"talks" for ``talk_s`` seconds, so concurrency builds up to ``bot_slots``. Wall-clock figures
on a shared 2-core machine: read them as a floor, not a ceiling.
``hotline bench outbound`` → ``run()``; writes bench/results/outbound_dialer.json.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import finish

ALWAYS = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59:59"}]


class _TalkingBot:
    def __init__(self, talk_s: float) -> None:
        self.talk_s = talk_s
        self.now = 0
        self.peak = 0
        self.calls = 0

    async def run(self, call: Any) -> Any:
        from bots.campaigns.dispositions import Disposition
        from bots.campaigns.scheduler import CallResult

        self.now += 1
        self.calls += 1
        self.peak = max(self.peak, self.now)
        try:
            await asyncio.sleep(self.talk_s)
        finally:
            self.now -= 1
        return CallResult(Disposition.PROMISE_TO_PAY, answered_by="human")


async def _run(
    contacts: int,
    bot_slots: int,
    max_lines: int,
    talk_s: float,
    mode: str,
    answer_rate: float,
    seed: int,
) -> dict[str, Any]:
    from bots.campaigns import repo
    from bots.campaigns.contact_lists import ParsedContact
    from bots.campaigns.scheduler import CampaignScheduler
    from bots.dialer.asterisk_ari import AriDialer
    from core.clock import SystemClock
    from core.store import open_store
    from core.store.tables.base import Base
    from core.store.tables.campaigns import CAMPAIGN_TABLES
    from tests.fakes.ari_server import AriFake

    rng = random.Random(seed)
    numbers = [f"+1212736{i:04d}" for i in range(contacts)]
    script = {n: ("answer" if rng.random() < answer_rate else "no_answer") for n in numbers}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        async with store.engine.begin() as conn:
            await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=list(CAMPAIGN_TABLES)))
        clock = SystemClock()
        bot = _TalkingBot(talk_s)
        async with AriFake(script) as fake:
            dialer = AriDialer(base_url=fake.base_url, username="hotline", password="secret")
            await dialer.start()
            sched = CampaignScheduler(
                sessions=store.sessions,
                dialer=dialer,
                runner=bot,
                clock=clock,
                poll_interval_s=0.02,
            )
            settings = {
                "windows": ALWAYS,
                "retry": {"max_attempts": 1},
                "pacing": {"mode": mode, "max_lines": max_lines, "bot_slots": bot_slots},
            }
            async with store.sessions() as s, s.begin():
                c = await repo.create_campaign(
                    s, name="bench", script={}, settings=settings, now=clock.now()
                )
                await repo.add_contacts(
                    s,
                    campaign_id=c.id,
                    now=clock.now(),
                    contacts=[
                        ParsedContact(i + 2, n, f"C{i}", "US", ["America/New_York"], {})
                        for i, n in enumerate(numbers)
                    ],
                )
                await repo.transition(s, campaign_id=c.id, action="launch", now=clock.now())
            t0 = time.perf_counter()
            sched.start()
            while True:
                async with store.sessions() as s:
                    status = (await repo.get_campaign(s, c.id)).status
                if status == "completed":
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            await sched.stop()
            async with store.sessions() as s:
                stats = await repo.stats(s, campaign_id=c.id, now=clock.now())
            await dialer.close()
        await store.close()
    dials = sum(fake.dialed.values())
    return {
        "elapsed_s": round(elapsed, 2),
        "dials": dials,
        "dials_per_min": round(dials / elapsed * 60, 1),
        "peak_concurrent_bot_calls": bot.peak,
        "conversations": bot.calls,
        "abandon_rate": stats["abandon_rate"],
        "contact_rate": stats["contact_rate"],
    }


def run(
    contacts: int = 400,
    bot_slots: int = 20,
    max_lines: int = 40,
    talk_s: float = 1.0,
    mode: str = "predictive",
    answer_rate: float = 0.6,
    seed: int = 1,
    write: bool = True,
) -> dict[str, Any]:
    params = {
        "contacts": contacts,
        "bot_slots": bot_slots,
        "max_lines": max_lines,
        "talk_s": talk_s,
        "mode": mode,
        "answer_rate": answer_rate,
        "seed": seed,
        "dialer": "asterisk_ari (protocol fake on localhost)",
        "store": "sqlite",
    }
    metrics = asyncio.run(_run(contacts, bot_slots, max_lines, talk_s, mode, answer_rate, seed))
    return finish(
        "outbound_dialer",
        {"params": params, "metrics": metrics, "note": "measured on a shared 2-core machine"},
        write=write,
    )


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
