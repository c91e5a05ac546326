"""Rasa-style test stories for every demo flow, EN and ZH, over the REST channel, real NLU.

Each story runs against a fresh store (so blocking a card in one story cannot affect
another), while the NLU is trained/loaded once per session. A story checks, in order, the
response names the bot utters after each user turn, the NLU intent of the turn (via the
tracker endpoint), and optional end conditions: outcome, handoff reason, blocked card,
follow-up record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select

from bots.dialogue.understanding import NluUnderstander
from core.events import HandoffRequested
from core.store.tables.crm import CrmCardRow
from tests.unit.bots.conftest import Harness, make_app, make_harness

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
STORIES = sorted((REPO / "tests" / "stories").glob("*.yml"))


def load_stories() -> list[Any]:
    out = []
    for path in STORIES:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert str(doc.get("version")) == "3.1", path
        for story in doc["stories"]:
            out.append(pytest.param(story, id=f"{path.stem}:{story['story']}"))
    return out


@pytest.fixture
async def real_bot(tmp_path: Path, nlu_engine: Any) -> AsyncIterator[Harness]:
    h = await make_harness(tmp_path, understander=NluUnderstander(nlu_engine))
    yield h
    await h.bus.close()
    await h.store.close()


async def run_story(bot: Harness, story: dict[str, Any], sender: str = "story") -> None:
    transport = httpx.ASGITransport(app=make_app(bot.service))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        pending: list[str] = []
        last_texts: list[str] = []
        for i, step in enumerate(story["steps"]):
            where = f"{story['story']} step {i + 1}: {step}"
            if "user" in step:
                assert not pending, f"{where}: bot also said {pending}"
                r = await client.post(
                    "/webhooks/rest/webhook",
                    json={
                        "sender": sender,
                        "message": str(step["user"]).strip(),
                        "metadata": story.get("metadata", {}),
                    },
                )
                assert r.status_code == 200, r.text
                pending = [m.get("response") for m in r.json()]
                last_texts = [m["text"] for m in r.json()]
                if "intent" in step:
                    tr = (await client.get(f"/conversations/{sender}/tracker")).json()
                    got = tr["latest_message"]["intent"]["name"]
                    assert got == step["intent"], f"{where}: NLU said {got}"
            elif "action" in step:
                assert pending, f"{where}: bot said nothing more"
                got = pending.pop(0)
                assert got == step["action"], f"{where}: bot said {got} ({last_texts})"
            elif "bot_says" in step:
                assert any(step["bot_says"] in t for t in last_texts), f"{where}: {last_texts}"
        assert not pending, f"{story['story']}: unexpected extra replies {pending}"
    t = await bot.service.tracker(sender)
    assert t is not None
    if "outcome" in story:
        outcome = t.outcome or (await bot.service.end_conversation(sender, reason="story_end"))
        assert outcome == story["outcome"], story["story"]
    if "handoff" in story:
        events = await bot.drained()
        packets = [e for e in events if isinstance(e, HandoffRequested)]
        assert [p.reason for p in packets] == [story["handoff"]]
        assert packets[0].contact_id == t.contact_id and packets[0].language == t.language
    if "card_blocked" in story:
        async with bot.store.sessions() as s:
            blocked = set(
                (await s.scalars(select(CrmCardRow.id).where(CrmCardRow.status == "blocked"))).all()
            )
        assert blocked == {story["card_blocked"]}
    if "follow_up" in story:
        kinds = [f["kind"] for f in await bot.crm.follow_ups(contact_id=t.contact_id)]
        assert kinds == [story["follow_up"]]


def test_every_demo_flow_has_a_story_in_both_languages() -> None:
    flows = {
        "check_balance",
        "report_lost_card",
        "dispute_charge",
        "branch_hours",
        "change_address",
        "complaint",
        "talk_to_human",
    }
    for path in STORIES:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        intents = {s.get("intent") for st in doc["stories"] for s in st["steps"]}
        assert flows <= intents, (path.name, flows - intents)
    assert {p.stem for p in STORIES} >= {"demo_bank_en", "demo_bank_zh"}


@pytest.mark.parametrize("story", load_stories())
async def test_story(real_bot: Harness, story: dict[str, Any]) -> None:
    await run_story(real_bot, story)
