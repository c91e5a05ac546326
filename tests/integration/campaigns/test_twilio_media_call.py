"""A campaign call that really talks over a Twilio-compatible Media Stream: the fake carrier
answers, opens the websocket named in our TwiML, says "Hello?", hears the reminder spoken by
our Piper voice (transcribed here by Whisper tiny.en), presses 1 — and the attempt is settled
as a promise to pay. Everything but the carrier is the product: REST dialer, signed status
callback, /voice/twilio, the media hub, AMD on the callee's audio, the script runner, TTS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import soxr
from fastapi import FastAPI
from sqlalchemy import select

from bots.campaigns import repo
from bots.campaigns.api import build_webhook_router
from bots.campaigns.contact_lists import parse_contact_list
from bots.campaigns.runtime import DialerSettings, build_runtime
from bots.campaigns.scripts import load_template
from bots.dialer.twilio_rest import TwilioRestDialer
from channels.api import build_router as build_voice_router
from core.clock import FrozenClock
from core.store import open_store
from core.store.migrate import upgrade
from core.store.tables.base import Base
from core.store.tables.campaigns import CAMPAIGN_TABLES, CallAttemptRow
from tests.fakes.twilio_server import Callee, TwilioFake
from tests.integration.campaigns.test_campaign_run import SETTINGS, START
from tests.live_server import free_port, serving

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[3]
PHONE = "+12127360001"


@pytest.fixture(scope="module")
def voices():  # type: ignore[no-untyped-def]
    from asr.faster_whisper import FasterWhisperSTT
    from models import CATALOG, Registry
    from tts.piper import PiperTTS

    registry = Registry(CATALOG, models_dir=REPO / "var" / "models")
    try:
        tts = PiperTTS(registry, steady=True)
        tts.warm_up()
        stt = FasterWhisperSTT(registry, model="whisper-tiny-en")
        stt.warm_up()
    except Exception as e:  # models not prepared: skip with the reason
        pytest.skip(f"voice models unavailable: {e}")
    return tts, stt


def _speech_8k(tts, text: str) -> bytes:  # type: ignore[no-untyped-def]
    chunks = list(tts.synthesize_stream(text))
    x = np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2")
    return soxr.resample(x, chunks[0].sample_rate_hz, 8_000).astype("<i2").tobytes()


async def test_reminder_is_heard_and_the_key_settles_the_attempt(tmp_path, voices) -> None:  # type: ignore[no-untyped-def]
    tts, stt = voices
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await upgrade(store)
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=list(CAMPAIGN_TABLES)))
    clock = FrozenClock(START)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    callee = Callee(says=_speech_8k(tts, "Hello?"), key="1")
    async with TwilioFake({PHONE: "answer"}, callees={PHONE: callee}) as fake:
        dialer = TwilioRestDialer(
            account_sid=fake.account_sid,
            auth_token=fake.auth_token,
            status_callback_url=f"{base}/api/v1/campaigns/dialer/twilio/status",
            media_stream_url=f"ws://127.0.0.1:{port}/api/v1/voice/twilio",
            api_base=fake.base_url,
        )
        runtime = build_runtime(
            sessions=store.sessions,
            clock=clock,
            dialer=dialer,
            tts=tts,
            settings=DialerSettings(public_base_url=base),
        )
        assert runtime.media_hub is not None

        async def no_inbound_bot(session) -> None:  # type: ignore[no-untyped-def]
            raise AssertionError("a campaign call reached the inbound bot")

        app = FastAPI()
        app.include_router(build_webhook_router(runtime), prefix="/api/v1")
        app.include_router(
            build_voice_router(
                voice_factory=no_inbound_bot, outbound_stream=runtime.media_hub.serve
            ),
            prefix="/api/v1",
        )
        template = load_template("payment_reminder_en")
        rows = f"phone,name,amount,due_date\n{PHONE},Ann Lee,$42.50,March 3\n"
        parsed = parse_contact_list(rows.encode())
        try:
            async with serving(app, port=port):
                async with store.sessions() as s, s.begin():
                    c = await repo.create_campaign(
                        s,
                        name="Reminder",
                        script=template.script.model_dump(),
                        settings=SETTINGS,
                        now=clock.now(),
                    )
                    await repo.add_contacts(
                        s, campaign_id=c.id, contacts=parsed.contacts, now=clock.now()
                    )
                    await repo.transition(s, campaign_id=c.id, action="launch", now=clock.now())
                assert (await runtime.scheduler.tick()).dialed == 1

                async def attempt() -> CallAttemptRow | None:
                    async with store.sessions() as s:
                        return (await s.execute(select(CallAttemptRow))).scalars().first()

                async with asyncio.timeout(120):  # AMD listens, then the reminder plays
                    while (a := await attempt()) is None or a.status != "ended":
                        await asyncio.sleep(0.1)
        finally:
            await runtime.stop()
            await store.close()

    assert a.disposition == "promise_to_pay", (a.disposition, a.note)
    assert a.answered_by == "human"  # our AMD on the callee's "Hello?" (no carrier AMD)
    assert callee.pressed == ["1"]
    heard = np.frombuffer(bytes(callee.heard), dtype="<i2")
    assert heard.size > 8_000 * 5 and np.abs(heard).max() > 3_000  # seconds of real speech
    up = soxr.resample(heard, 8_000, 16_000).astype("<i2").tobytes()
    text = stt.transcribe_sync(up, sample_rate_hz=16_000, language="en", beam_size=1).text
    assert "demo bank" in text.lower() and "promise to pay" in text.lower(), text
