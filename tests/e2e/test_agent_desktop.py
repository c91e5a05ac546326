"""Two browsers against the real app on loopback: a caller on the /call page and an agent on
the desktop. The bot hands off, the agent's desktop rings with the handoff packet, the agent
accepts and hears the caller (PCM frames with energy counted on the page), the caller hears
the agent, hold / hang up / wrap-up work from the page, and an agent whose browser goes away
has the call re-queued.

The bot itself is a test double at the bot boundary (a voice factory that publishes the
``handoff.requested`` the dialogue engine would, then reads caller audio like the pipeline's
transport input): everything else is real — uvicorn, the app, routing, the live socket, the
channels' browser wire and /call page, the media bridge, and Chromium with fake microphones.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from bots.dialogue.service import BotService
from channels.agent_bridge import energy
from core.domain import Speaker
from core.events import HandoffRequested, TranscriptFinal
from tests.conftest import wait_for
from tests.integration.voice.conftest import say, voice_engines  # noqa: F401
from tests.live_server import serving

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")
PACKET = {
    "reason": "customer_request",
    "summary": "Customer wants: dispute charge; verified; handoff reason: customer request.",
    "intent": "dispute_charge",
    "slots": {"amount": "42.00", "merchant": "Coffee Co"},
    "emotions": ("neutral", "frustrated"),
    "queue": "billing",
    "language": "en",
}


def write_tone(path: Path, hz: float, seconds: float = 3.0, rate: int = 48_000) -> None:
    t = np.arange(int(rate * seconds)) / rate
    x = (9000 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(x.tobytes())


def chromium_args(mic: Path) -> list[str]:
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={mic}",
        "--autoplay-policy=no-user-gesture-required",
    ]


def fake_bot(app):  # type: ignore[no-untyped-def]
    """What the voice bot does on a handoff, at its boundary: publish the packet, keep
    reading the caller (the bridge forks that audio), say what the caller said."""
    bus = app.state.bus
    media = app.state.media_bridges

    async def factory(session) -> str:  # type: ignore[no-untyped-def]
        cid = session.contact_id
        await bus.publish(HandoffRequested(contact_id=cid, **PACKET))
        told = False
        wire = session.input.wire
        while (chunk := await wire.receive()) is not None:
            m = media.get(cid)
            if not told and chunk and m is not None and m.agent_on:
                told = True
                await bus.publish(
                    TranscriptFinal(
                        contact_id=cid,
                        speaker=Speaker.CUSTOMER,
                        text="There is a charge I do not know.",
                    )
                )
        return "hangup"

    return factory


class PayloadOnly:
    """NLU boundary double: the test only sends Rasa payloads (``/talk_to_human``)."""

    async def understand(self, text: str, *, language: str | None):  # type: ignore[no-untyped-def]
        from bots.dialogue.understanding import Understanding

        return Understanding(text=text, intent="nlu_fallback", confidence=0.0, language="en")


async def wire_chat_bot(app) -> None:  # type: ignore[no-untyped-def]
    """The dialogue engine on the app's store and bus, with the NLU double."""
    from bots.api import build_channel_router
    from bots.dialogue.assembly import build_bot_service
    from core.deps import iter_routes
    from core.store.tables.base import Base

    store = app.state.store
    tables = [t for name, t in Base.metadata.tables.items() if name.startswith("bot_")]
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=tables))
    app.state.bots = await build_bot_service(
        sessions=store.sessions,
        bus=app.state.bus,
        clock=app.state.clock,
        understander=PayloadOnly(),
    )
    if "/webhooks/rest/webhook" not in {p for p, _ in iter_routes(app)}:
        app.include_router(build_channel_router())
    from app import wire_agent_chat

    wire_agent_chat(app)


