"""The customer card lists the customer's open tickets, and the wrap-up opens a follow-up
ticket drafted from the after-contact summary (real app, seeded SQLite copy, memory bus)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.settings import FeatureSettings, Settings
from core.store.tables.assist import ContactSummaryRow
from core.store.tables.contacts import ContactRow
from core.store.tables.crm import CrmCustomerRow
from tests.conftest import login

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        data_dir=tmp_path,
        bus_url="memory://",
        log_json=True,
        secret_key="test-secret-0123456789abcdef0123456789",
        features=FeatureSettings(voice=False, bots=False, assist=False, qa=False, campaigns=False),
    )


async def test_card_open_tickets_and_wrap_up_follow_up(app_client) -> None:  # type: ignore[no-untyped-def]
    client, app, passwords = app_client
    agent = await login(client, "agent1", passwords["agent1"])
    async with app.state.store.sessions.begin() as s:
        if await s.get(CrmCustomerRow, "cust-t") is None:
            s.add(CrmCustomerRow(id="cust-t", name="Tess Tickets", phone="+12025550199",
                                 dob="1980-01-02"))  # fmt: skip
        s.add(ContactRow(id="c-wrap", channel="voice", status="ended", started_at=T0,
                         customer_id="cust-t"))  # fmt: skip
        s.add(ContactRow(id="c-anon", channel="chat", status="ended", started_at=T0))
        s.add(ContactSummaryRow(
            contact_id="c-wrap", language="en", reason="Disputed card charge",
            actions=["Opened a dispute"], outcome="Dispute opened", outcome_code="follow_up",
            follow_ups=["Call back when the merchant answers"], entities={"amount": "42.00"},
            generated_text="Reason: Disputed card charge", edited_text="Reason: disputed charge",
        ))  # fmt: skip

    card = (await client.get("/api/v1/assist/contacts/c-wrap/card", headers=agent)).json()
    assert card["open_tickets"] == []

    r = await client.post("/api/v1/assist/contacts/c-wrap/follow-up", headers=agent)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["created"] is True
    ticket = out["ticket"]
    assert (ticket["title"], ticket["kind"], ticket["status"]) == (
        "Call back when the merchant answers", "follow_up", "open",
    )  # fmt: skip
    stored = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent)).json()
    assert stored["description"] == "Reason: disputed charge"  # the agent's edited summary
    assert (stored["customer_id"], stored["contact_id"], stored["created_by"]) == (
        "cust-t", "c-wrap", "agent1",
    )  # fmt: skip

    again = (await client.post("/api/v1/assist/contacts/c-wrap/follow-up", headers=agent)).json()
    assert (again["created"], again["ticket"]["id"]) == (False, ticket["id"])  # double click

    other = await client.post("/api/v1/tickets", headers=agent,
                              json={"title": "Send new PIN", "customer_id": "cust-t"})  # fmt: skip
    card = (await client.get("/api/v1/assist/contacts/c-wrap/card", headers=agent)).json()
    assert {t["id"] for t in card["open_tickets"]} == {other.json()["id"], ticket["id"]}
    by_customer = (await client.get("/api/v1/assist/customers/cust-t/card", headers=agent)).json()
    assert {t["id"] for t in by_customer["open_tickets"]} == {ticket["id"], other.json()["id"]}

    await client.patch(f"/api/v1/tickets/{ticket['id']}", headers=agent, json={"status": "closed"})
    card = (await client.get("/api/v1/assist/contacts/c-wrap/card", headers=agent)).json()
    assert [t["id"] for t in card["open_tickets"]] == [other.json()["id"]]  # closed: gone

    # a contact with no known customer: the card lists the contact's own tickets
    r = await client.post("/api/v1/assist/contacts/c-anon/follow-up", headers=agent,
                          json={"title": "Email the statement", "priority": "high"})  # fmt: skip
    assert r.json()["ticket"]["priority"] == "high"
    card = (await client.get("/api/v1/assist/contacts/c-anon/card", headers=agent)).json()
    assert card["customer"] is None
    assert [t["title"] for t in card["open_tickets"]] == ["Email the statement"]
    assert (
        await client.post("/api/v1/assist/contacts/c-none/follow-up", headers=agent)
    ).status_code == 404
    qa = await login(client, "qa", passwords["qa"])
    r = await client.post("/api/v1/assist/contacts/c-wrap/follow-up", headers=qa)
    assert r.status_code == 403
