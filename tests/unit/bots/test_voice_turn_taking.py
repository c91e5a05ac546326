"""Turn-taking with a scripted VAD and smart-turn: the early judgement inside the VAD stop
window is reused when the caller stays quiet and dropped when they go on."""

from __future__ import annotations

import asyncio

from pipecat.audio.vad.vad_analyzer import VADState
from pipecat.frames.frames import InputAudioRawFrame

from bots.frames import SpeculativeTextFrame, SpeechPausedFrame, SpeechResumedFrame, TurnEndedFrame
from bots.trace import CallTrace
from bots.turn_taking import TurnConfig, TurnTaker
from core.clock import FrozenClock
from tests.pipeline_harness import StageRun

FRAME = b"\x01\x00" * 320  # 20 ms at 16 kHz


class ScriptedVad:
    """Returns the next scripted state per audio frame (then QUIET)."""

    def __init__(self) -> None:
        self.states: list[VADState] = []

    async def analyze_audio(self, pcm: bytes) -> VADState:
        return self.states.pop(0) if self.states else VADState.QUIET

    async def cleanup(self) -> None:
        pass


class CompleteTurn:
    def __init__(self) -> None:
        self.calls = 0

    def predict(self, audio) -> float:
        self.calls += 1
        return 0.9


def _taker(config: TurnConfig) -> tuple[TurnTaker, ScriptedVad, CompleteTurn]:
    smart = CompleteTurn()
    taker = TurnTaker(
        smart_turn=smart,  # type: ignore[arg-type]
        trace=CallTrace(contact_id="c1", bus=None, clock=FrozenClock()),
        config=config,
    )
    vad = ScriptedVad()
    taker.vad = vad  # type: ignore[assignment]
    return taker, vad, smart


def _audio(n: int) -> list[InputAudioRawFrame]:
    return [InputAudioRawFrame(audio=FRAME, sample_rate=16_000, num_channels=1) for _ in range(n)]


async def _answer_pause(run: StageRun, k: int, text: str) -> SpeechPausedFrame:
    out = await run.wait(lambda o: len(o.of(SpeechPausedFrame)) >= k)
    paused = out.of(SpeechPausedFrame)[k - 1]
    await run.send([SpeculativeTextFrame(turn=paused.turn, n_bytes=len(paused.pcm16), text=text)])
    return paused


async def _until(cond, timeout_s: float = 10.0) -> None:
    async def loop() -> None:
        while not cond():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(loop(), timeout_s)


async def test_quiet_caller_turn_ends_on_the_early_judgement() -> None:
    taker, vad, smart = _taker(TurnConfig(vad_stop_s=0.2, early_judge_s=0.1))
    # 0.4 s speech, then 0.2 s of VAD "stopping" (the stop window), then quiet
    vad.states = [VADState.SPEAKING] * 20 + [VADState.STOPPING] * 10 + [VADState.QUIET] * 20
    async with StageRun(taker) as run:
        await run.send(_audio(25))  # speech + 0.1 s of the stop window → early judgement
        paused = await _answer_pause(run, 1, "I lost my card.")
        await run.send(_audio(25))
        out = await run.wait(lambda o: bool(o.of(TurnEndedFrame)))
    ended = out.of(TurnEndedFrame)[0]
    assert ended.reason == "smart_turn" and ended.turn == 1
    assert len(out.of(SpeechPausedFrame)) == 1  # judged once, at 0.1 s, not again at the stop
    assert ended.pcm16 == paused.pcm16  # the STT stage reuses its transcript of this audio
    assert smart.calls == 1


async def test_speech_after_the_early_judgement_drops_it() -> None:
    taker, vad, _ = _taker(TurnConfig(vad_stop_s=0.2, early_judge_s=0.1))
    vad.states = (
        [VADState.SPEAKING] * 20
        + [VADState.STOPPING] * 7  # judged early (0.1 s) …
        + [VADState.SPEAKING] * 10  # … but the caller goes on
        + [VADState.STOPPING] * 10
        + [VADState.QUIET] * 20
    )
    async with StageRun(taker) as run:
        await run.send(_audio(27))
        first = await _answer_pause(run, 1, "My card number is")
        await run.send(_audio(15))
        await run.wait(lambda o: bool(o.of(SpeechResumedFrame)))
        second = await _answer_pause(run, 2, "My card number is 4532 and it is lost.")
        await run.send(_audio(60))
        out = await run.wait(lambda o: bool(o.of(TurnEndedFrame)))
    ended = out.of(TurnEndedFrame)[0]
    assert len(second.pcm16) > len(first.pcm16)
    assert ended.pcm16 == second.pcm16 and ended.turn == 1


async def test_without_early_judging_the_pause_is_judged_at_the_vad_stop() -> None:
    taker, vad, _ = _taker(TurnConfig(vad_stop_s=0.2, early_judge_s=0.0))
    vad.states = [VADState.SPEAKING] * 20 + [VADState.STOPPING] * 10 + [VADState.QUIET] * 20
    async with StageRun(taker) as run:
        await run.send(_audio(30))
        assert not run.out.of(SpeechPausedFrame)  # nothing judged inside the stop window
        await run.send(_audio(1))  # the VAD stop
        paused = await _answer_pause(run, 1, "What are your opening hours?")
        await run.send(_audio(19))
        out = await run.wait(lambda o: bool(o.of(TurnEndedFrame)))
    assert out.of(TurnEndedFrame)[0].pcm16 == paused.pcm16


async def test_unfinished_words_wait_for_a_longer_silence() -> None:
    taker, vad, _ = _taker(
        TurnConfig(vad_stop_s=0.2, early_judge_s=0.1, unfinished_pause_s=0.6, max_pause_s=2.0)
    )
    vad.states = [VADState.SPEAKING] * 20 + [VADState.STOPPING] * 10 + [VADState.QUIET] * 100
    async with StageRun(taker) as run:
        await run.send(_audio(25))
        await _answer_pause(run, 1, "my card number is 4532,")
        await _until(lambda: taker._ready is not None)  # the verdict is in: complete words…
        await run.send(_audio(15))  # 0.3 s of silence in all: not yet
        await run.send(_audio(1))
        assert not run.out.of(TurnEndedFrame)
        await run.send(_audio(20))  # 0.7 s
        out = await run.wait(lambda o: bool(o.of(TurnEndedFrame)))
    assert out.of(TurnEndedFrame)[0].reason == "smart_turn+unfinished_text"
