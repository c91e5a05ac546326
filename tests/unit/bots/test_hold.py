"""Waiting for a person: routing's position/EWT in the queue messages (with the store estimate
as fallback), the voice hold stages (music, position messages, hang-up) with fakes at the
responder boundary, and the conversation status the voice pipeline reads."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    EndWorkerFrame,
    InputDTMFFrame,
    KeypadEntry,
    OutputAudioRawFrame,
    TTSTextFrame,
)

import bots.handoff as handoff
from bots.dialogue_responder import DialogueResponder
from bots.frames import BotSpeechFrame, PlaybackStateFrame
from bots.hold import (
    GOODBYE,
    HOLD_MESSAGE,
    HoldAudioFrame,
    HoldController,
    HoldMusicStage,
    hold_music,
)
from bots.trace import CallTrace
from core.clock import FrozenClock
from tests.pipeline_harness import StageRun
from tests.unit.bots.conftest import Harness


@dataclass
class LivePos:
    position: int
    ewt_s: float


class FakeRouting:
    """``RoutingService.position`` stand-in: raises for a contact it does not know."""

    def __init__(self) -> None:
        self.known: dict[str, LivePos] = {}
        self.asked: list[str] = []

    def position(self, contact_id: str) -> LivePos:
        self.asked.append(contact_id)
        if contact_id not in self.known:
            raise LookupError(f"contact {contact_id} is not waiting")
        return self.known[contact_id]


async def _handed_off(bot: Harness, sender: str = "s1") -> str:
    await bot.say("I want to talk to a person", sender=sender)
    t = await bot.service.tracker(sender)
    assert t is not None and t.status == "handed_off"
    return t.contact_id


# -- EWT plumbing ---------------------------------------------------------------------------
async def test_queue_messages_use_routings_position_and_wait(bot: Harness) -> None:
    routing = FakeRouting()
    bot.service.desk.live_position = routing.position  # type: ignore[union-attr]

    async def known_at_handoff(packet, *, sender_id):  # routing queued it (bus delivered)
        routing.known[packet.contact_id] = LivePos(position=2, ewt_s=185.0)
        return await enqueue(packet, sender_id=sender_id)

    enqueue = bot.service.desk.enqueue  # type: ignore[union-attr]
    bot.service.desk.enqueue = known_at_handoff  # type: ignore[method-assign,union-attr]
    replies = await bot.say("I want to talk to a person")
    assert "number 2 in the queue; the wait is about 3 minutes" in replies[-1]

    t = await bot.service.tracker("s1")
    assert t is not None
    routing.known[t.contact_id] = LivePos(position=1, ewt_s=50.0)  # someone ahead was served
    replies = await bot.say("how long now?")
    assert "position 1, about 1 minute to go" in replies[-1]
    hold = await bot.service.hold_update("s1")  # what the voice pipeline speaks
    assert "position 1" in hold[0].text
    t = await bot.service.tracker("s1")
    assert t is not None
    assert [e["source"] for e in t.events if e["event"] == "queue_position"] == ["routing"] * 3


async def test_no_agent_signed_in_is_said_not_an_infinite_wait(bot: Harness) -> None:
    routing = FakeRouting()
    bot.service.desk.live_position = routing.position  # type: ignore[union-attr]
    cid = await _handed_off(bot)
    routing.known[cid] = LivePos(position=1, ewt_s=math.inf)
    replies = await bot.say("am I still waiting?")
    assert "No colleague is free right now" in replies[-1]
    assert "minutes" not in replies[-1]
    zh = await make_harness_zh(bot, routing)
    assert "暂时没有空闲的同事" in zh[-1]


async def make_harness_zh(bot: Harness, routing: FakeRouting) -> list[str]:
    await bot.say("我要转人工", sender="zh1")
    t = await bot.service.tracker("zh1")
    assert t is not None and t.language == "zh"
    routing.known[t.contact_id] = LivePos(position=3, ewt_s=math.inf)
    return await bot.say("还要等多久", sender="zh1")


async def test_routing_unknown_contact_falls_back_to_the_store_estimate(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handoff, "LIVE_WAIT_S", 0.1)  # routing never hears of it: short wait
    routing = FakeRouting()
    bot.service.desk.live_position = routing.position  # type: ignore[union-attr]
    await _handed_off(bot, "first")
    replies = await bot.say("I want to talk to a person", sender="second")
    assert routing.asked  # routing was asked first
    assert "number 2 in the queue; the wait is about 8 minutes" in replies[-1]  # 2 × 240 s
    t = await bot.service.tracker("second")
    assert t is not None
    assert [e["source"] for e in t.events if e["event"] == "queue_position"] == ["estimate"]


async def test_desk_ignores_nonsense_from_the_position_source(bot: Harness) -> None:
    cid = await _handed_off(bot)
    desk = bot.service.desk
    assert desk is not None
    for bad in (None, LivePos(0, 10.0), LivePos(1, -5.0), LivePos(1, float("nan")), object()):
        desk.live_position = lambda _cid, bad=bad: bad
        pos = await desk.position(cid)
        assert (pos.position, pos.source) == (1, "estimate")
    desk.live_position = lambda _cid: LivePos(4, 600.0)
    pos = await desk.position(cid)
    assert (pos.position, pos.ewt_s, pos.wait_min, pos.source) == (4, 600.0, 10, "routing")


# -- conversation status for the voice pipeline -----------------------------------------
async def test_dialogue_responder_reports_waiting_connected_and_ended(bot: Harness) -> None:
    on_call: set[str] = set()
    r = DialogueResponder(bot.service, agent_connected=lambda cid: cid in on_call)
    assert await r.call_status("c1") == "bot"
    assert "queue" in await r.respond("I want a person", contact_id="c1", language="en")
    assert await r.call_status("c1") == "waiting"
    text, language = await r.hold_message("c1")
    assert text.startswith("You are number 1 in the queue; the expected wait is about 4 minutes")
    assert language == "en"
    on_call.add("c1")
    assert await r.call_status("c1") == "connected"
    assert await r.respond("hello?", contact_id="c1", language="en") == ""  # the bot is quiet
    on_call.clear()
    asked = await r.respond("call me back", contact_id="c1", language="en")
    assert "Which phone number" in asked
    assert await r.call_status("c1") == "bot"  # the callback flow asks for the number
    said = await r.respond("202 555 0143", contact_id="c1", language="en")
    assert "call you back on" in said
    assert await r.call_status("c1") == "ended"
    assert await r.hangup("c1") == "handed_off"
    rows = await bot.service.desk.waiting()  # type: ignore[union-attr]
    assert [(row["status"], row["callback_phone"]) for row in rows] == [
        ("callback", "+12025550143")
    ]


async def test_a_phone_caller_gets_a_callback_on_their_own_number(bot: Harness) -> None:
    r = DialogueResponder(bot.service, ani={"c9": "+12025550143"})
    await r.respond("I want a person", contact_id="c9", language="en")
    said = await r.respond("please call me back", contact_id="c9", language="en")
    assert "call you back on +12025550143" in said
    assert await r.call_status("c9") == "ended"


async def test_hangup_outcomes(bot: Harness) -> None:
    r = DialogueResponder(bot.service)
    assert await r.hangup("never-spoke") == "abandoned"
    await r.respond("What are your opening hours?", contact_id="c2", language="en")
    assert await r.hangup("c2") == "resolved_by_bot"


# -- the voice stages -------------------------------------------------------------------
def test_hold_music_is_a_quiet_seamless_loop() -> None:
    pcm = hold_music()
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    assert x.size == 8 * 16_000
    assert pcm == hold_music()  # deterministic (and cached)
    peak = np.abs(x).max()
    assert 0.1 * 32767 < peak <= 0.16 * 32767 + 1
    assert np.sqrt(np.mean(x**2)) > 300  # audible, not silence
    # seamless: the jump across the loop point is no bigger than a normal sample step
    assert abs(x[0] - x[-1]) <= np.abs(np.diff(x)).max()
    spectrum = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(x.size, 1 / 16_000)
    assert 200 < freqs[int(np.argmax(spectrum))] < 600  # the chord tones, not noise


def _trace() -> CallTrace:
    return CallTrace(contact_id="c1", bus=None, clock=FrozenClock())


async def test_hold_music_plays_only_while_on_and_the_bot_is_silent() -> None:
    trace = _trace()
    stage = HoldMusicStage(trace=trace)
    loop = hold_music()
    async with StageRun(stage, timeout_s=30) as run:
        await run.send([HoldAudioFrame(on=True)])
        out = await run.wait(lambda o: len(o.of(OutputAudioRawFrame)) >= 10)
        assert all(f.audio in loop for f in out.of(OutputAudioRawFrame)[:10])
        await run.send([BotStartedSpeakingFrame()])
        await run.wait(lambda o: bool(o.of(BotStartedSpeakingFrame)))
        n_at_start = len(out.of(OutputAudioRawFrame))
        await run.send([BotStoppedSpeakingFrame()])
        await run.wait(lambda o: bool(o.of(BotStoppedSpeakingFrame)))
        frames = out.down
        start = frames.index(out.of(BotStartedSpeakingFrame)[0])
        stop = frames.index(out.of(BotStoppedSpeakingFrame)[0])
        during = [f for f in frames[start:stop] if isinstance(f, OutputAudioRawFrame)]
        assert len(during) <= 1  # at most the chunk already on its way
        await run.wait(lambda o: len(o.of(OutputAudioRawFrame)) >= n_at_start + 10)  # resumed
        await run.send([HoldAudioFrame(on=False), BotStoppedSpeakingFrame()])
        await run.wait(lambda o: len(o.of(BotStoppedSpeakingFrame)) == 2)
        assert not stage.on
    assert stage.played_s > 0.3
    assert any(r.stage == "hold_audio" for r in trace.records)


async def test_hold_music_waits_for_the_reply_announced_with_it() -> None:
    stage = HoldMusicStage(trace=_trace())
    async with StageRun(stage, timeout_s=30) as run:
        await run.send([HoldAudioFrame(on=True, after_speech=True)])
        await run.send([BotStartedSpeakingFrame(), BotStoppedSpeakingFrame()])
        out = await run.wait(lambda o: len(o.of(OutputAudioRawFrame)) >= 3)
        first_music = out.down.index(out.of(OutputAudioRawFrame)[0])
        assert first_music > out.down.index(out.of(BotStoppedSpeakingFrame)[0])


class FakeConversation:
    def __init__(self) -> None:
        self.status = "bot"
        self.messages = 0
        self.hung_up = False

    async def call_status(self, contact_id: str) -> str:
        return self.status

    async def hold_message(self, contact_id: str) -> tuple[str, str | None]:
        self.messages += 1
        return f"You are number {self.messages} in the queue.", "en"

    async def hangup(self, contact_id: str) -> str | None:
        self.hung_up = True
        return "handed_off"

    async def respond(self, text: str, *, contact_id: str, language: str | None) -> str:
        self.said = text
        self.status = "bot"  # the callback flow asks for the number
        return "We can call you back. Which phone number should we call?"


async def test_controller_holds_announces_and_stops_when_an_agent_joins() -> None:
    conv = FakeConversation()
    trace = _trace()
    ctl = HoldController(conversation=conv, trace=trace, announce_every_s=0.2, poll_s=0.05)
    async with StageRun(ctl, timeout_s=30) as run:
        await run.send([BotSpeechFrame(text="Do you need anything else?")])
        await run.wait(lambda o: bool(o.of(BotSpeechFrame)))
        assert not run.out.of(HoldAudioFrame)  # not handed off: no hold
        conv.status = "waiting"
        await run.send([BotSpeechFrame(text="You are number 1 in the queue.")])
        out = await run.wait(lambda o: bool(o.of(HoldAudioFrame)))
        on = out.of(HoldAudioFrame)[0]
        assert on.on and on.after_speech
        out = await run.wait(lambda o: any(f.kind == HOLD_MESSAGE for f in o.of(BotSpeechFrame)))
        message = next(f for f in out.of(BotSpeechFrame) if f.kind == HOLD_MESSAGE)
        assert message.text.startswith("You are number") and message.language == "en"
        assert any(f.text == message.text for f in out.of(TTSTextFrame))
        conv.status = "connected"
        out = await run.wait(lambda o: len(o.of(HoldAudioFrame)) == 2)
        assert not out.of(HoldAudioFrame)[1].on
        assert not ctl.holding
    assert any(r.stage == "hold" and "until connected" in (r.detail or "") for r in trace.records)


async def test_controller_hangs_up_after_the_goodbye_has_played() -> None:
    conv = FakeConversation()
    ctl = HoldController(conversation=conv, trace=_trace(), hangup_grace_s=0.0, poll_s=0.05)
    async with StageRun(ctl, timeout_s=30) as run:
        conv.status = "waiting"
        await run.send([BotSpeechFrame(text="You are number 1 in the queue.")])
        await run.wait(lambda o: bool(o.of(HoldAudioFrame)))
        conv.status = "ended"
        await run.send([BotSpeechFrame(text="A colleague will call you back. Goodbye.")])
        out = await run.wait(lambda o: any(f.kind == GOODBYE for f in o.of(BotSpeechFrame)))
        assert [f.on for f in out.of(HoldAudioFrame)] == [True, False]
        assert not out.of(EndWorkerFrame, "up")  # not while the goodbye is still playing
        await run.send([PlaybackStateFrame(speaking=True, kind=GOODBYE)])
        await run.send([PlaybackStateFrame(speaking=False, kind=GOODBYE)])
        await run.wait(lambda o: bool(o.of(EndWorkerFrame, "up")))
    assert ctl.ended_by_bot


async def test_the_callback_key_while_holding_asks_for_the_number() -> None:
    conv = FakeConversation()
    ctl = HoldController(conversation=conv, trace=_trace(), poll_s=0.05)
    async with StageRun(ctl, timeout_s=30) as run:
        await run.send([InputDTMFFrame(button=KeypadEntry.ONE)])  # not holding: ignored
        conv.status = "waiting"
        await run.send([BotSpeechFrame(text="You are number 1 in the queue.")])
        await run.wait(lambda o: bool(o.of(HoldAudioFrame)))
        assert not hasattr(conv, "said")
        await run.send([InputDTMFFrame(button=KeypadEntry.ONE)])
        out = await run.wait(lambda o: len(o.of(HoldAudioFrame)) == 2)
    assert conv.said == "/request_callback"
    assert out.of(BotSpeechFrame)[-1].text.endswith("Which phone number should we call?")
    assert [f.on for f in out.of(HoldAudioFrame)] == [True, False]


async def test_a_keypad_callback_keeps_the_callers_language(bot: Harness) -> None:
    r = DialogueResponder(bot.service)
    await r.respond("我要转人工", contact_id="z1", language=None)
    said = await r.respond("/request_callback", contact_id="z1", language=None)
    assert "回拨哪个号码" in said


async def test_the_voice_factory_hands_the_callers_number_to_the_dialogue(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bots.voice_pipeline as vp

    responder = DialogueResponder(bot.service)
    seen: list[dict[str, str]] = []

    async def fake_run(call: object) -> object:
        seen.append(dict(responder.ani))
        return call

    monkeypatch.setattr(vp, "build_voice_call", lambda **kw: kw)
    monkeypatch.setattr(vp, "run_voice_call", fake_run)

    class Engines:
        def __init__(self) -> None:
            self.responder = responder

        def supports(self, language: object) -> bool:
            return True

        def for_language(self, language: object) -> None:
            return None

    class Session:
        def __init__(self) -> None:
            self.contact_id, self.input, self.output, self.language = "call-7", None, None, "en"
            self.metadata = {"phone": "+12025550143"}

    factory = vp.make_voice_factory(Engines(), bus=None, clock=FrozenClock(), recordings_dir=None)  # type: ignore[arg-type]
    await factory(Session())
    assert seen == [{"call-7": "+12025550143"}]
    assert responder.ani == {}  # forgotten when the call ends