def build_app(settings, seeded_sqlite, voice_factory=None):  # type: ignore[no-untyped-def]
    """The real app on a copy of the seeded store, with the voice channel answered by
    ``voice_factory`` (default: the fake bot) behind the app's media bridge."""
    from app import create_app
    from channels.api import build_page_router, build_router

    template, passwords = seeded_sqlite
    shutil.copy(template, settings.data_dir / "hotline.db")
    app = create_app(settings)
    app.state.live.grace_s = 0  # a closed desktop releases its contacts at once
    factory = app.state.media_bridges.wrap_factory(voice_factory or fake_bot(app))
    # ahead of any voice routes app.py may carry, so this test's bot answers /voice/browser
    routes = [*build_router(voice_factory=factory).routes, *build_page_router().routes]
    app.router.routes[:0] = routes
    return app, passwords


@pytest.fixture
async def server(settings, seeded_sqlite):  # type: ignore[no-untyped-def]
    app, passwords = build_app(settings, seeded_sqlite)
    async with serving(app) as base:
        if not isinstance(app.state.bots, BotService):  # the bots feature is off in tests
            await wire_chat_bot(app)
        yield base, app, passwords


async def open_desktop(browser, base: str, user: str, password: str):  # type: ignore[no-untyped-def]
    page = await browser.new_page()
    await page.goto(f"{base}/login?next=/agent")
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/agent")
    await page.wait_for_function("document.getElementById('live-status').textContent === 'live'")
    await page.click("#btn-login")  # login makes the agent available
    await page.wait_for_function(
        "document.getElementById('state').dataset.state === 'available'", timeout=10_000
    )
    return page


async def test_handoff_rings_the_agent_who_accepts_and_hears_the_caller(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    base, app, passwords = server
    routing = app.state.routing
    caller_mic, agent_mic = tmp_path / "caller.wav", tmp_path / "agent.wav"
    write_tone(caller_mic, 440.0)
    write_tone(agent_mic, 660.0)
    async with async_playwright() as p:
        agent_browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=chromium_args(agent_mic)
        )
        caller_browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=chromium_args(caller_mic)
        )
        try:
            desk = await open_desktop(agent_browser, base, "agent1", passwords["agent1"])

            caller = await caller_browser.new_page()
            await caller.goto(f"{base}/call")
            await caller.click("#call")

            # the desktop rings with the bot's handoff packet
            await desk.locator("#offer").wait_for(state="visible", timeout=20_000)
            assert "dispute charge" in (await desk.text_content("#packet-summary") or "")
            assert await desk.text_content("#packet-intent") == "dispute_charge"
            assert await desk.text_content("#packet-emotion") == "neutral → frustrated"
            assert "Coffee Co" in (await desk.text_content("#packet-slots") or "")
            cid = await desk.text_content("#offer-contact")
            assert cid == await caller.evaluate(
                "document.getElementById('transcript').dataset.contactId"
            )
            assert cid in routing.agents["agent1"].offers

            await desk.click("#btn-accept")
            await desk.locator("#contact").wait_for(state="visible")
            # the agent hears the caller: PCM frames with energy reach the page and play
            await desk.wait_for_function("window.hotlineAgent.loudFrames > 20", timeout=20_000)
            assert await desk.evaluate("window.hotlineAgent.peakRms") > 1000
            # the caller hears the agent (the bot sends no audio in this test)
            await caller.wait_for_function(
                "Number(document.getElementById('transcript').dataset.botAudioMs) > 500",
                timeout=20_000,
            )
            # live transcript of the contact
            await desk.locator("#transcript .line.customer").first.wait_for(timeout=10_000)
            media = app.state.media_bridges.get(cid)
            assert media is not None and media.agent_on

            # three-way: agent1 adds agent2, whose desktop joins the call's audio as a guest
            desk2 = await open_desktop(agent_browser, base, "agent2", passwords["agent2"])
            await desk.select_option("#transfer-kind", "agent")
            await desk.fill("#transfer-target", "agent2")
            await desk.click("#btn-conference")
            await desk2.locator("#contact").wait_for(state="visible", timeout=10_000)
            await desk2.wait_for_function("window.hotlineAgent.loudFrames > 10", timeout=20_000)
            assert "conference: agent2" in (await desk.text_content("#control-flags") or "")
            await desk2.click("#btn-hangup")  # a guest leaves the audio only
            await wait_for(lambda: "agent2" not in media.legs, timeout=10)
            assert "agent1" in media.legs

            # hold from the page: the agent stops hearing the caller
            await desk.click("#btn-hold")
            await desk.locator("#btn-resume").wait_for(state="visible")
            assert media.held
            await desk.click("#btn-resume")
            await desk.locator("#btn-hold").wait_for(state="visible")

            # hang up → wrap-up with disposition and notes → available
            await desk.click("#btn-hangup")
            await desk.locator("#wrapup").wait_for(state="visible")
            await desk.select_option("#disposition", "resolved")
            await desk.fill("#notes", "Charge explained.")
            await desk.click("#btn-wrapup")
            await desk.wait_for_function(
                "document.getElementById('state').dataset.state === 'available'"
            )
            assert routing.agents["agent1"].state.value == "available"
            await caller.click("#hangup")
        finally:
            await caller_browser.close()
            await agent_browser.close()


