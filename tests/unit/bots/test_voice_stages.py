"""Stage tests with fakes at the engine boundary (responder, TTS) and frames in/out."""

from __future__ import annotations

from collections.abc import Iterator

from pipecat.frames.frames import InterruptionFrame, OutputAudioRawFrame, TTSTextFrame

from bots.frames import (
    AnnouncementPlayedFrame,
    BotAudioFrame,
    BotSpeechFrame,
    CallerTextFrame,
    PlaybackResumeFrame,
    PlaybackStateFrame,
)
from bots.playback import CHUNK_BYTES, PlaybackStage
from bots.reply_stage import BackchannelGate, ResponderStage
from bots.speech_stage import PhraseCache, SpeechStage
from bots.trace import CallTrace
from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.events import BotReply, StageTimed
from tests.pipeline_harness import StageRun, run_stage
from tts.base import AudioChunk, Capabilities


class EchoResponder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    async def respond(self, text: str, *, contact_id: str, language: str | None) -> str:
        self.calls.append((text, contact_id, language))
        return f"you said {text}"


class ToneTTS:
    """A fake voice: 0.1 s of a constant per sentence at 22.05 kHz."""

    capabilities = Capabilities(languages=("en",), sample_rate_hz=22_050)

    def __init__(self) -> None:
        self.calls = 0

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        self.calls += 1
        for _ in text.split("."):
            yield AudioChunk(b"\x10\x00" * 2205, 22_050)


def _trace(bus: MemoryBus | None = None) -> CallTrace:
    return CallTrace(contact_id="c1", bus=bus, clock=FrozenClock())


async def test_responder_stage_publishes_and_speaks() -> None:
    bus = MemoryBus()
    await bus.start()
    seen: list = []

    async def keep(e) -> None:
        seen.append(e)

    bus.subscribe("t", keep)
    responder = EchoResponder()
    stage = ResponderStage(responder=responder, trace=_trace(bus), language="en")
    out = await run_stage(
        stage,
        [CallerTextFrame(turn=1, text="hello", language="en", speech_end_mono=1.0)],
        until=lambda o: bool(o.of(BotSpeechFrame)),
    )
    speech = out.of(BotSpeechFrame)[0]
    assert (speech.text, speech.turn, speech.speech_end_mono) == ("you said hello", 1, 1.0)
    assert out.of(TTSTextFrame)[0].text == "you said hello"
    assert responder.calls == [("hello", "c1", "en")]
    await bus.close()
    assert any(isinstance(e, BotReply) and e.text == "you said hello" for e in seen)
    assert any(isinstance(e, StageTimed) and e.stage == "dialogue" for e in seen)


async def test_backchannel_over_the_bot_resumes_playback() -> None:
    out = await run_stage(
        BackchannelGate(),
        [CallerTextFrame(turn=2, text="Uh-huh.", overlapped=True)],
        until=lambda o: bool(o.of(PlaybackResumeFrame)),
    )
    assert not out.of(CallerTextFrame) and not out.of(InterruptionFrame)


async def test_real_words_over_the_bot_interrupt_and_go_on() -> None:
    out = await run_stage(
        BackchannelGate(),
        [CallerTextFrame(turn=2, text="Stop, I lost my card", overlapped=True)],
        until=lambda o: bool(o.of(CallerTextFrame)),
    )
    assert out.of(InterruptionFrame) and out.of(InterruptionFrame, "up")


async def test_speech_stage_streams_resampled_chunks_and_uses_the_cache() -> None:
    tts = ToneTTS()
    cache = PhraseCache(tts)
    assert cache.warm([("Cached phrase.", "en"), ("你好", "zh")]) == 1  # no zh voice: skipped
    calls_after_warm = tts.calls
    stage = SpeechStage(tts=tts, trace=_trace(), cache=cache)
    out = await run_stage(
        stage,
        [BotSpeechFrame(text="One. Two.", turn=1), BotSpeechFrame(text="Cached phrase.", turn=2)],
        until=lambda o: sum(f.last for f in o.of(BotAudioFrame)) == 2,
    )
    audio = [f for f in out.of(BotAudioFrame) if not f.last]
    assert all(f.sample_rate_hz == 16_000 for f in audio)
    turn1 = sum(len(f.pcm16) for f in audio if f.turn == 1)
    assert abs(turn1 / 2 - 3 * 1600) <= 64  # 3 pieces × 0.1 s at 16 kHz, resampled by soxr
    assert tts.calls == calls_after_warm + 1  # the cached phrase was not synthesized again


async def test_playback_paces_reports_and_stops_on_interruption() -> None:
    stage = PlaybackStage(trace=_trace())
    pcm = b"\x01\x00" * (CHUNK_BYTES // 2) * 10
    out = await run_stage(
        stage,
        [
            BotAudioFrame(pcm16=pcm, kind="announcement"),
            BotAudioFrame(kind="announcement", last=True),
        ],
        until=lambda o: bool(o.of(AnnouncementPlayedFrame)),
    )
    assert len(out.of(OutputAudioRawFrame)) == 10
    states = [f.speaking for f in out.of(PlaybackStateFrame, "up")]
    assert states == [True, False]
    assert out.of(AnnouncementPlayedFrame, "up")

    stage = PlaybackStage(trace=_trace())
    long = b"\x01\x00" * (CHUNK_BYTES // 2) * 500  # 10 s
    async with StageRun(stage) as run:
        await run.send([BotAudioFrame(pcm16=long, turn=1)])
        await run.wait(lambda o: len(o.of(OutputAudioRawFrame)) >= 3)
        await run.send([InterruptionFrame()])
        out = await run.wait(lambda o: len(o.of(PlaybackStateFrame, "up")) == 2)
    assert [f.speaking for f in out.of(PlaybackStateFrame, "up")] == [True, False]
    assert len(out.of(OutputAudioRawFrame)) < 500
    assert stage.cut_count == 1
