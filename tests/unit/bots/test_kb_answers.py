"""FAQ answers come from the knowledge articles (the KB the assist sidebar uses) when the KB
is available, in the customer's language and on every channel, and from the response text
in the flows otherwise. The KB is the real ``assist.kb.KnowledgeBase`` over the shipped demo
articles, with the hashing embedder (no model needed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assist.embedding import HashingEmbedder
from assist.kb import KnowledgeBase
from bots.dialogue_responder import DialogueResponder
from bots.knowledge import ArticleAnswers, lead_paragraph
from core.clock import FrozenClock
from tests.unit.bots.conftest import Harness

DEMO_KB = Path(__file__).resolve().parents[3] / "assist" / "kb"
KB_EN = "Demo Bank branches are open Monday to Friday from 9:00 to 17:00 and on Saturday from 9:30"
KB_ZH = "演示银行各网点营业时间为周一至周五 9:00 至 17:00，周六 9:30 至 13:00"
YAML_EN = "Our branches are open Monday to Friday 9 am to 5 pm"  # the flows' fallback text


@pytest.fixture(scope="module")
def demo_kb() -> KnowledgeBase:
    kb = KnowledgeBase(
        embedder=HashingEmbedder(), clock=FrozenClock(datetime(2026, 1, 5, tzinfo=UTC))
    )
    report = kb.import_folder(DEMO_KB)
    assert "en-branch-hours" in report.added and "zh-branch-hours" in report.added
    return kb


def _with_kb(bot: Harness, kb: object) -> None:
    bot.service.engine.knowledge = ArticleAnswers(kb, clock=bot.clock)


async def test_branch_hours_come_from_the_article_in_both_languages(
    bot: Harness, demo_kb: KnowledgeBase
) -> None:
    _with_kb(bot, demo_kb)
    replies = await bot.service.handle_message("s1", "What are your opening hours?")
    assert replies[0].text.startswith(KB_EN)
    assert replies[0].response == "utter_branch_hours"
    assert replies[0].extra == {"kb_article": "en-branch-hours", "kb_version": 1}
    assert YAML_EN not in replies[0].text
    zh = await bot.say("你们的营业时间是什么？", sender="s2")
    assert zh[0].startswith(KB_ZH)
    t = await bot.service.tracker("s1")
    assert t is not None and t.resolved  # still a flow the bot resolved
    assert any(e["event"] == "kb_answer" for e in t.events)


async def test_voice_reads_the_article_too(bot: Harness, demo_kb: KnowledgeBase) -> None:
    _with_kb(bot, demo_kb)
    said = await DialogueResponder(bot.service).respond(
        "When are you open?", contact_id="call-1", language="en"
    )
    assert said.startswith(KB_EN)


async def test_an_edited_article_changes_the_answer_on_the_next_turn(
    bot: Harness, tmp_path: Path
) -> None:
    kb = KnowledgeBase(embedder=HashingEmbedder(), clock=bot.clock)
    kb.import_folder(DEMO_KB)
    _with_kb(bot, kb)
    old = kb.article("en-branch-hours")
    kb.upsert(replace(old, body="Branches now open 8:00 to 18:00 on weekdays.\n\n" + old.body))
    replies = await bot.service.handle_message("s1", "opening hours please")
    assert replies[0].text == "Branches now open 8:00 to 18:00 on weekdays."
    assert replies[0].extra["kb_version"] == 2
    kb.retire("en-branch-hours")  # retired: the flows' own text again
    assert (await bot.say("opening hours please", sender="s2"))[0].startswith(YAML_EN)


async def test_without_the_kb_the_response_text_is_said(
    bot: Harness, demo_kb: KnowledgeBase
) -> None:
    assert (await bot.say("What are your opening hours?"))[0].startswith(YAML_EN)  # no source

    class Off:  # app.state.kb while the assist feature is off (core.errors.Disabled)
        def __bool__(self) -> bool:
            return False

    _with_kb(bot, lambda: Off() or None)
    assert (await bot.say("opening hours", sender="s2"))[0].startswith(YAML_EN)

    class Broken:
        def articles(self) -> list:
            raise RuntimeError("index file unreadable")

    _with_kb(bot, Broken())
    assert (await bot.say("opening hours", sender="s3"))[0].startswith(YAML_EN)

    _with_kb(bot, demo_kb)  # expired article (valid to 2026-12-31): the response text
    bot.clock.advance(400 * 86_400)  # 2027-02-09
    assert (await bot.say("opening hours", sender="s4"))[0].startswith(YAML_EN)


def test_lead_paragraph_is_plain_text_cut_at_a_sentence() -> None:
    body = "# Hours\n\n**Open** 9-5 on [weekdays](https://x.example). Closed Sundays.\n\nMore."
    assert lead_paragraph(body) == "Open 9-5 on weekdays. Closed Sundays."
    long = " ".join(f"Sentence number {i} is here." for i in range(40))
    cut = lead_paragraph(long, max_chars=100)
    assert cut.endswith("is here.") and len(cut) <= 100
    zh = "第一句话。" * 50
    assert lead_paragraph(zh, max_chars=20) == "第一句话。" * 4
