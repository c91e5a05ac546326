"""The sidebar fan-out (per contact, bounded, catch-up merge) and rating re-ranking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from assist.kb import Hit
from assist.live import AssistLive, event_message
from assist.ranking import RatingBoosts, passage_key
from core.bus import open_bus
from core.events import AssistSuggestion

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def sug(cid: str, n: int) -> AssistSuggestion:
    return AssistSuggestion(contact_id=cid, at=T0 + timedelta(seconds=n), kind="knowledge",
                            title=f"t{n}", source=f"kb:a#{n}@v1")  # fmt: skip


async def test_fan_out_per_contact_and_catch_up_merges_without_duplicates() -> None:
    live = AssistLive(open_bus("memory://"), queue_size=2)
    a, b = live.watch("c1"), live.watch("c2")
    events = [sug("c1", n) for n in range(3)]
    for ev in events:
        await live.handle(ev)
    assert b.empty() and a.qsize() == 2 and live.dropped == 1  # slow socket: oldest dropped
    assert [a.get_nowait()["title"] for _ in range(2)] == ["t1", "t2"]
    live.unwatch("c1", a)
    assert live.watching("c1") == 0
    stored = [event_message(events[0]), event_message(sug("c1", 5))]  # same id as in ring
    merged = live.catch_up("c1", stored)
    assert [m["title"] for m in merged] == ["t0", "t1", "t2", "t5"]


def hit(pid: str, score: float) -> Hit:
    return Hit(passage_id=pid, article_id=pid.split("#")[0], version=1, title=pid, text="",
               language="en", score=score)  # fmt: skip


def test_ratings_rerank_close_hits_but_not_far_ones() -> None:
    assert passage_key("kb:en-fees#2@v3") == "en-fees#2" and passage_key("script:x/y") is None
    boosts = RatingBoosts()
    hits = [hit("a#0", 0.0330), hit("b#0", 0.0325), hit("c#0", 0.0100)]
    assert [h.passage_id for h in boosts.rerank(hits, 3)] == ["a#0", "b#0", "c#0"]
    boosts.load({"kb:b#0@v1": (1, 0), "kb:b#0@v2": (1, 0), "kb:c#0@v1": (5, 0)})
    assert boosts.votes("b#0") == (2, 0)
    assert [h.passage_id for h in boosts.rerank(hits, 2)] == ["b#0", "a#0"]  # c too far behind
    boosts.set_passage("kb:b#0@v1", 0, 3)
    assert boosts.rerank(hits, 1)[0].passage_id == "a#0"