async def test_a_closed_agent_browser_requeues_the_call(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    base, app, passwords = server
    routing = app.state.routing
    mic = tmp_path / "caller.wav"
    write_tone(mic, 440.0)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=chromium_args(mic))
        caller_browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=chromium_args(mic)
        )
        try:
            desk = await open_desktop(browser, base, "agent1", passwords["agent1"])
            caller = await caller_browser.new_page()
            await caller.goto(f"{base}/call")
            await caller.click("#call")
            await desk.locator("#offer").wait_for(state="visible", timeout=20_000)
            cid = await desk.text_content("#offer-contact")
            await desk.click("#btn-accept")
            await desk.wait_for_function("window.hotlineAgent.audioFrames > 5", timeout=20_000)
            await desk.close()  # the agent's browser goes away mid-call
            await wait_for(lambda: routing.agents["agent1"].state.value == "offline", timeout=20)
            assert routing.entries[cid].status == "waiting"  # re-queued, never dropped
            await caller.click("#hangup")
        finally:
            await caller_browser.close()
            await browser.close()


async def test_chat_handoff_the_agent_and_the_customer_write_to_each_other(
    server, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    base, _app, passwords = server
    mic = tmp_path / "quiet.wav"
    write_tone(mic, 440.0)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=chromium_args(mic))
        customer_browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=chromium_args(mic)
        )
        try:
            desk = await open_desktop(browser, base, "agent1", passwords["agent1"])
            chat = await customer_browser.new_page()
            await chat.goto(f"{base}/chat")
            await chat.fill(".hl-form input", "/talk_to_human")
            await chat.click(".hl-form button")
            await chat.locator(".hl-msg.hl-bot").first.wait_for(timeout=10_000)
            assert "colleague" in (await chat.text_content(".hl-log") or "")
            await desk.locator("#offer").wait_for(state="visible", timeout=10_000)
            assert await desk.text_content("#offer-channel") == "chat"
            assert (await desk.text_content("#packet-summary") or "").startswith("No clear")
            await desk.click("#btn-accept")
            await desk.locator("#contact").wait_for(state="visible")
            assert await desk.locator("#softphone").is_hidden()  # no softphone on a chat

            # the customer is told a person joined; the agent writes, the widget shows it
            await chat.get_by_text("A colleague has joined").wait_for(timeout=15_000)
            await desk.fill("#chat-input", "Hello, this is Anna from billing.")
            await desk.click("#btn-chat-send")
            await chat.locator(".hl-agent", has_text="Anna from billing").wait_for(timeout=15_000)
            await desk.locator("#transcript .line.agent", has_text="Anna").wait_for(timeout=10_000)

            # the customer's answer reaches the agent, and the bot stays out of it
            bot_lines = await chat.locator(".hl-msg.hl-bot").count()
            await chat.fill(".hl-form input", "I was charged twice for coffee.")
            await chat.click(".hl-form button")
            await desk.locator("#transcript .line.customer", has_text="charged twice").wait_for(
                timeout=10_000
            )
            await chat.wait_for_timeout(2500)  # one poll later: still no bot answer
            assert await chat.locator(".hl-msg.hl-bot").count() == bot_lines

            # the agent closes the chat: the customer is told, the agent goes to wrap-up
            await desk.click("#btn-hangup")
            await desk.locator("#wrapup").wait_for(state="visible", timeout=10_000)
            await chat.get_by_text("closed the chat").wait_for(timeout=15_000)
        finally:
            await customer_browser.close()
            await browser.close()


