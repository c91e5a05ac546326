""" "Ask a supervisor" end to end on the real app (uvicorn on loopback, memory bus, seeded
SQLite): the agent's request is stored and shows up live on the supervisors' socket; the
supervisor acknowledges and joins (the call control really starts listening), and the
agent's socket shows each step; a reconnecting page catches up from the store; the
routes are role-guarded and the supervisors' page exists for supervisors only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.settings import FeatureSettings, Settings
from core.store.tables.assist import HelpRequestRow
from routing.model import ContactRequest
from tests.conftest import wait_for

CID = "c-help"


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


@pytest.fixture
async def served(settings, seeded_sqlite) -> AsyncIterator[dict]:  # type: ignore[no-untyped-def]
    import uvicorn

    from app import create_app

    template, passwords = seeded_sqlite
    shutil.copy(template, settings.data_dir / "hotline.db")
    app = create_app(settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serve = asyncio.create_task(srv.serve())
    await wait_for(lambda: srv.started, timeout=30)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            tokens = {}
            for user in ("agent1", "supervisor", "qa"):
                login = {"username": user, "password": passwords[user]}
                r = await client.post("/api/v1/auth/login", json=login)
                tokens[user] = r.json()["access_token"]
            yield {"app": app, "client": client, "ws": f"ws://127.0.0.1:{port}", "tokens": tokens,
                   "passwords": passwords}  # fmt: skip
    finally:
        srv.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(serve, 30)


def auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


async def recv(ws) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(await asyncio.wait_for(ws.recv(), 10))


async def until(ws, status: str) -> dict:  # type: ignore[no-untyped-def]
    """The next help message with this status (skipping none: order is part of the contract)."""
    msg = await recv(ws)
    assert (msg["type"], msg["status"]) == ("help", status), msg
    return msg


async def test_agent_asks_supervisor_acknowledges_and_joins(served) -> None:  # type: ignore[no-untyped-def]
    import websockets

    app, client, tok = served["app"], served["client"], served["tokens"]
    agent, sup = auth(tok["agent1"]), auth(tok["supervisor"])
    # agent1 is on the contact, so a supervisor can listen in
    routing = app.state.routing
    await routing.login("agent1")
    await routing.make_available("agent1")
    await routing.enqueue(ContactRequest(CID, app.state.clock.now(), queue_id="default"))
    await wait_for(lambda: CID in routing.agents["agent1"].offers)
    await routing.accept("agent1", CID)

    floor_url = f"{served['ws']}/api/v1/assist/help-requests/live?token={tok['supervisor']}"
    desk_url = (
        f"{served['ws']}/api/v1/assist/help-requests/live?contact_id={CID}&token={tok['agent1']}"
    )
    async with websockets.connect(floor_url) as floor, websockets.connect(desk_url) as desk:
        assert (await recv(floor))["type"] == "caught_up"
        assert (await recv(desk))["type"] == "caught_up"

        r = await client.post("/api/v1/assist/help-requests", headers=agent, json={
            "contact_id": CID, "reason": "Customer is very angry",
            "source": "deescalation:escalate"})  # fmt: skip
        assert r.status_code == 201, r.text
        req = r.json()
        assert (req["status"], req["agent_id"], req["contact_id"]) == ("open", "agent1", CID)
        on_floor = await until(floor, "open")
        assert (on_floor["id"], on_floor["reason"]) == (req["id"], "Customer is very angry")
        assert (await until(desk, "open"))["id"] == req["id"]

        again = await client.post("/api/v1/assist/help-requests", headers=agent,
                                  json={"contact_id": CID})  # fmt: skip
        assert (again.status_code, again.json()["id"]) == (200, req["id"])  # no second page

        r = await client.post(f"/api/v1/assist/help-requests/{req['id']}/acknowledge", headers=sup)
        assert r.status_code == 200 and r.json()["status"] == "acknowledged"
        coming = await until(desk, "acknowledged")
        assert coming["supervisor_id"] == "supervisor"
        await until(floor, "acknowledged")

        r = await client.post(f"/api/v1/assist/help-requests/{req['id']}/join", headers=sup,
                              json={"mode": "listen"})  # fmt: skip
        assert r.status_code == 200, r.text
        joined = await until(desk, "joined")
        assert (joined["supervisor_id"], joined["mode"]) == ("supervisor", "listen")
        await until(floor, "joined")
        assert app.state.call_control.states[CID].monitors == {"supervisor": "listen"}

        # a late acknowledge does not move it back
        r = await client.post(f"/api/v1/assist/help-requests/{req['id']}/acknowledge", headers=sup)
        assert r.json()["status"] == "joined"

    # the agent's sidebar reloads: it catches up from the store
    async with websockets.connect(desk_url) as desk:
        msg = await recv(desk)
        assert (msg["id"], msg["status"], msg["supervisor_id"]) == (
            req["id"],
            "joined",
            "supervisor",
        )
        assert (await recv(desk))["type"] == "caught_up"
        r = await client.post(f"/api/v1/assist/help-requests/{req['id']}/close", headers=agent)
        assert r.json()["status"] == "closed"
        assert (await until(desk, "closed"))["id"] == req["id"]

    async with app.state.store.sessions() as s:
        row = await s.get(HelpRequestRow, req["id"])
        assert (row.status, row.supervisor_id, row.mode, row.source) == (
            "closed", "supervisor", "listen", "deescalation:escalate",
        )  # fmt: skip
        assert row.closed_at is not None
    r = await client.get("/api/v1/assist/help-requests", headers=sup)
    assert r.json()["count"] == 0  # nothing active any more
    r = await client.get("/api/v1/assist/help-requests", params={"status": "all"}, headers=sup)
    assert [x["id"] for x in r.json()["data"]] == [req["id"]]


async def test_help_routes_are_guarded(served) -> None:  # type: ignore[no-untyped-def]
    import websockets

    app, client, tok = served["app"], served["client"], served["tokens"]
    agent, qa = auth(tok["agent1"]), auth(tok["qa"])
    r = await client.post("/api/v1/assist/help-requests", json={"contact_id": CID})
    assert r.status_code == 401
    r = await client.post("/api/v1/assist/help-requests", headers=qa, json={"contact_id": CID})
    assert r.status_code == 403
    req = (
        await client.post("/api/v1/assist/help-requests", headers=agent, json={"contact_id": "c2"})
    ).json()
    # only supervisors acknowledge or join
    r = await client.post(f"/api/v1/assist/help-requests/{req['id']}/acknowledge", headers=agent)
    assert r.status_code == 403
    r = await client.post(f"/api/v1/assist/help-requests/{req['id']}/join", headers=agent)
    assert r.status_code == 403
    # nobody is handling c2: joining it is refused, and nothing changes
    r = await client.post(
        f"/api/v1/assist/help-requests/{req['id']}/join", headers=auth(tok["supervisor"])
    )
    assert r.status_code == 400 and r.json()["code"] == "unknown_contact"
    r = await client.get("/api/v1/assist/help-requests", params={"contact_id": "c2"}, headers=agent)
    assert [x["status"] for x in r.json()["data"]] == ["open"]
    r = await client.post("/api/v1/assist/help-requests/help-nope/acknowledge",
                          headers=auth(tok["supervisor"]))  # fmt: skip
    assert r.status_code == 404
    # watching the whole floor is for supervisors; an agent may watch one contact
    with pytest.raises(websockets.exceptions.InvalidStatus):
        async with websockets.connect(
            f"{served['ws']}/api/v1/assist/help-requests/live?token={tok['agent1']}"
        ):
            pass
    assert app.state.help_live.watching("*") == 0

    # the supervisors' page: login redirect, then supervisors only
    r = await client.get("/assist/help-requests", follow_redirects=False)
    assert r.status_code == 303
    cookie = app.state.settings.auth.cookie_name
    r = await client.get("/assist/help-requests", cookies={cookie: tok["agent1"]})
    assert r.status_code == 403
    r = await client.get("/assist/help-requests", cookies={cookie: tok["supervisor"]})
    assert r.status_code == 200 and "help-requests.js" in r.text
    r = await client.get("/assist/ui/help-requests.js", cookies={cookie: tok["agent1"]})
    assert r.status_code == 200 and "HotlineHelp" in r.text
    assert (
        await client.get("/assist/ui/nope.js", cookies={cookie: tok["agent1"]})
    ).status_code == 404
