"""The live-assist sidebar in headless Chromium against the real app (uvicorn in a background
thread, seeded SQLite copy, memory bus, heavy features off).

The test plays the AssistService at its boundary: it publishes ``assist.suggestion`` events
on the app's bus and stores them as the service does. The page must show each one live —
knowledge passage, next-best script, de-escalation with "ask a supervisor", a disclosure
that ticks itself, a compliance alert, captured entities, the summary — store ratings and
the edited summary, and after a reload (a sidebar reconnecting mid-call) show everything
again exactly once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assist import repo
from core.events import AssistSuggestion
from core.store.tables.assist import ContactSummaryRow, SuggestionRating
from core.store.tables.contacts import ContactRow

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CID = "c-sidebar"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def event(n: int, kind: str, title: str, body: str = "", **kw: Any) -> AssistSuggestion:
    return AssistSuggestion(
        contact_id=CID, at=T0 + timedelta(seconds=n), kind=kind, title=title, body=body, **kw
    )  # type: ignore[arg-type]


async def test_sidebar_shows_suggestions_live(app_thread, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright, expect

    srv, passwords = app_thread
    app = srv.app
    writer = repo.StoreWriter(app.state.store.sessions)

    async def emit(ev: AssistSuggestion) -> None:
        """What AssistService does with a suggestion: publish it, then store it."""
        await app.state.bus.publish(ev)
        await writer.save_suggestion(ev)

    async def add_contact() -> None:
        async with app.state.store.sessions.begin() as s:
            s.add(ContactRow(id=CID, channel="voice", status="active", started_at=T0))

    await srv.run(add_contact())
    first = event(
        1,
        "knowledge",
        "Lost or stolen card",
        "Block the card at once in the app: Cards → Freeze.",
        source="kb:en-lost-card#0@v1",
        score=0.03,
    )
    await srv.run(emit(first))  # before the sidebar opens: it must catch up

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{srv.base}/login?next=/assist/{CID}")
            await page.fill("input[name=username]", "agent1")
            await page.fill("input[name=password]", passwords["agent1"])
            await page.click("button[type=submit]")
            await page.wait_for_url(f"**/assist/{CID}")
            await expect(page.locator(".ha-status")).to_have_attribute("data-live", "live")
            knowledge = page.locator(f'.ha-item[data-id="{first.id}"]')
            await expect(knowledge).to_contain_text("Cards → Freeze")  # the passage itself

            live = [
                event(
                    2,
                    "disclosure",
                    "Recording notice",
                    "This call is recorded.",
                    source="disclosure:recording_notice",
                    score=0.0,
                ),
                event(
                    3,
                    "script",
                    "Lost card · verify",
                    "May I confirm your date of birth?",
                    source="script:lost_card/verify",
                ),
                event(
                    4,
                    "deescalation",
                    "Customer wants escalation",
                    "I understand…",
                    source="deescalation:escalate",
                    score=0.9,
                ),
                event(
                    5,
                    "compliance",
                    "Forbidden phrase: guaranteed returns",
                    "“guaranteed returns”",
                    source="compliance:guaranteed_returns",
                    score=1.0,
                ),
                event(6, "entity", "amount", "42.00", source="entity:amount:transcript"),
            ]
            for ev in live:
                await srv.run(emit(ev))
            disclosure = page.locator('[data-key="disclosure:recording_notice"]')
            await expect(disclosure).to_have_attribute("data-state", "pending")
            await expect(disclosure.locator("input")).not_to_be_checked()
            await expect(page.locator(".ha-script .ha-item").first).to_contain_text("date of birth")
            await expect(page.locator('.ha-compliance [role="alert"]')).to_contain_text(
                "guaranteed returns"
            )
            await expect(page.locator('.ha-entity [data-name="amount"] .ha-value')).to_have_text(
                "42.00"
            )
            ask = page.get_by_role("button", name="Ask a supervisor")
            await expect(ask).to_be_visible()

            # the agent says the notice: the checklist ticks itself
            await srv.run(
                emit(
                    event(
                        7,
                        "disclosure",
                        "Recording notice",
                        "This call is recorded.",
                        source="disclosure:recording_notice",
                        score=1.0,
                    )
                )
            )
            await expect(disclosure).to_have_attribute("data-state", "said")
            await expect(disclosure.locator("input")).to_be_checked()

            # ask a supervisor: the page hears about it, the button shows it was asked
            await page.evaluate(
                "document.addEventListener('hotline:ask-supervisor',"
                " e => { window.asked = e.detail.contactId; })"
            )
            await ask.click()
            await expect(page.get_by_role("button", name="Supervisor asked")).to_be_disabled()
            assert await page.evaluate("window.asked") == CID

            # rate the passage: stored against its source
            await knowledge.get_by_role("button", name="Useful", exact=True).click()
            await expect(knowledge.locator(".ha-rate")).to_have_attribute("data-rated", "true")

            async def ratings() -> list[tuple[str, str | None, bool]]:
                async with app.state.store.sessions() as s:
                    rows = (await s.scalars(repo.select(SuggestionRating))).all()
                return [(r.agent_id, r.source, r.useful) for r in rows]

            assert await srv.run(ratings()) == [("agent1", "kb:en-lost-card#0@v1", True)]

            # the summary arrives at the end; the agent edits and saves it
            await srv.run(
                emit(
                    event(
                        8,
                        "summary",
                        "Lost card",
                        "Reason: lost card\nOutcome: card blocked",
                        source="summary:resolved",
                    )
                )
            )
            box = page.locator(".ha-summary-text")
            await expect(box).to_have_value("Reason: lost card\nOutcome: card blocked")
            await box.fill("Reason: lost card\nOutcome: card blocked, new card ordered")
            await page.get_by_role("button", name="Save summary").click()
            await expect(page.locator(".ha-summary-msg")).to_have_text("saved")

            async def summary() -> tuple[str | None, str | None]:
                async with app.state.store.sessions() as s:
                    row = await s.get(ContactSummaryRow, CID)
                    contact = await s.get(ContactRow, CID)
                return (row.edited_text if row else None), contact.summary if contact else None

            edited = "Reason: lost card\nOutcome: card blocked, new card ordered"
            assert await srv.run(summary()) == (edited, edited)

            # a sidebar reconnecting mid-call catches up: every suggestion, once
            await page.reload()
            await expect(page.locator(".ha-status")).to_have_attribute("data-live", "live")
            await expect(page.locator(f'.ha-item[data-id="{first.id}"]')).to_have_count(1)
            await expect(disclosure).to_have_attribute("data-state", "said")
            await expect(page.locator(".ha-deescalation .ha-item")).to_have_count(1)
            await expect(page.locator(".ha-compliance .ha-item")).to_have_count(1)
            assert await page.evaluate("window.assistSidebar.seen()") == 8
            after = event(
                9,
                "knowledge",
                "Card replacement",
                "A new card arrives in 5 days.",
                source="kb:en-card-replace#0@v1",
            )
            await srv.run(emit(after))
            await expect(page.locator(f'.ha-item[data-id="{after.id}"]')).to_contain_text("5 days")
        finally:
            await browser.close()
