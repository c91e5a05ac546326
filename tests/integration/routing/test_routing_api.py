"""The routing API and pages on the real app (seeded SQLite, memory bus): agent states, an
offer from a bot handoff, call control, wrap-up, supervisor stats/monitor, and bad input."""

from __future__ import annotations

import pytest

from core.events import HandoffRequested
from tests.conftest import login, wait_for

BASE = "/api/v1/routing"


@pytest.fixture
async def desk(app_client):  # type: ignore[no-untyped-def]
    client, app, passwords = app_client
    h1 = await login(client, "agent1", passwords["agent1"])
    h2 = await login(client, "agent2", passwords["agent2"])
    sup = await login(client, "supervisor", passwords["supervisor"])
    return client, app, h1, h2, sup


async def ring_agent1(client, app, h1) -> str:  # type: ignore[no-untyped-def]
    for state in ("login", "available"):
        r = await client.post(f"{BASE}/agents/agent1/state", json={"state": state}, headers=h1)
        assert r.status_code == 200, r.text
    await app.state.bus.publish(
        HandoffRequested(
            contact_id="hc1",
            reason="customer_request",
            summary="Customer wants: dispute charge; verified.",
            intent="dispute_charge",
            slots={"amount": "42.00"},
            emotions=("neutral", "frustrated"),
            queue="billing",
        )
    )
    routing = app.state.routing
    await wait_for(lambda: "hc1" in routing.agents["agent1"].offers)
    return "hc1"


async def test_handoff_rings_agent_who_accepts_controls_and_wraps_up(desk) -> None:  # type: ignore[no-untyped-def]
    client, app, h1, _h2, _sup = desk
    cid = await ring_agent1(client, app, h1)
    assert app.state.live.packets[cid]["intent"] == "dispute_charge"
    r = await client.get(f"{BASE}/me", headers=h1)
    assert r.json()["state"] == "ringing" and r.json()["offers"] == [cid]
    r = await client.get(f"{BASE}/contacts/{cid}/customer", headers=h1)
    assert r.status_code == 200 and r.json()["packet"]["slots"] == {"amount": "42.00"}

    r = await client.post(f"{BASE}/agents/agent1/contacts/{cid}/accept", headers=h1)
    assert r.status_code == 200 and r.json()["state"] == "busy"
    r = await client.post(f"{BASE}/agents/agent1/contacts/{cid}/hold", headers=h1)
    assert r.json()["held"] is True
    r = await client.post(f"{BASE}/agents/agent1/contacts/{cid}/resume", headers=h1)
    assert r.json()["held"] is False
    r = await client.post(
        f"{BASE}/agents/agent1/contacts/{cid}/mute", json={"on": True}, headers=h1
    )
    assert r.json()["muted"] is True
    r = await client.post(f"{BASE}/agents/agent1/contacts/{cid}/hangup", headers=h1)
    assert r.json()["ended"] == "hangup"
    r = await client.get(f"{BASE}/me", headers=h1)
    assert r.json()["state"] == "wrap_up"
    r = await client.post(
        f"{BASE}/agents/agent1/wrap-up?contact_id={cid}",
        json={"disposition": "resolved", "notes": "refund issued"},
        headers=h1,
    )
    assert r.status_code == 200, r.text
    assert r.json()["agent"]["state"] == "available"


async def test_agent_in_two_states_at_once_is_refused(desk) -> None:  # type: ignore[no-untyped-def]
    client, app, h1, _h2, _sup = desk
    cid = await ring_agent1(client, app, h1)
    await client.post(f"{BASE}/agents/agent1/contacts/{cid}/accept", headers=h1)
    r = await client.post(
        f"{BASE}/agents/agent1/state", json={"state": "break", "reason": "lunch"}, headers=h1
    )
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_transition"
    r = await client.post(f"{BASE}/agents/agent1/state", json={"state": "break"}, headers=h1)
    assert r.json()["code"] == "invalid_transition" and "reason" in r.json()["message"]
    r = await client.post(f"{BASE}/agents/agent1/state", json={"state": "dancing"}, headers=h1)
    assert r.status_code == 422


async def test_transfer_to_missing_queue_is_a_clear_error_and_contact_stays(desk) -> None:  # type: ignore[no-untyped-def]
    client, app, h1, _h2, _sup = desk
    cid = await ring_agent1(client, app, h1)
    await client.post(f"{BASE}/agents/agent1/contacts/{cid}/accept", headers=h1)
    r = await client.post(
        f"{BASE}/agents/agent1/contacts/{cid}/transfer",
        json={"kind": "queue", "target": "nowhere"},
        headers=h1,
    )
    assert r.status_code == 400
    assert r.json() == {
        "code": "unknown_queue",
        "message": "transfer target queue 'nowhere' does not exist",
    }
    assert cid in app.state.routing.agents["agent1"].active
    r = await client.post(
        f"{BASE}/agents/agent1/contacts/{cid}/transfer",
        json={"kind": "queue", "target": "cards"},
        headers=h1,
    )
    assert r.status_code == 200 and r.json()["ended"] == "transfer:queue:cards"
    assert app.state.routing.entries[cid].contact.queue_id == "cards"  # re-queued


