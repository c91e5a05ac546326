"""Knowledge answers reach the sidebar in the order the customer asked, even when the first
question's search finishes last (searches run beside the consumer, concurrently)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from assist.service import AssistService
from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.domain import Speaker
from core.events import AssistSuggestion, ContactStarted, TranscriptFinal


@dataclass
class Hit:
    passage_id: str
    title: str
    text: str
    version: int = 1
    score: float = 1.0
    bm25: float | None = 1.0
    cosine: float | None = 1.0


class SlowFirstKb:
    """The first question's search is held until the second one has finished."""

    def __init__(self) -> None:
        self.second_done = threading.Event()

    def search(self, text: str, **kw: object) -> list[Hit]:
        if "fee" in text:
            self.second_done.wait(10)
            return [Hit("fees#1", "Fees", "A fee of 5 dollars applies.")]
        self.second_done.set()
        return [Hit("hours#1", "Opening hours", "Branches open at nine.")]


async def test_answers_publish_in_the_order_asked() -> None:
    bus = MemoryBus()
    clock = FrozenClock()
    AssistService(bus, SlowFirstKb(), clock=clock, min_cosine={"en": 0.0, "zh": 0.0}).subscribe()
    got: list[str] = []

    async def keep(ev: AssistSuggestion) -> None:
        if ev.kind == "knowledge":
            got.append(ev.source)

    bus.subscribe("t", keep, types=["assist.suggestion"])
    await bus.start()
    await bus.publish(ContactStarted(contact_id="c1", channel="voice", language="en"))
    for text in ("What is the fee for a replacement card?", "When do your branches open?"):
        await bus.publish(TranscriptFinal(contact_id="c1", speaker=Speaker.CUSTOMER, text=text))
    async with asyncio.timeout(15):
        while len(got) < 2:
            await asyncio.sleep(0.01)
    await bus.close()
    assert got == ["kb:fees#1@v1", "kb:hours#1@v1"]
