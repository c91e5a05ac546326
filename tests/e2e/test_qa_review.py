"""The QA review page in headless Chromium against the real app served by uvicorn: an
analyst logs in, opens a scored contact, sees evidence highlighted in the transcript,
overrides an item with a comment, and the override is shown on the page and stored."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.settings import Settings
from core.store import open_store
from core.store.tables.qa import QaOverride
from tests.integration.qa.review_seed import light_settings, seed_scored_contact, store_events
from tests.live_server import serving_in_thread

pytestmark = [pytest.mark.e2e]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
COMMENT = "Greeting was given on the IVR leg before the agent joined"


def _write_silence(path: Path, seconds: float = 70.0, rate: int = 8000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(rate * seconds))


async def _seed(url: str, recording: Path) -> dict[str, str]:
    from core.events import EmotionResult

    store = open_store(url)
    try:
        ids = {
            "nogreet": await seed_scored_contact(
                store.sessions,
                contact_id="c-nogreet",
                agent_id="agent2",
                fixture="en_04_no_greeting_no_disclosure",
            ),
            "rude": await seed_scored_contact(
                store.sessions,
                contact_id="c-rude",
                agent_id="agent1",
                fixture="en_08_rude_agent",
                recording_uri=str(recording),
            ),
        }
        await store_events(  # what the nlu subscriber says at the end of the call
            store.sessions,
            EmotionResult(
                contact_id="c-rude",
                scope="call",
                label="angry",
                confidence=0.7,
                sentiment=-0.55,
                escalate=True,
                trend="worsening",
                peak="angry",
            ),
        )
        return ids
    finally:
        await store.close()


async def _overrides(url: str, score_id: str) -> list[tuple[str, str, str, str, str]]:
    store = open_store(url)
    try:
        async with store.sessions() as s:
            rows = (
                await s.scalars(select(QaOverride).where(QaOverride.score_id == score_id))
            ).all()
            return [
                (o.item_id, o.old_verdict, o.new_verdict, o.comment, o.analyst_id) for o in rows
            ]
    finally:
        await store.close()


@pytest.fixture
def live_app(settings: Settings, seeded_sqlite) -> Iterator[tuple]:  # type: ignore[no-untyped-def]
    """The real app (no models) on a copy of the seeded store, served by uvicorn in a thread."""
    from app import create_app

    if not CHROMIUM.exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    template, passwords = seeded_sqlite
    shutil.copy(template, settings.data_dir / "hotline.db")
    s = light_settings(settings)
    recording = settings.data_dir / "recordings" / "c-rude.wav"
    _write_silence(recording)
    ids = asyncio.run(_seed(s.database_url, recording))
    with serving_in_thread(create_app(s)) as base:
        yield base, passwords, ids, s.database_url


def test_analyst_overrides_an_item_with_a_comment(live_app) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    base, passwords, ids, db_url = live_app
    sid = ids["nogreet"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login?next=/qa")
            page.fill("input[name=username]", "qa")
            page.fill("input[name=password]", passwords["qa"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/qa")

            # the list shows both scored contacts; open the one without a greeting
            row = page.locator(f'#score-list tr[data-score-id="{sid}"]')
            expect(page.locator("#score-list tr[data-score-id]")).to_have_count(2)
            expect(row).to_contain_text("c-nogreet")
            row.click()
            expect(page.locator("#detail")).to_be_visible()
            expect(page.locator("#d-contact")).to_have_text("c-nogreet")
            expect(page.locator("#d-emotion")).to_have_text("")  # no emotion engine ran
            greeting = page.locator("#item-greeting")
            expect(greeting.locator(".verdict")).to_have_text("fail")
            expect(page.locator("#transcript li")).not_to_have_count(0)

            # evidence of a passed item highlights its turn(s) and the matched words
            evidence = page.locator("#item-identity_verification button.ev").first
            evidence.click()
            expect(page.locator("#transcript li.evidence")).not_to_have_count(0)
            expect(page.locator("#transcript li.evidence mark").first).to_be_visible()

            # override greeting: fail -> pass, with a comment
            page.select_option("#override-item", "greeting")
            page.select_option("#override-verdict", "pass")
            page.fill("#override-comment", COMMENT)
            page.click("#override-submit")
            expect(greeting.locator(".verdict > span")).to_have_text("pass")
            expect(greeting.locator(".auto-verdict")).to_have_text("fail")
            expect(greeting.locator(".override-comment")).to_contain_text(COMMENT)
            expect(greeting.locator(".override-comment")).to_contain_text("fail → pass by qa")
            expect(page.locator("#override-error")).to_have_text("")

            # it survives a reload (it was stored, not just drawn)
            page.goto(f"{base}/qa?score={sid}")
            expect(page.locator("#item-greeting .override-comment")).to_contain_text(COMMENT)

            # a contact with a recording: clicking a turn seeks the player to that turn
            page.locator(f'#score-list tr[data-score-id="{ids["rude"]}"]').click()
            expect(page.locator("#d-contact")).to_have_text("c-rude")
            expect(page.locator("#d-emotion")).to_have_text(
                "Customer: angry, worsening · sentiment -0.55 · escalation flagged"
            )
            player = page.locator("#player")
            expect(player).to_be_visible()
            assert player.get_attribute("src") == f"/api/v1/qa/scores/{ids['rude']}/recording"
            page.wait_for_function("document.getElementById('player').readyState >= 1")
            turn = page.locator('#transcript li[data-turn="2"]')
            turn.click()
            start = float(turn.get_attribute("data-start") or "nan")
            # the transcript follows playback: the turn under the playhead is marked
            page.wait_for_function(
                """t => {
                    const li = document.querySelector('#transcript li[data-turn="2"]');
                    const now = document.getElementById('player').currentTime;
                    return Math.abs(now - t) < 3 && li.classList.contains('playing');
                }""",
                arg=start,
            )
            with contextlib.suppress(Exception):
                page.close()
            assert errors == []
        finally:
            browser.close()

    stored = asyncio.run(_overrides(db_url, sid))
    assert stored == [("greeting", "fail", "pass", COMMENT, "qa")]


def test_analyst_submits_calibration_verdicts_and_sees_agreement(live_app) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    base, passwords, _ids, _db_url = live_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login?next=/qa/calibration?session=wk1")
            page.fill("input[name=username]", "qa")
            page.fill("input[name=password]", passwords["qa"])
            page.click("button[type=submit]")
            expect(page.locator("#cal-summary")).to_contain_text("0 contact(s)")
            page.fill("#cal-contact", "c-nogreet")
            page.click("#cal-load button[type=submit]")
            expect(page.locator("#cal-items select")).to_have_count(10)
            page.select_option('#cal-items select[name="greeting"]', "fail")
            page.click("#cal-submit")
            expect(page.locator("#cal-summary")).to_contain_text("1 contact(s), analysts: qa")
            row = page.locator('#agreement tr[data-item="greeting"]')
            expect(row).to_contain_text("qa–auto")
            expect(row).to_contain_text("agree 1.00 (n=1)")
            assert errors == []
        finally:
            browser.close()
