"""The Twilio-compatible dialer against the protocol fake, status callbacks included.

The fake POSTs signed status callbacks to our webhook router served on localhost; a forged
callback (bad signature) is refused.
"""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from bots.campaigns import repo
from bots.campaigns.api import build_webhook_router
from bots.campaigns.contact_lists import parse_contact_list
from bots.campaigns.runtime import DialerSettings, build_runtime
from bots.dialer.twilio_rest import TwilioRestDialer, stream_twiml
from core.clock import FrozenClock
from core.store.tables.campaigns import CallAttemptRow, CampaignContactRow
from core.twilio_signature import signature
from tests.fakes.twilio_server import TwilioFake
from tests.integration.campaigns.conftest import ScriptedRunner
from tests.integration.campaigns.test_campaign_run import SETTINGS, START
from tests.live_server import free_port, serving

SCRIPT = {
    "+12127360001": "answer",
    "+12127360002": "answer_machine",
    "+12127360003": "busy",
    "+12127360004": "no_answer",
    "+12127360005": "invalid",
}


def test_signature_matches_twilio_reference() -> None:
    # Twilio's documented example (security docs): URL + sorted params, auth token 12345
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    assert signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_twiml_escapes_parameters() -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(stream_twiml("wss://x/voice/twilio", {"name": "a\"<b'&"}))
    stream = root.find("./Connect/Stream")
    assert stream is not None and stream.get("url") == "wss://x/voice/twilio"
    assert stream.find("Parameter").attrib == {"name": "name", "value": "a\"<b'&"}


async def test_campaign_over_twilio_fake(cstore) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(START)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with TwilioFake(SCRIPT) as fake:
        dialer = TwilioRestDialer(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            status_callback_url=f"{base}/api/v1/campaigns/dialer/twilio/status",
            media_stream_url="ws://127.0.0.1/voice/twilio",
            api_base=fake.base_url,
            machine_detection=True,
        )
        runner = ScriptedRunner({})
        runtime = build_runtime(
            sessions=cstore.sessions,
            clock=clock,
            dialer=dialer,
            runner=runner,
            settings=DialerSettings(public_base_url=base),
        )
        app = FastAPI()
        app.include_router(build_webhook_router(runtime), prefix="/api/v1")
        try:
            async with serving(app, port=port):
                parsed = parse_contact_list(("phone\n" + "\n".join(SCRIPT) + "\n").encode())
                settings = {
                    **SETTINGS,
                    "pacing": {"mode": "progressive", "max_lines": 5, "bot_slots": 5},
                }
                async with cstore.sessions() as s, s.begin():
                    c = await repo.create_campaign(
                        s, name="T", script={}, settings=settings, now=clock.now()
                    )
                    await repo.add_contacts(
                        s, campaign_id=c.id, contacts=parsed.contacts, now=clock.now()
                    )
                    await repo.transition(s, campaign_id=c.id, action="launch", now=clock.now())
                report = await runtime.scheduler.tick()
                assert report.dialed == 5  # the invalid number is settled as invalid, not an error
                assert report.dialer_errors == 1

                async def ended() -> int:
                    async with cstore.sessions() as s:
                        rows = (await s.execute(select(CallAttemptRow))).scalars().all()
                    return sum(r.status == "ended" for r in rows)

                n = 0
                async with asyncio.timeout(20):
                    while n < 5:
                        n = await ended()
                        await asyncio.sleep(0.02)
                async with cstore.sessions() as s:
                    contacts = {
                        r.phone_e164: r
                        for r in (await s.execute(select(CampaignContactRow))).scalars()
                    }
                    attempts = {
                        a.contact_id: a for a in (await s.execute(select(CallAttemptRow))).scalars()
                    }
                disp = {p: attempts[c.id].disposition for p, c in contacts.items()}
                assert disp == {
                    "+12127360001": "answered_human",
                    "+12127360002": "answered_human",
                    "+12127360003": "busy",
                    "+12127360004": "no_answer",
                    "+12127360005": "invalid",
                }
                assert {c.phone_e164: c.answered_by for c in runner.calls} == {
                    "+12127360001": "human",
                    "+12127360002": "machine",
                }
                assert contacts["+12127360005"].status == "invalid"
                create = fake.creates[0]
                assert create["StatusCallbackEvent"] == [
                    "initiated",
                    "ringing",
                    "answered",
                    "completed",
                ]
                assert "<Stream" in create["Twiml"][0]
                async with httpx.AsyncClient() as http:
                    r = await http.post(
                        f"{base}/api/v1/campaigns/dialer/twilio/status",
                        data={"CallSid": "CAx", "CallStatus": "busy"},
                        headers={"X-Twilio-Signature": "forged"},
                    )
                    assert r.status_code == 403
        finally:
            await runtime.stop()
