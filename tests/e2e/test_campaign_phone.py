"""A demo campaign really calls someone: headless Chromium opens the test phone, the
scheduler dials it, the page answers and hears the bot's reminder with the contact's
variables (Piper audio when the voice is installed, the text always), presses 1 and the
attempt is recorded as a promise to pay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from bots.campaigns.api import build_page_router, build_router
from bots.campaigns.runtime import build_runtime
from core.store.tables.base import Base
from core.store.tables.campaigns import CAMPAIGN_TABLES
from tests.conftest import wait_for
from tests.live_server import serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
PHONE = "+12127360100"
ALWAYS = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59:59"}]


def _tts():  # type: ignore[no-untyped-def]
    from models import CATALOG, Registry
    from tts.errors import TTSError
    from tts.piper import PiperTTS

    try:
        tts = PiperTTS(Registry(CATALOG, models_dir=Path("var/models")), steady=True)
        tts.warm_up()
        return tts
    except (TTSError, ImportError):
        return None


async def test_test_phone_answers_and_hears_the_reminder(settings) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    from app import create_app
    from core.clock import SystemClock
    from core.store.migrate import upgrade
    from core.store.seed import seed_users

    settings.features.campaigns = False  # this test builds its own runtime (with the TTS)
    app = create_app(settings)
    store = app.state.store
    await upgrade(store)
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=list(CAMPAIGN_TABLES)))
    passwords = {
        u.username: u.password for u in await seed_users(store.sessions, clock=SystemClock())
    }
    tts = await asyncio.to_thread(_tts)
    runtime = build_runtime(sessions=store.sessions, clock=app.state.clock, tts=tts)
    app.include_router(build_router(runtime), prefix="/api/v1")
    app.include_router(build_page_router())
    try:
        async with (
            serving(app) as base,
            async_playwright() as p,
            httpx.AsyncClient(base_url=base) as http,
        ):
            r = await http.post(
                "/api/v1/auth/login",
                json={"username": "campaigns", "password": passwords["campaigns"]},
            )
            h = {"Authorization": f"Bearer {r.json()['access_token']}"}
            browser = await p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--autoplay-policy=no-user-gesture-required",
                ],
            )
            try:
                context = await browser.new_context()
                page = await context.new_page()
                await page.goto(f"{base}/login?next=/campaigns/test-phone")
                await page.fill("input[name=username]", "campaigns")
                await page.fill("input[name=password]", passwords["campaigns"])
                await page.click("button[type=submit]")
                await page.wait_for_url(f"{base}/campaigns/test-phone")
                await page.fill("#number", PHONE)
                await page.click("#register")
                await page.wait_for_function(
                    "document.getElementById('state').textContent.startsWith('registered')"
                )

                # The campaign page, in a second tab of the same logged-in browser: create
                # from the template, upload a list with one bad row, preview, launch.
                ui = await context.new_page()
                await ui.goto(f"{base}/campaigns")
                await ui.locator("#template option[value=payment_reminder_en]").wait_for(
                    state="attached"
                )
                await ui.select_option("#template", "payment_reminder_en")
                await ui.fill("#name", "E2E reminders")
                await ui.click("#create-form button[type=submit]")
                await ui.locator("#detail").wait_for(state="visible")
                campaigns = (await http.get("/api/v1/campaigns", headers=h)).json()["data"]
                cid = next(c["id"] for c in campaigns if c["name"] == "E2E reminders")
                csv_text = (
                    f"phone,name,amount,due_date\n{PHONE},Ann Lee,$42.50,March 3\n"
                    "not-a-phone,Bob,$1,May 1\n"
                )
                await ui.set_input_files(
                    "#file",
                    files=[{"name": "l.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}],
                )
                await ui.click("#upload-form button[type=submit]")
                await ui.locator("#upload-summary").wait_for()
                assert "Added 1 of 2" in (await ui.text_content("#upload-summary") or "")
                assert "row 3" in (await ui.text_content(".row-errors") or "")
                await ui.click("#preview-btn")
                await ui.locator("#preview-text").wait_for()
                preview = await ui.text_content("#preview-text") or ""
                assert "Ann Lee" in preview and "$42.50" in preview
                # Demo windows are 9:00-20:00 callee time; open them so the test runs any hour.
                tpl = (await http.get(f"/api/v1/campaigns/{cid}", headers=h)).json()
                r = await http.patch(
                    f"/api/v1/campaigns/{cid}",
                    headers=h,
                    json={"settings": {**tpl["settings"], "windows": ALWAYS}},
                )
                assert r.status_code == 200, r.text
                await ui.click("#detail .actions button[data-action=launch]")
                await ui.wait_for_function(
                    "document.getElementById('detail-status').textContent === 'running'"
                )
                await runtime.scheduler.tick()

                await page.locator("#answer").wait_for(state="visible", timeout=20_000)
                assert "Ann Lee" in (await page.text_content("#caller") or "")
                await page.click("#answer")
                first = page.locator("#transcript li").first
                await first.wait_for(timeout=60_000)
                said = await first.text_content() or ""
                assert "Ann Lee" in said and "$42.50" in said and "March 3" in said
                if tts is not None:  # the reminder audio reached the page and played
                    await page.wait_for_function(
                        "window.phoneLog.some(e => e.played)", timeout=60_000
                    )
                    assert await page.evaluate(
                        "window.phoneLog.some(e => e.type === 'play' && e.audio)"
                    )
                await page.click(".keypad button[data-digit='1']")
                await page.locator("#transcript li").nth(1).wait_for(timeout=60_000)
                assert "promise" in (
                    await page.locator("#transcript li").nth(1).text_content() or ""
                )
                await wait_for(lambda: runtime.scheduler.live_calls == 0, timeout=60)
                s = (await http.get(f"/api/v1/campaigns/{cid}/stats", headers=h)).json()
                assert s["dispositions"] == {"promise_to_pay": 1} and s["conversions"] == 1
                await ui.wait_for_function(
                    "document.querySelector('[data-stat=Conversions]')?.textContent === '1'",
                    timeout=20_000,
                )
            finally:
                await browser.close()
    finally:
        await runtime.stop()
        await store.close()