class HandoffResponder:
    """Responder double (the dialogue engine's boundary): the first caller turn asks for a
    human; the bot says so and publishes the packet, then stays quiet."""

    def __init__(self, bus) -> None:  # type: ignore[no-untyped-def]
        self.bus = bus
        self.heard: list[str] = []

    async def respond(self, text: str, *, contact_id: str, language: str | None) -> str:
        self.heard.append(text)
        if len(self.heard) > 1:
            return ""
        await self.bus.publish(HandoffRequested(contact_id=contact_id, **PACKET))
        return "Let me find a colleague for you."


async def test_real_voice_pipeline_agent_hears_the_caller_and_the_bot_goes_quiet(
    settings,
    seeded_sqlite,
    voice_engines,  # noqa: F811
    say,  # noqa: F811
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    """Through the real pipecat pipeline (VAD, Whisper, Piper): the caller's speech is
    transcribed, the bot hands off, the agent accepts, hears the caller and is heard."""
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    import dataclasses

    from playwright.async_api import async_playwright

    from bots.voice_pipeline import VoiceConfig, make_voice_factory
    from tests.e2e.test_call_page import write_mic_file
    from tests.integration.voice.conftest import ANNOUNCEMENT, silence

    holder: dict = {}

    async def factory(session) -> object:  # type: ignore[no-untyped-def]
        return await holder["f"](session)

    app, passwords = build_app(settings, seeded_sqlite, voice_factory=factory)
    responder = HandoffResponder(app.state.bus)
    holder["f"] = make_voice_factory(
        dataclasses.replace(voice_engines, responder=responder),
        bus=app.state.bus,
        clock=app.state.clock,
        recordings_dir=tmp_path / "rec",
        config=VoiceConfig(announcement=ANNOUNCEMENT, greeting=None),
    )
    caller_mic, agent_mic = tmp_path / "caller.wav", tmp_path / "agent.wav"
    speech = say("I would like to talk to a person about a charge.")
    write_mic_file(caller_mic, silence(3.0) + speech + silence(1.5) + speech + silence(1.0))
    write_tone(agent_mic, 660.0)
    async with serving(app) as base, async_playwright() as p:
        agent_browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=chromium_args(agent_mic)
        )
        caller_browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=chromium_args(caller_mic)
        )
        try:
            desk = await open_desktop(agent_browser, base, "agent1", passwords["agent1"])
            caller = await caller_browser.new_page()
            await caller.goto(f"{base}/call")
            await caller.click("#call")
            await desk.locator("#offer").wait_for(state="visible", timeout=60_000)
            assert "person" in responder.heard[0].lower()
            cid = await desk.text_content("#offer-contact")
            await desk.click("#btn-accept")
            await desk.wait_for_function("window.hotlineAgent.loudFrames > 20", timeout=30_000)
            media = app.state.media_bridges.get(cid)
            assert media is not None and media.agent_on and media.caller_frames > 0
            heard_ms = "Number(document.getElementById('transcript').dataset.botAudioMs)"
            before = await caller.evaluate(heard_ms)
            await caller.wait_for_function(
                f"{heard_ms} > {before + 500}", timeout=20_000
            )  # the agent's voice reaches the caller
            await caller.click("#hangup")
            await desk.locator("#wrapup").wait_for(state="visible", timeout=20_000)
        finally:
            await caller_browser.close()
            await agent_browser.close()


