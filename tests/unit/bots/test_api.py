"""The REST channel and staff routes over HTTP (fake understander, real store and bus)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bots.api import build_bots_router, build_channel_router
from core.deps import roles_of
from tests.unit.bots.conftest import Harness, make_app


@pytest.fixture
async def client(bot: Harness) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(bot.service))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_rest_webhook_rasa_shape(client: httpx.AsyncClient) -> None:
    r = await client.post("/webhooks/rest/webhook", json={"sender": "u1", "message": "hello"})
    assert r.status_code == 200
    body = r.json()
    assert body[0]["recipient_id"] == "u1" and "Demo Bank" in body[0]["text"]
    assert {"title": "Check my balance", "payload": "/check_balance"} in body[0]["buttons"]
    r = await client.post(
        "/webhooks/rest/webhook", json={"sender": "u1", "message": "/check_balance"}
    )
    assert "phone number" in r.json()[-1]["text"]


async def test_tracker_endpoint_masks_secrets(client: httpx.AsyncClient) -> None:
    for text in ("what's my balance", "+1 202 555 0143", "12 March 1985"):
        await client.post("/webhooks/rest/webhook", json={"sender": "u2", "message": text})
    r = await client.get("/conversations/u2/tracker")
    t = r.json()
    assert t["verified"] is True and t["slots"]["balances"] == "***"
    assert t["latest_message"]["text"] == "***"  # the DOB answer is redacted
    assert "12 March 1985" not in str(t)
    assert (await client.get("/api/v1/bots/conversations/u2/tracker")).json() == t
    assert (await client.get("/conversations/nobody/tracker")).status_code == 404


async def test_bad_input_is_refused_or_contained(client: httpx.AsyncClient) -> None:
    assert (await client.post("/webhooks/rest/webhook", json={"message": "hi"})).status_code == 422
    assert (
        await client.post("/webhooks/rest/webhook", json={"sender": "", "message": "hi"})
    ).status_code == 422
    r = await client.post("/webhooks/rest/webhook", json={"sender": "u3", "message": "x" * 5000})
    assert "first part" in r.json()[0]["text"]
    r = await client.post(
        "/webhooks/rest/webhook",
        json={"sender": "u4", "message": "<script>alert(1)</script>"},
    )
    assert r.status_code == 200  # stored and answered as text; the widget escapes on display


async def test_handoff_queue_and_hand_back_routes(client: httpx.AsyncClient) -> None:
    await client.post("/webhooks/rest/webhook", json={"sender": "u5", "message": "agent please"})
    q = (await client.get("/api/v1/bots/handoffs")).json()
    assert q["count"] == 1 and q["data"][0]["sender_id"] == "u5"
    r = await client.post("/api/v1/bots/handoffs/u5/hand-back", json={"agent_id": "a1"})
    assert r.status_code == 200 and "back with" in r.json()["messages"][0]["text"]
    polled = (await client.get("/webhooks/rest/poll", params={"sender": "u5"})).json()
    assert polled[0]["recipient_id"] == "u5" and "back with" in polled[0]["text"]
    r = await client.post("/api/v1/bots/handoffs/u5/hand-back", json={})
    assert r.status_code == 409


async def test_flow_status_and_chat_page(client: httpx.AsyncClient) -> None:
    s = (await client.get("/api/v1/bots/flows")).json()
    assert "demo_bank.yaml" in s["files"] and s["errors"] == []
    page = await client.get("/chat")
    assert page.status_code == 200 and "chat-widget.js" in page.text
    js = await client.get("/static/chat-widget.js")
    assert js.status_code == 200 and "innerHTML" not in js.text.split("*/", 1)[1]


def test_staff_routes_carry_role_guards_by_default() -> None:
    for router in (build_bots_router(), build_channel_router()):
        for route in router.routes:
            path = route.path  # type: ignore[attr-defined]
            guarded = any(roles_of(d.call) for d in route.dependant.dependencies)  # type: ignore[attr-defined]
            public = path.startswith("/webhooks/") or path == "/chat"
            assert guarded != public, path