async def test_agents_act_only_for_themselves(desk) -> None:  # type: ignore[no-untyped-def]
    client, app, h1, h2, sup = desk
    cid = await ring_agent1(client, app, h1)
    r = await client.post(f"{BASE}/agents/agent1/contacts/{cid}/accept", headers=h2)
    assert r.status_code == 403
    r = await client.post(f"{BASE}/agents/agent1/state", json={"state": "offline"}, headers=h2)
    assert r.status_code == 403
    r = await client.get(f"{BASE}/stats", headers=h1)
    assert r.status_code == 403
    r = await client.post(f"{BASE}/agents/agent1/contacts/{cid}/accept", headers=sup)
    assert r.status_code == 200  # supervisors may act for anyone
    r = await client.post(f"{BASE}/agents/agent2/contacts/{cid}/hold", headers=h2)
    assert r.status_code == 400 and r.json()["code"] == "unknown_contact"


async def test_supervisor_stats_and_monitor(desk) -> None:  # type: ignore[no-untyped-def]
    client, app, h1, _h2, sup = desk
    cid = await ring_agent1(client, app, h1)
    r = await client.get(f"{BASE}/stats", headers=sup)
    assert r.status_code == 200
    body = r.json()
    assert {q["queue"] for q in body["queues"]} >= {"billing", "cards"}
    billing = next(q for q in body["queues"] if q["queue"] == "billing")
    assert billing["ringing"] == 1 and billing["answered_today"] == 0
    assert next(a for a in body["agents"] if a["agent_id"] == "agent1")["offers"] == [cid]
    r = await client.post(f"{BASE}/contacts/{cid}/monitor", json={"mode": "listen"}, headers=sup)
    assert r.status_code == 400 and r.json()["code"] == "unknown_contact"  # not answered yet
    await client.post(f"{BASE}/agents/agent1/contacts/{cid}/accept", headers=h1)
    r = await client.post(f"{BASE}/contacts/{cid}/monitor", json={"mode": "whisper"}, headers=sup)
    assert r.json()["monitors"] == {"supervisor": "whisper"}
    live = app.state.live
    await wait_for(lambda: live.snapshot()["queues"][0] and _billing(live)["answered_today"] == 1)
    assert _billing(live)["sl_today"] == 1.0  # answered within the queue's 20 s
    r = await client.post(f"{BASE}/contacts/{cid}/monitor", json={"mode": "shout"}, headers=sup)
    assert r.status_code == 422


def _billing(live) -> dict:  # type: ignore[no-untyped-def]
    return next(q for q in live.snapshot()["queues"] if q["queue"] == "billing")


async def test_disconnected_agent_browser_requeues(desk) -> None:  # type: ignore[no-untyped-def]
    client, app, h1, _h2, _sup = desk
    cid = await ring_agent1(client, app, h1)
    await client.post(f"{BASE}/agents/agent1/contacts/{cid}/accept", headers=h1)
    live = app.state.live
    live.grace_s = 0

    async def page(msg: dict) -> None:
        pass

    conn = await live.connect("agent1", page, supervisor=False)
    await live.disconnect(conn)
    routing = app.state.routing
    assert routing.agents["agent1"].state.value == "offline"
    assert routing.entries[cid].status == "waiting"  # back in line, not dropped


async def test_agent_page_and_supervisor_page(app_client) -> None:  # type: ignore[no-untyped-def]
    client, _app, passwords = app_client
    r = await client.get("/agent")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = await client.post(
        "/login", data={"username": "agent1", "password": passwords["agent1"], "next": "/agent"}
    )
    assert r.status_code == 303
    r = await client.get("/agent")
    assert r.status_code == 200
    assert 'id="assist"' in r.text and 'data-agent-id="agent1"' in r.text
    assert "resolved" in r.text  # disposition codes in the wrap-up form
    r = await client.get("/supervisor")
    assert r.status_code == 403 and "supervisor role" in r.text
    client.cookies.clear()
    r = await client.post(
        "/login",
        data={"username": "supervisor", "password": passwords["supervisor"], "next": "/"},
    )
    r = await client.get("/supervisor")
    assert r.status_code == 200 and 'id="alerts"' in r.text
