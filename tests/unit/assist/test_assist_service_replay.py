"""Recorded demo calls (EN and ZH) replayed through the in-memory bus.

The KB uses the hashing embedder (engine boundary); knowledge hits with the real E5 are
checked in tests/integration/assist/test_assist_replay_e5.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assist.kb import KnowledgeBase
from assist.replay import load_recorded_call
from assist.service import AssistService
from assist.summary import ContactSummary
from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.events import AssistSuggestion, ContactEnded, ContactStarted, Event, TranscriptFinal

ANY_COSINE = {"en": 0.0, "zh": 0.0}


class ListWriter:
    def __init__(self) -> None:
        self.suggestions: list[AssistSuggestion] = []
        self.summaries: list[ContactSummary] = []

    async def save_suggestion(self, event: AssistSuggestion) -> None:
        self.suggestions.append(event)

    async def save_summary(self, summary: ContactSummary) -> None:
        self.summaries.append(summary)


async def _run(
    kb: KnowledgeBase, clock: FrozenClock, events: list[Event], writer: ListWriter | None = None
) -> list[AssistSuggestion]:
    bus = MemoryBus()
    AssistService(bus, kb, clock=clock, store_writer=writer, min_cosine=ANY_COSINE).subscribe()
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
        for ev in events:
            await bus.publish(ev)
        await asyncio.wait_for(done.wait(), timeout=30)
        await bus.drain()
    finally:
        await bus.close()
    return got


def _assert_subsequence(got: list[AssistSuggestion], expected: list[list]) -> None:
    it = iter(got)
    for exp in expected:
        kind, source, *score = exp
        for s in it:
            if s.kind == kind and s.source == source and (not score or s.score == score[0]):
                break
        else:
            seen = [(s.kind, s.source, s.score) for s in got]
            pytest.fail(f"missing {exp} (in order) among {seen}")


@pytest.mark.parametrize("call", ["call_en.yaml", "call_zh.yaml"])
async def test_recorded_call_produces_expected_suggestions_alerts_and_summary(
    call: str, fixtures_dir: Path, demo_kb: KnowledgeBase, clock: FrozenClock
):
    rec = load_recorded_call(fixtures_dir / call, clock=clock)
    writer = ListWriter()
    got = await _run(demo_kb, clock, list(rec.events), writer)
    exp = rec.expect
    _assert_subsequence(got, exp["suggestions"])
    assert all(s.contact_id == rec.contact_id for s in got)

    alerts = [s for s in got if s.kind == "compliance"]
    assert alerts[0].body == exp["compliance_evidence"]
    entities = {s.title: s.body for s in got if s.kind == "entity"}
    assert entities.items() >= exp["entities"].items()

    [summary] = writer.summaries
    want = exp["summary"]
    assert summary.language == rec.language
    assert summary.reason == want["reason"]
    assert list(summary.actions[: len(want["actions"])]) == want["actions"]
    assert summary.outcome == want["outcome"]
    assert list(summary.follow_ups) == want["follow_ups"]
    assert summary.entities.items() >= exp["entities"].items()
    assert got[-1].kind == "summary" and got[-1].body == summary.render()
    assert [s.id for s in writer.suggestions] == [s.id for s in got]


async def test_redelivered_events_are_ignored(
    fixtures_dir: Path, demo_kb: KnowledgeBase, clock: FrozenClock
):
    rec = load_recorded_call(fixtures_dir / "call_en.yaml", clock=clock)
    once = await _run(demo_kb, clock, list(rec.events))
    body = list(rec.events[:-1])
    twice = await _run(demo_kb, clock, [*body, *body, rec.events[-1]])
    assert [(s.kind, s.source, s.body) for s in twice] == [(s.kind, s.source, s.body) for s in once]


async def test_contact_without_transcript_still_gets_a_summary(
    demo_kb: KnowledgeBase, clock: FrozenClock
):
    events = [
        ContactStarted(contact_id="c-silent", channel="chat", language="zh-CN", at=clock.now()),
        TranscriptFinal(contact_id="c-silent", speaker="customer", text="   ", at=clock.now()),
        ContactEnded(contact_id="c-silent", reason="abandoned", at=clock.now()),
    ]
    got = await _run(demo_kb, clock, events)
    assert [(s.kind, s.source) for s in got] == [
        ("disclosure", "disclosure:recording_notice"),
        ("summary", "summary:abandoned"),
    ]
    assert got[-1].title == "本次联络无对话内容"
    assert "未完成告知：录音告知" in got[-1].body and "客户中途挂断" in got[-1].body


async def test_empty_kb_gives_no_knowledge_but_everything_else(
    fixtures_dir: Path, clock: FrozenClock, embedder
):
    empty = KnowledgeBase(embedder=embedder, clock=clock)
    rec = load_recorded_call(fixtures_dir / "call_zh.yaml", clock=clock)
    got = await _run(empty, clock, list(rec.events))
    kinds = {s.kind for s in got}
    assert "knowledge" not in kinds and {"compliance", "summary", "script"} <= kinds


async def test_contacts_are_kept_apart(fixtures_dir: Path, demo_kb: KnowledgeBase, clock):
    a = load_recorded_call(fixtures_dir / "call_en.yaml", clock=clock, contact_id="A")
    b = load_recorded_call(fixtures_dir / "call_zh.yaml", clock=clock, contact_id="B")
    interleaved = [e for pair in zip(a.events, b.events, strict=False) for e in pair]
    interleaved += list(a.events[len(b.events) :])
    got = await _run(demo_kb, clock, interleaved)
    by = {cid: [s for s in got if s.contact_id == cid] for cid in "AB"}
    assert {s.title for s in by["A"] if s.kind == "summary"} == {
        "Customer reported a lost or stolen card"
    }
    assert {s.title for s in by["B"] if s.kind == "summary"} == {"客户咨询理财产品"}
    assert not any(s.kind == "deescalation" for s in by["B"])
