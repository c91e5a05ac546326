"""The composed app: ops endpoints, login, API keys, timeline/trace, logs without PII."""

from __future__ import annotations

import asyncio
import json

import pytest

from core.domain import Channel, Speaker
from core.events import ContactStarted, StageTimed, TranscriptFinal
from tests.conftest import login, wait_for


async def test_health_ready_metrics(app_client) -> None:
    client, _app, _ = app_client
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = (await client.get("/ready")).json()
    assert ready["checks"]["store"] and ready["checks"]["bus"]
    metrics = (await client.get("/metrics")).text
    assert "hotline_http_requests_total" in metrics and "hotline_bus_dropped" in metrics


async def test_login_me_and_wrong_password(app_client) -> None:
    client, _app, pw = app_client
    headers = await login(client, "supervisor", pw["supervisor"])
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["username"] == "supervisor" and me["roles"] == ["supervisor"]
    bad = await client.post("/api/v1/auth/login", json={"username": "supervisor", "password": "x"})
    assert bad.status_code == 401 and bad.json()["code"] == "bad_credentials"
    ghost = await client.post("/api/v1/auth/login", json={"username": "ghost", "password": "x"})
    assert ghost.status_code == 401


async def test_role_guard_and_api_keys(app_client) -> None:
    client, _app, pw = app_client
    agent = await login(client, "agent1", pw["agent1"])
    r = await client.get("/api/v1/users", headers=agent)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    admin = await login(client, "admin", pw["admin"])
    assert (await client.get("/api/v1/users", headers=admin)).json()["count"] == 11
    created = (
        await client.post(
            "/api/v1/auth/api-keys",
            headers=admin,
            json={"name": "crm-sync", "roles": ["supervisor"]},
        )
    ).json()
    key = created["key"]
    me = (await client.get("/api/v1/auth/me", headers={"X-API-Key": key})).json()
    assert me["via"] == "api_key" and me["roles"] == ["supervisor"]
    bad = await client.get("/api/v1/auth/me", headers={"X-API-Key": key[:-2] + "zz"})
    assert bad.status_code == 401


async def test_bus_events_land_in_timeline_and_trace(app_client) -> None:
    client, app, pw = app_client
    bus = app.state.bus
    started = ContactStarted(contact_id="c42", channel=Channel.VOICE, language="en")
    said = TranscriptFinal(contact_id="c42", speaker=Speaker.CUSTOMER, text="lost my card")
    timed = StageTimed(contact_id="c42", stage="asr", started_at=said.at, duration_ms=87.5, turn=1)
    for e in (started, said, timed):
        bus.publish_nowait(e)
    await wait_for(lambda: app.state.timeline.stored == 3)
    headers = await login(client, "qa", pw["qa"])
    tl = (await client.get("/api/v1/contacts/c42/events", headers=headers)).json()
    assert [e["type"] for e in tl["data"]] == ["contact.started", "transcript.final", "stage.timed"]
    trace = (await client.get("/api/v1/contacts/c42/trace", headers=headers)).json()
    assert trace["stages"][0]["stage"] == "asr" and trace["stages"][0]["duration_ms"] == 87.5
    contacts = (await client.get("/api/v1/contacts", headers=headers)).json()
    assert contacts["data"][0]["id"] == "c42" and contacts["data"][0]["channel"] == "voice"
    assert (await client.get("/api/v1/contacts/nope", headers=headers)).status_code == 404


async def test_pages_need_login(app_client) -> None:
    client, _app, pw = app_client
    r = await client.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = await client.post(
        "/login", data={"username": "admin", "password": pw["admin"], "next": "/"}
    )
    assert r.status_code == 303
    client.cookies.set("hotline_token", r.cookies["hotline_token"])
    home = await client.get("/")
    assert home.status_code == 200 and "Agent desktop" in home.text
    evil = await client.post(
        "/login", data={"username": "admin", "password": pw["admin"], "next": "//evil.com"}
    )
    assert evil.headers["location"] == "/"


async def test_logs_carry_no_pii_or_secrets(app_client, capfd: pytest.CaptureFixture) -> None:
    import structlog

    client, _app, pw = app_client
    log = structlog.get_logger("test")
    log.info(
        "caller said",
        text="my card is 4111 1111 1111 1111 and phone +86 138 0013 8000",
        password=pw["admin"],
    )
    await client.post("/api/v1/auth/login", json={"username": "admin", "password": pw["admin"]})
    err = capfd.readouterr().err
    line = next(json.loads(x) for x in err.splitlines() if "caller said" in x)
    assert "4111 1111 1111 1111" not in line["text"] and "1111" in line["text"]
    assert "0013 8000" not in line["text"]
    assert line["password"] == "[redacted]"
    assert pw["admin"] not in err


async def test_batch_job_over_the_api(app_client) -> None:
    client, app, pw = app_client

    async def count_words(p: dict) -> dict:
        return {"words": len(p["text"].split())}

    app.state.jobs.register("count_words", count_words)
    headers = await login(client, "supervisor", pw["supervisor"])
    r = await client.post("/api/v1/jobs", headers=headers, json={"kind": "nope"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    r = await client.post(
        "/api/v1/jobs", headers=headers, json={"kind": "count_words", "payload": {"text": "a b c"}}
    )
    assert r.status_code == 202
    job_id = r.json()["id"]
    done: dict = {}

    async def finished() -> bool:
        done.update((await client.get(f"/api/v1/jobs/{job_id}", headers=headers)).json())
        return done["status"] == "done"

    async with asyncio.timeout(10):
        while not await finished():
            await asyncio.sleep(0.05)
    assert done["result"] == {"words": 3}
