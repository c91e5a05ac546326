"""/api/v1/tickets on the real app (seeded SQLite copy, memory bus): create, list, move,
role guards, and the bus events every change publishes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.events import Event
from core.settings import FeatureSettings, Settings
from core.store.tables.contacts import ContactRow
from tests.conftest import login, wait_for


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


async def test_ticket_lifecycle_over_the_api(app_client) -> None:  # type: ignore[no-untyped-def]
    client, app, passwords = app_client
    agent = await login(client, "agent1", passwords["agent1"])
    sup = await login(client, "supervisor", passwords["supervisor"])
    events: list[Event] = []

    async def collect(ev: Event) -> None:
        events.append(ev)

    app.state.bus.subscribe("test-tickets", collect, types=("ticket.created", "ticket.updated"))
    async with app.state.store.sessions.begin() as s:
        s.add(ContactRow(id="c-t1", channel="chat", status="ended",
                         started_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
                         customer_id="cust-alice"))  # fmt: skip

    r = await client.post("/api/v1/tickets", headers=agent, json={
        "title": "Refund the duplicate fee", "contact_id": "c-t1", "kind": "follow_up",
        "priority": "high", "fields": {"amount": "5.00"},
    })  # fmt: skip
    assert r.status_code == 201, r.text
    t = r.json()
    assert (t["status"], t["customer_id"], t["created_by"], t["kind"]) == (
        "open", "cust-alice", "agent1", "follow_up",
    )  # fmt: skip
    assert t["id"].startswith("T-")

    r = await client.get("/api/v1/tickets", params={"customer_id": "cust-alice"}, headers=sup)
    assert r.status_code == 200 and r.json()["count"] == 1
    assert r.json()["data"][0]["id"] == t["id"]

    r = await client.patch(f"/api/v1/tickets/{t['id']}", headers=sup,
                           json={"status": "resolved", "note": "refunded"})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    r = await client.patch(f"/api/v1/tickets/{t['id']}", headers=agent, json={"status": "pending"})
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = await client.patch(f"/api/v1/tickets/{t['id']}", headers=agent, json={"status": "closed"})
    assert r.json()["status"] == "closed" and r.json()["closed_at"]
    r = await client.get("/api/v1/tickets", params={"status": "active"}, headers=agent)
    assert t["id"] not in [x["id"] for x in r.json()["data"]]
    r = await client.get(f"/api/v1/tickets/{t['id']}", headers=agent)
    assert r.json()["status"] == "closed"
    assert (await client.get("/api/v1/tickets/T-NONE", headers=agent)).status_code == 404

    await wait_for(lambda: len(events) == 3)
    assert [(e.type, getattr(e, "status", None)) for e in events] == [
        ("ticket.created", "open"), ("ticket.updated", "resolved"), ("ticket.updated", "closed"),
    ]  # fmt: skip
    assert all(e.contact_id == "c-t1" for e in events)


async def test_ticket_routes_are_role_guarded_and_validated(app_client) -> None:  # type: ignore[no-untyped-def]
    client, _app, passwords = app_client
    qa = await login(client, "qa", passwords["qa"])
    agent = await login(client, "agent1", passwords["agent1"])
    assert (await client.get("/api/v1/tickets")).status_code == 401
    assert (await client.get("/api/v1/tickets", headers=qa)).status_code == 403
    r = await client.post("/api/v1/tickets", headers=qa, json={"title": "x"})
    assert r.status_code == 403
    r = await client.post("/api/v1/tickets", headers=agent, json={"title": ""})
    assert r.status_code == 422
    r = await client.post("/api/v1/tickets", headers=agent, json={"title": "x", "status": "closed"})
    assert r.status_code == 422  # status is not set on create
    r = await client.patch("/api/v1/tickets/T-1", headers=agent, json={"status": "gone"})
    assert r.status_code == 422
