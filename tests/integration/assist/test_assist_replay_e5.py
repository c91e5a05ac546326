"""Recorded demo calls replayed through the bus with the real E5 knowledge base: the
knowledge suggestion is the article that answers the customer, and small talk gets none."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assist.kb import KnowledgeBase
from assist.replay import load_recorded_call
from assist.service import AssistService
from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.events import AssistSuggestion, Event

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("call", ["call_en.yaml", "call_zh.yaml"])
async def test_knowledge_suggestion_answers_the_customer(
    call: str, e5_kb: KnowledgeBase, assist_fixtures: Path
):
    clock = FrozenClock()
    rec = load_recorded_call(assist_fixtures / call, clock=clock)
    bus = MemoryBus()
    AssistService(bus, e5_kb, clock=clock).subscribe()
    got: list[AssistSuggestion] = []
    done = asyncio.Event()

    async def collect(ev: Event) -> None:
        assert isinstance(ev, AssistSuggestion)
        got.append(ev)
        if ev.kind == "summary":
            done.set()

    bus.subscribe("test", collect, types=["assist.suggestion"])
    await bus.start()
    try:
        for ev in rec.events:
            await bus.publish(ev)
        await asyncio.wait_for(done.wait(), timeout=60)
    finally:
        await bus.close()
    knowledge = [s for s in got if s.kind == "knowledge"]
    # exactly one answer: the on-topic question; names, amounts and complaints get none
    assert [s.source.split(":")[1].split("#")[0] for s in knowledge] == [
        rec.expect["knowledge_first"]
    ]
    assert knowledge[0].body in e5_kb.article(rec.expect["knowledge_first"]).body
