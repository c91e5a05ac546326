"""Campaign calls that really talk over carrier media: the fake carrier answers, streams the
callee's "Hello?", the reminder is spoken by our Piper voice (transcribed here by Whisper
tiny.en), the callee presses 1 — and the attempt is settled as a promise to pay.

Twilio: the REST dialer's TwiML names /voice/twilio, the fake opens that Media Stream.
Asterisk: the ARI dialer bridges the answered channel to an AudioSocket external-media leg,
the fake connects to our AudioSocket server with the call id as UUID.
Everything but the carrier is the product: dialers, status callback / ARI events, the media
hub, AMD on the callee's audio, the script runner and TTS."""

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
from bots.dialer.asterisk_ari import AriDialer
from bots.dialer.media_hub import TelephonyMediaHub
from bots.dialer.twilio_rest import TwilioRestDialer
from channels.api import build_router as build_voice_router
from channels.audiosocket_server import serve_audiosocket
from core.clock import FrozenClock
from core.store import open_store
from core.store.migrate import upgrade
from core.store.tables.base import Base
from core.store.tables.campaigns import CAMPAIGN_TABLES, CallAttemptRow
from tests.fakes.ari_server import AriFake
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


def _speech(tts, text: str, rate: int) -> bytes:  # type: ignore[no-untyped-def]
    chunks = list(tts.synthesize_stream(text))
    x = np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2")
    return soxr.resample(x, chunks[0].sample_rate_hz, rate).astype("<i2").tobytes()


async def _store(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await upgrade(store)
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=list(CAMPAIGN_TABLES)))
    return store


async def _call_one(store, runtime, clock) -> CallAttemptRow:  # type: ignore[no-untyped-def]
    """Launch the reminder to PHONE, dial, and wait for the attempt to end."""
    template = load_template("payment_reminder_en")
    rows = f"phone,name,amount,due_date\n{PHONE},Ann Lee,$42.50,March 3\n"
    parsed = parse_contact_list(rows.encode())
    async with store.sessions() as s, s.begin():
        c = await repo.create_campaign(
            s,
            name="Reminder",
            script=template.script.model_dump(),
            settings=SETTINGS,
            now=clock.now(),
        )
        await repo.add_contacts(s, campaign_id=c.id, contacts=parsed.contacts, now=clock.now())
        await repo.transition(s, campaign_id=c.id, action="launch", now=clock.now())
    assert (await runtime.scheduler.tick()).dialed == 1

    async def attempt() -> CallAttemptRow | None:
        async with store.sessions() as s:
            return (await s.execute(select(CallAttemptRow))).scalars().first()

    async with asyncio.timeout(120):  # AMD listens, then the reminder plays
        while (a := await attempt()) is None or a.status != "ended":
            await asyncio.sleep(0.1)
    return a


def _check(a: CallAttemptRow, callee: Callee, stt, rate: int) -> None:  # type: ignore[no-untyped-def]
    assert a.disposition == "promise_to_pay", (a.disposition, a.note)
    assert a.answered_by == "human"  # our AMD on the callee's "Hello?" (no carrier AMD)
    assert callee.pressed == ["1"]
    heard = np.frombuffer(bytes(callee.heard), dtype="<i2")
    assert heard.size > rate * 5 and np.abs(heard).max() > 3_000  # seconds of real speech
    up = soxr.resample(heard, rate, 16_000).astype("<i2").tobytes() if rate != 16_000 else heard
    text = stt.transcribe_sync(
        bytes(up), sample_rate_hz=16_000, language="en", beam_size=1
    ).text.lower()
    assert "demo bank" in text and "promise to pay" in text, text


async def no_inbound_bot(session) -> None:  # type: ignore[no-untyped-def]
    raise AssertionError("a campaign call reached the inbound bot")


async def test_twilio_media_stream_call_talks(tmp_path, voices) -> None:  # type: ignore[no-untyped-def]
    tts, stt = voices
    store = await _store(tmp_path)
    clock = FrozenClock(START)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    callee = Callee(says=_speech(tts, "Hello?", 8_000), key="1")
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
        app = FastAPI()
        app.include_router(build_webhook_router(runtime), prefix="/api/v1")
        app.include_router(
            build_voice_router(
                voice_factory=no_inbound_bot, outbound_stream=runtime.media_hub.serve
            ),
            prefix="/api/v1",
        )
        try:
            async with serving(app, port=port):
                a = await _call_one(store, runtime, clock)
        finally:
            await runtime.stop()
            await store.close()
    _check(a, callee, stt, 8_000)


async def test_asterisk_ari_external_media_call_talks(tmp_path, voices) -> None:  # type: ignore[no-untyped-def]
    tts, stt = voices
    store = await _store(tmp_path)
    clock = FrozenClock(START)
    callee = Callee(says=_speech(tts, "Hello?", 16_000), key="1")
    hub = TelephonyMediaHub()
    server = await serve_audiosocket("127.0.0.1", 0, voice_factory=no_inbound_bot, outbound=hub)
    port = server.sockets[0].getsockname()[1]
    async with AriFake({PHONE: "answer"}, callees={PHONE: callee}) as fake:
        dialer = AriDialer(
            base_url=fake.base_url,
            username="hotline",
            password="secret",
            media_host=f"127.0.0.1:{port}",
            media_hub=hub,
        )
        runtime = build_runtime(sessions=store.sessions, clock=clock, dialer=dialer, tts=tts)
        assert runtime.media_hub is hub
        await runtime.start(background=False)
        try:
            a = await _call_one(store, runtime, clock)
        finally:
            await runtime.stop()
            server.close()
            await store.close()
    media = next(iter(fake.media.values()))
    assert media["encapsulation"] == "audiosocket" and media["format"] == "slin16"
    assert media["data"].replace("-", "") == a.call_id  # the AudioSocket UUID is the call id
    _check(a, callee, stt, 16_000)
