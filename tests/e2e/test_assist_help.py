""" "Ask a supervisor" and tickets in headless Chromium against the real app (uvicorn in a
background thread, seeded SQLite copy, memory bus, heavy features off).

An agent's sidebar gets a de-escalation hint with "Ask a supervisor"; the click stores a
help request that appears live on the supervisor's help-requests page; the supervisor
acknowledges (the agent's sidebar says a supervisor is coming) and joins (the sidebar says
the supervisor joined, listening; the call control really monitors). The agent then opens a
follow-up ticket from the wrap-up and the sidebar lists it among the customer's open
tickets; a reload shows the request's state again, from the store.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.events import AssistSuggestion
from core.store.tables.assist import HelpRequestRow
from core.store.tables.contacts import ContactRow
from core.store.tables.crm import CrmCustomerRow
from core.store.tables.tickets import TicketRow
from routing.model import ContactRequest

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CID = "c-ask"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _login(browser: Any, base: str, user: str, password: str, path: str) -> Any:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base}/login?next={path}")
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{path}")
    return page


async def test_agent_asks_supervisor_joins_and_follow_up_ticket(app_thread) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import async_playwright, expect

    srv, passwords = app_thread
    app = srv.app

    async def setup() -> None:
        async with app.state.store.sessions.begin() as s:
            if await s.get(CrmCustomerRow, "cust-alice") is None:  # the bots seed it; off here
                s.add(CrmCustomerRow(id="cust-alice", name="Alice Chen", phone="+12025550143",
                                     dob="1985-03-12"))  # fmt: skip
            s.add(ContactRow(id=CID, channel="voice", status="active", started_at=T0,
                             customer_id="cust-alice"))  # fmt: skip
        routing = app.state.routing  # agent1 is on the call, so a supervisor can listen in
        await routing.login("agent1")
        await routing.make_available("agent1")
        await routing.enqueue(ContactRequest(CID, app.state.clock.now(), queue_id="default"))
        async with asyncio.timeout(10):
            while CID not in routing.agents["agent1"].offers:
                await asyncio.sleep(0.01)
        await routing.accept("agent1", CID)

    await srv.run(setup())
    expect.set_options(timeout=15_000)  # a loaded CI box: waits that can only fail, generously
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            agent = await _login(browser, srv.base, "agent1", passwords["agent1"], f"/assist/{CID}")
            await expect(agent.locator(".ha-status")).to_have_attribute("data-live", "live")
            await expect(agent.locator("#assist")).to_have_attribute("data-help-live", "live")
            board = await _login(browser, srv.base, "supervisor", passwords["supervisor"],
                                 "/assist/help-requests")  # fmt: skip
            await expect(board.locator("#hr-live")).to_have_attribute("data-live", "live")
            await expect(board.locator("#hr-empty")).to_be_visible()

            hint = AssistSuggestion(contact_id=CID, at=T0, kind="deescalation",
                                    title="Customer wants escalation", body="I understand…",
                                    source="deescalation:escalate", score=0.9)  # fmt: skip
            await srv.run(app.state.bus.publish(hint))
            await agent.get_by_role("button", name="Ask a supervisor").click()
            status = agent.locator(".ha-help")
            await expect(status).to_have_attribute("data-status", "open")
            await expect(status).to_contain_text("waiting")
            await expect(agent.get_by_role("button", name="Supervisor asked")).to_be_disabled()

            # the supervisor sees it live, acknowledges, then joins
            row = board.locator(f'#hr-rows tr[data-contact-id="{CID}"]')
            await expect(row).to_have_attribute("data-status", "open")
            await expect(row).to_contain_text("agent1")
            await expect(row).to_contain_text("Customer wants escalation")
            await row.get_by_role("button", name="Acknowledge").click()
            await expect(status).to_have_attribute("data-status", "acknowledged")
            await expect(status).to_contain_text("Supervisor supervisor is coming")
            await expect(row).to_have_attribute("data-status", "acknowledged")
            await row.get_by_role("button", name="Join (listen)").click()
            await expect(status).to_have_attribute("data-status", "joined")
            await expect(status).to_contain_text("joined (listening)")
            assert app.state.call_control.states[CID].monitors == {"supervisor": "listen"}

            async def stored() -> list[tuple[str, str | None, str | None]]:
                async with app.state.store.sessions() as s:
                    rows = (await s.scalars(select(HelpRequestRow))).all()
                return [(r.status, r.supervisor_id, r.source) for r in rows]

            assert await srv.run(stored()) == [("joined", "supervisor", "deescalation:escalate")]

            # wrap-up: a follow-up ticket, listed among the customer's open tickets
            tickets = agent.locator(".ha-tickets")
            await expect(tickets).to_contain_text("No open tickets")
            await tickets.locator(".ha-ticket-title").fill("Call back about the refund")
            await tickets.get_by_role("button", name="Create follow-up ticket").click()
            await expect(tickets.locator(".ha-ticket-msg")).to_contain_text("opened T-")
            item = tickets.locator(".ha-ticket")
            await expect(item).to_have_count(1)
            await expect(item).to_contain_text("Call back about the refund")

            async def ticket_rows() -> list[tuple[str, str | None, str | None, str]]:
                async with app.state.store.sessions() as s:
                    rows = (await s.scalars(select(TicketRow))).all()
                return [(r.title, r.customer_id, r.contact_id, r.kind) for r in rows]

            assert await srv.run(ticket_rows()) == [
                ("Call back about the refund", "cust-alice", CID, "follow_up")
            ]

            # the agent's sidebar reloads mid-call: the request's state comes back from the store
            await agent.reload()
            await expect(agent.locator(".ha-help")).to_have_attribute("data-status", "joined")
            await expect(agent.locator(".ha-tickets .ha-ticket")).to_have_count(1)
            # the agent closes the request: it leaves the supervisor's list
            await agent.get_by_role("button", name="Close request").click()
            await expect(agent.locator(".ha-help")).to_have_attribute("data-status", "closed")
            await expect(row).to_have_count(0)
            await expect(board.locator("#hr-empty")).to_be_visible()
        finally:
            await browser.close()
            expect.set_options(timeout=5_000)  # Playwright's default, for the other tests