async def test_media_and_live_sockets_refuse_strangers(server) -> None:  # type: ignore[no-untyped-def]
    """No browser: raw sockets. Anonymous upgrades are refused; another agent cannot join a
    call; a bad supervisor mode is refused with a reason; the handling agent gets audio."""
    import httpx
    import websockets
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    base, app, passwords = server
    ws_base = base.replace("http", "ws")
    async with httpx.AsyncClient(base_url=base) as http:
        tokens = {}
        for user in ("agent1", "agent2", "supervisor"):
            r = await http.post(
                "/api/v1/auth/login", json={"username": user, "password": passwords[user]}
            )
            tokens[user] = r.json()["access_token"]
        h1 = {"Authorization": f"Bearer {tokens['agent1']}"}
        await http.post("/api/v1/routing/agents/agent1/state", json={"state": "login"}, headers=h1)

        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(f"{ws_base}/api/v1/routing/live"):
                pass
        assert refused.value.response.status_code == 401
        assert b"authentication required" in refused.value.response.body

        async with websockets.connect(f"{ws_base}/voice/browser") as caller:
            cid = json.loads(await caller.recv())["contact_id"]
            await wait_for(lambda: cid in app.state.routing.agents["agent1"].offers, timeout=10)
            r = await http.post(f"/api/v1/routing/agents/agent1/contacts/{cid}/accept", headers=h1)
            assert r.status_code == 200

            async with websockets.connect(
                f"{ws_base}/agent-media/{cid}?token={tokens['agent2']}"
            ) as other:
                with pytest.raises(ConnectionClosed) as closed:
                    await other.recv()
            assert closed.value.rcvd.code == 4403
            assert "agent2 is not on contact" in closed.value.rcvd.reason

            async with websockets.connect(
                f"{ws_base}/supervisor-media/{cid}?mode=shout&token={tokens['supervisor']}"
            ) as sup:
                with pytest.raises(ConnectionClosed) as closed:
                    await sup.recv()
            assert closed.value.rcvd.code == 4400

            async with websockets.connect(
                f"{ws_base}/agent-media/{cid}?token={tokens['agent1']}"
            ) as agent:
                hello = json.loads(await agent.recv())
                assert hello == {"type": "media", "contact_id": cid, "sample_rate_hz": 16_000}
                loud = (8000 * np.sin(np.arange(1600) / 4.0)).astype("<i2").tobytes()
                got = b""
                while len(got) < 3200:
                    await caller.send(loud)
                    got += await asyncio.wait_for(agent.recv(), 10)
                assert energy(got) > 1000


async def test_supervisor_page_gets_threshold_alerts_pushed(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    from routing.live import AlertRules
    from routing.model import ContactRequest

    base, app, passwords = server
    live = app.state.live
    live.rules = AlertRules(longest_wait_s=1.0)  # configurable; 180 s by default
    live.interval_s = 0.2
    mic = tmp_path / "m.wav"
    write_tone(mic, 440.0)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=chromium_args(mic))
        try:
            page = await browser.new_page()
            await page.goto(f"{base}/login?next=/supervisor")
            await page.fill("input[name=username]", "supervisor")
            await page.fill("input[name=password]", passwords["supervisor"])
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/supervisor")
            await page.wait_for_function("window.hotlineSupervisor.snapshots > 0")
            routing = app.state.routing
            await routing.enqueue(ContactRequest("waits", app.state.clock.now(), queue_id="loans"))
            alert = page.locator("#alerts li[data-kind=longest_wait][data-queue=loans]")
            await alert.wait_for(timeout=15_000)
            assert "loans: longest wait" in (await alert.text_content() or "")
            row = page.locator("#queues tr[data-queue=loans] td").nth(1)
            assert await row.text_content() == "1"  # one waiting
        finally:
            await browser.close()
