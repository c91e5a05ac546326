"""The campaigns API on the real app: role guard, create from template, upload with per-row
errors, preview with a contact's variables, launch → the test phone rings → stats, export."""

from __future__ import annotations

import pytest

from bots.campaigns.api import build_router
from bots.campaigns.runtime import build_runtime
from bots.dialer.browser_phone import BrowserPhoneHub
from core.store.tables.base import Base
from core.store.tables.campaigns import CAMPAIGN_TABLES
from tests.conftest import login, wait_for

ALWAYS = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "23:59:59"}]


@pytest.fixture
async def api(app_client):  # type: ignore[no-untyped-def]
    client, app, passwords = app_client
    async with app.state.store.engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=list(CAMPAIGN_TABLES)))
    runtime = build_runtime(sessions=app.state.store.sessions, clock=app.state.clock)
    app.include_router(build_router(runtime), prefix="/api/v1")
    headers = await login(client, "campaigns", passwords["campaigns"])
    yield client, runtime, headers
    await runtime.stop()


async def test_agents_are_refused(app_client, api) -> None:  # type: ignore[no-untyped-def]
    client, _, passwords = app_client
    headers = await login(client, "agent1", passwords["agent1"])
    r = await client.get("/api/v1/campaigns", headers=headers)
    assert r.status_code == 403
    assert (await client.get("/api/v1/campaigns")).status_code == 401


async def test_campaign_lifecycle_through_the_api(api) -> None:  # type: ignore[no-untyped-def]
    client, runtime, h = api
    tpls = (await client.get("/api/v1/campaigns/templates", headers=h)).json()
    assert {t["name"] for t in tpls} >= {
        "payment_reminder_en",
        "payment_reminder_zh",
        "csat_survey_en",
    }
    tpl = next(t for t in tpls if t["name"] == "payment_reminder_en")
    settings = {**tpl["settings"], "windows": ALWAYS}
    r = await client.post(
        "/api/v1/campaigns",
        headers=h,
        json={"name": "Jan", "template": "payment_reminder_en", "settings": settings},
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    csv_text = (
        "Mobile,Customer,Balance,Due\n+12127360100,Ann Lee,$42.50,March 3\n"
        "garbage,Bob,1,x\n+12127360100,Ann dup,1,x\n+12127360101,Carl,$9,May 1\n"
    )
    r = await client.post(
        f"/api/v1/campaigns/{cid}/contacts",
        headers=h,
        files={"file": ("list.csv", csv_text.encode(), "text/csv")},
        data={
            "mapping": '{"phone": "Mobile", "name": "Customer", '
            '"amount": "Balance", "due_date": "Due"}'
        },
    )
    body = r.json()
    assert r.status_code == 200, body
    assert body["added"] == 2 and [e["row"] for e in body["errors"]] == [3, 4]
    p = (await client.get(f"/api/v1/campaigns/{cid}/preview", headers=h)).json()
    assert "Ann Lee" in p["greeting"] and "$42.50" in p["message"] and "March 3" in p["message"]
    assert p["missing_variables"] == []

    # DNC the second number, register a test phone for the first
    r = await client.post("/api/v1/campaigns/dnc", headers=h, json={"phone": "+12127360101"})
    assert r.json() == {"phone": "+12127360101", "added": True}
    hub = runtime.phones
    assert isinstance(hub, BrowserPhoneHub)
    inbox: list[dict] = []

    async def send(msg: dict) -> None:
        inbox.append(msg)

    hub.register("+12127360100", send)
    assert (await client.post(f"/api/v1/campaigns/{cid}/pause", headers=h)).status_code == 400
    assert (await client.post(f"/api/v1/campaigns/{cid}/launch", headers=h)).json()[
        "status"
    ] == "running"
    await runtime.scheduler.tick()
    await wait_for(lambda: any(m["type"] == "ring" for m in inbox))
    call_id = inbox[0]["call_id"]
    await hub.on_message("+12127360100", {"type": "answer", "call_id": call_id})
    await wait_for(lambda: any(m["type"] == "play" for m in inbox))
    assert "Ann Lee" in next(m for m in inbox if m["type"] == "play")["text"]
    await hub.on_message("+12127360100", {"type": "dtmf", "call_id": call_id, "digit": "1"})
    await wait_for(lambda: runtime.scheduler.live_calls == 0)
    s = (await client.get(f"/api/v1/campaigns/{cid}/stats", headers=h)).json()
    assert s["conversions"] == 1 and s["dispositions"] == {"promise_to_pay": 1, "dnc": 1}
    r = await client.get(f"/api/v1/campaigns/{cid}/export.csv", headers=h)
    assert r.status_code == 200 and "promise_to_pay" in r.text and "Ann Lee" in r.text
    await runtime.scheduler.tick()
    s = (await client.get(f"/api/v1/campaigns/{cid}/stats", headers=h)).json()
    assert s["status"] == "completed"


async def test_every_campaign_route_is_role_guarded(app_client, api) -> None:  # type: ignore[no-untyped-def]
    from fastapi.routing import APIRoute, APIWebSocketRoute

    from core.deps import iter_routes, roles_of
    from core.domain import Role

    def roles(dep):  # type: ignore[no-untyped-def]
        found = set(roles_of(dep.call) or ()) if dep.call else set()
        for sub in dep.dependencies:
            found |= roles(sub)
        return found

    client, app, _ = app_client
    checked = 0
    for path, route in iter_routes(app):
        if not path.startswith("/api/v1/campaigns") or path.startswith("/api/v1/campaigns/dialer/"):
            continue  # the carrier callback is signature-checked, not role-guarded
        assert isinstance(route, APIRoute | APIWebSocketRoute)
        assert Role.CAMPAIGN_MANAGER in roles(route.dependant), path
        checked += 1
        if isinstance(route, APIRoute):
            for method in route.methods:
                r = await client.request(
                    method,
                    path.replace("{campaign_id}", "x")
                    .replace("{action}", "launch")
                    .replace("{phone}", "1"),
                )
                assert r.status_code == 401, (method, path, r.status_code)
    assert checked >= 15
