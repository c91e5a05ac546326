"""Turn-taking: Silero VAD + smart-turn decide when the caller's turn ends, and arbitrate barge-in.

Why this shape (issue 4):
- The VAD stop is short (0.2 s) so the turn can end early; smart-turn v3 then judges whether the
  words so far make a complete turn. Mid-sentence pauses (a card number read in groups) are
  "incomplete", so the turn waits up to ``max_pause_s`` more instead of being cut.
- The judgement starts *before* the VAD stop: once the caller has been quiet for
  ``early_judge_s`` (0.1 s of the 0.2 s stop), the audio so far is announced
  (``SpeechPausedFrame``) so STT transcribes it while smart-turn judges it. When the VAD stop
  follows with no new speech, the verdict is (nearly) ready and the turn ends at once; if the
  caller goes on, both are dropped. Whisper and smart-turn thus run inside the stop window
  instead of after it.
- Barge-in: when the caller starts talking over the bot, playback is *paused* at once (VAD start
  ≈ 0.15 s after onset + one 20 ms chunk in flight, so well under the 300 ms budget). If the
  overlap lasts longer than a back-channel can (``backchannel_max_s``) the bot is interrupted;
  a short overlap is transcribed and the ``BackchannelGate`` resumes playback if it was
  "uh-huh"/"嗯"/"ok", or interrupts otherwise.
- Time is counted in audio (bytes received), never read from the wall clock, so tests can
  stream faster than real time where the transport allows.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bots.end_of_turn import SmartTurnModel
from bots.frames import (
    AnnouncementPlayedFrame,
    PlaybackPauseFrame,
    PlaybackStateFrame,
    SpeculativeTextFrame,
    SpeechPausedFrame,
    SpeechResumedFrame,
    TurnEndedFrame,
)
from bots.trace import CallTrace
from bots.turn_text import looks_unfinished

PIPELINE_RATE_HZ = 16_000
_BYTES_PER_S = PIPELINE_RATE_HZ * 2


@dataclass(frozen=True)
class TurnConfig:
    """Turn-taking knobs; defaults were tuned with bench/voice_latency.py."""

    vad_confidence: float = 0.6
    vad_start_s: float = 0.15
    vad_stop_s: float = 0.2
    vad_min_volume: float = 0.4
    smart_turn_threshold: float = 0.5
    max_pause_s: float = 1.2  # silence after which the turn ends whatever smart-turn says
    unfinished_pause_s: float = 0.75  # silence needed when the words sound unfinished
    text_wait_s: float = 0.6  # how long a "complete" verdict waits for the transcript
    max_turn_s: float = 28.0  # Whisper reads ≤ 30 s; a monologue is cut into turns
    pre_speech_s: float = 0.3
    backchannel_max_s: float = 0.8
    early_judge_s: float = 0.1  # quiet this long → start STT + smart-turn (0 = at the VAD stop)


class TurnTaker(FrameProcessor):
    """Consumes caller audio (16 kHz PCM16), emits turn frames and barge-in control."""

    def __init__(
        self,
        *,
        smart_turn: SmartTurnModel,
        trace: CallTrace,
        config: TurnConfig | None = None,
        listening: bool = True,
        **kw: object,
    ) -> None:
        super().__init__(**kw)
        self.cfg = config or TurnConfig()
        self.smart_turn = smart_turn
        self.trace = trace
        self.listening = listening
        self.vad = SileroVADAnalyzer(
            params=VADParams(
                confidence=self.cfg.vad_confidence,
                start_secs=self.cfg.vad_start_s,
                stop_secs=self.cfg.vad_stop_s,
                min_volume=self.cfg.vad_min_volume,
            )
        )
        self.vad.set_sample_rate(PIPELINE_RATE_HZ)
        self.turn = 0
        self.bot_speaking = False
        self.overlapping = False  # this turn started while the bot was audible
        self._in_speech = False
        self._paused = False
        self._pause_bytes = 0
        self._paused_len = 0
        self._turn_audio = bytearray()
        self._pre: deque[bytes] = deque()
        self._pre_bytes = 0
        self._speech_bytes = 0
        self._speech_end_mono = 0.0
        self._verdict_task: asyncio.Task | None = None
        self._guess: tuple[int, int, str] | None = None  # (turn, n_bytes, text) from STT
        self._guess_ready = asyncio.Event()
        self._end_after_bytes: int | None = None  # verdict given: end once this much silence
        self._quiet_bytes = 0  # trailing non-speech inside the current speech (VAD STOPPING)
        self._judged_len: int | None = None  # turn audio length STT + smart-turn were given
        self._judged_end_mono = 0.0
        self._ready: tuple[int, int, str | None] | None = None  # (turn, n_bytes, text): complete

    # -- frame handling -------------------------------------------------------------------
    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, PlaybackStateFrame):
            self.bot_speaking = frame.speaking
        elif isinstance(frame, AnnouncementPlayedFrame):
            self.listening = True
        elif isinstance(frame, SpeculativeTextFrame):
            self._guess = (frame.turn, frame.n_bytes, frame.text)
            self._guess_ready.set()
        elif isinstance(frame, EndFrame | CancelFrame):
            await self._cancel_verdict()
        await self.push_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            await self._on_audio(frame.audio)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._cancel_verdict()
        await self.vad.cleanup()

    # -- audio ---------------------------------------------------------------------------
    async def _on_audio(self, pcm: bytes) -> None:
        if not self.listening:
            return
        state = await self.vad.analyze_audio(pcm)
        speaking = state in (VADState.SPEAKING, VADState.STOPPING)
        if self._in_speech or self._paused:
            self._turn_audio += pcm
        else:
            self._remember(pcm)
        if speaking and not self._in_speech:
            await self._speech_started()
        elif self._in_speech and state == VADState.QUIET:
            await self._speech_stopped()
        elif self._in_speech:
            self._speech_bytes += len(pcm)
            await self._track_quiet(state, len(pcm))
            await self._check_overlap_and_length()
        elif self._paused:
            self._pause_bytes += len(pcm)
            if self._pause_bytes >= self.cfg.max_pause_s * _BYTES_PER_S:
                await self._end_turn("max_pause")
            elif self._end_after_bytes is not None and self._pause_bytes >= self._end_after_bytes:
                await self._end_turn("smart_turn+unfinished_text")

    def _remember(self, pcm: bytes) -> None:
        self._pre.append(pcm)
        self._pre_bytes += len(pcm)
        keep = int((self.cfg.pre_speech_s + self.cfg.vad_start_s) * _BYTES_PER_S)
        while self._pre and self._pre_bytes - len(self._pre[0]) >= keep:
            self._pre_bytes -= len(self._pre.popleft())

    async def _track_quiet(self, state: VADState, n: int) -> None:
        """Start judging early in the VAD's stop window; drop that judgement if speech goes on."""
        if state == VADState.STOPPING:
            self._quiet_bytes += n
            early = self.cfg.early_judge_s * _BYTES_PER_S
            if self._judged_len is None and early and self._quiet_bytes >= early:
                self._judged_end_mono = time.monotonic() - self._quiet_bytes / _BYTES_PER_S
                await self._start_judging(bytes(self._turn_audio), self._judged_end_mono)
        elif self._quiet_bytes:
            self._quiet_bytes = 0
            if self._judged_len is not None:
                await self._drop_judgement()

    async def _start_judging(self, audio: bytes, speech_end_mono: float) -> None:
        self._judged_len = len(audio)
        self._ready = None
        self._guess_ready.clear()
        await self.push_frame(
            SpeechPausedFrame(turn=self.turn, pcm16=audio, speech_end_mono=speech_end_mono)
        )
        self._verdict_task = self.create_task(self._judge(self.turn, audio))

    async def _drop_judgement(self) -> None:
        self._judged_len = None
        self._ready = None
        await self._cancel_verdict()
        await self.push_frame(SpeechResumedFrame(turn=self.turn))

    async def _speech_started(self) -> None:
        self._in_speech = True
        self._quiet_bytes = 0
        if self._paused:  # the caller only paused mid-turn: same turn goes on
            self._paused = False
            self._end_after_bytes = None
            await self._drop_judgement()
            return
        self._judged_len = None
        self._ready = None
        self.turn += 1
        self._turn_audio = bytearray(b"".join(self._pre))
        self._pre.clear()
        self._pre_bytes = 0
        self._speech_bytes = int(self.cfg.vad_start_s * _BYTES_PER_S)
        self.overlapping = self.bot_speaking
        await self.push_frame(UserStartedSpeakingFrame())
        if self.overlapping:
            await self.push_frame(PlaybackPauseFrame())

    async def _check_overlap_and_length(self) -> None:
        if self.overlapping and self._speech_bytes >= self.cfg.backchannel_max_s * _BYTES_PER_S:
            self.overlapping = False  # too long for "uh-huh": a real barge-in
            await self.broadcast_interruption()
        if len(self._turn_audio) >= self.cfg.max_turn_s * _BYTES_PER_S:
            self._in_speech = False
            self._speech_end_mono = time.monotonic()
            await self._end_turn("max_turn")

    async def _speech_stopped(self) -> None:
        self._in_speech = False
        self._paused = True
        self._pause_bytes = int(self.cfg.vad_stop_s * _BYTES_PER_S)
        self._end_after_bytes = None
        self._quiet_bytes = 0
        await self.push_frame(UserStoppedSpeakingFrame())
        if self._judged_len is not None:  # judged early on this very audio: no second run
            self._paused_len = self._judged_len
            self._speech_end_mono = self._judged_end_mono
            self._judged_len = None
            await self._apply_verdict()
            return
        # the caller stopped talking vad_stop_s ago (audio time ≈ wall time on a live call)
        self._speech_end_mono = time.monotonic() - self.cfg.vad_stop_s
        audio = bytes(self._turn_audio)
        self._paused_len = len(audio)
        await self._start_judging(audio, self._speech_end_mono)
        self._judged_len = None

    def _current(self, turn: int, n_bytes: int) -> bool:
        """Is the judged audio still the whole turn so far (no speech since)?"""
        if self.turn != turn:
            return False
        if self._paused:
            return self._paused_len == n_bytes
        return self._judged_len == n_bytes

    async def _judge(self, turn: int, audio: bytes) -> None:
        t0 = time.monotonic()
        f32 = np.frombuffer(audio, dtype="<i2").astype(np.float32) / 32768.0
        p = await asyncio.to_thread(self.smart_turn.predict, f32)
        self.trace.stage("smart_turn", started_mono=t0, turn=turn, detail=f"p={p:.2f}")
        if not (self._current(turn, len(audio)) and p >= self.cfg.smart_turn_threshold):
            return  # incomplete: the turn ends after max_pause_s unless the caller goes on
        text = await self._speculative_text(turn, len(audio))
        if not self._current(turn, len(audio)):
            return
        self._verdict_task = None
        self._ready = (turn, len(audio), text)
        await self._apply_verdict()

    async def _apply_verdict(self) -> None:
        """End the turn on a "complete" verdict once the VAD has stopped (or wait longer)."""
        if not (self._paused and self._ready and self._current(*self._ready[:2])):
            return
        text = self._ready[2]
        if text is None or looks_unfinished(text):
            # e.g. "my card number is 4532,", or no transcript yet (an overloaded box): wait
            # for a longer silence (ends in _on_audio) rather than risk cutting the caller
            self._end_after_bytes = int(self.cfg.unfinished_pause_s * _BYTES_PER_S)
            if self._pause_bytes < self._end_after_bytes:
                return
        await self._end_turn("smart_turn")

    async def _speculative_text(self, turn: int, n_bytes: int) -> str | None:
        """The STT stage's transcript of exactly this audio, if it comes soon enough."""
        try:
            async with asyncio.timeout(self.cfg.text_wait_s):
                while not (self._guess and self._guess[:2] == (turn, n_bytes)):
                    self._guess_ready.clear()
                    await self._guess_ready.wait()
        except TimeoutError:
            return None
        return self._guess[2] if self._guess else None

    async def _cancel_verdict(self) -> None:
        task, self._verdict_task = self._verdict_task, None
        if task is not None and task is not asyncio.current_task():
            await self.cancel_task(task)

    async def _end_turn(self, reason: str) -> None:
        await self._cancel_verdict()
        self._ready = None
        self._judged_len = None
        if self._paused:  # the silence after the pause is not part of the turn
            del self._turn_audio[self._paused_len :]
        self._paused = False
        self._end_after_bytes = None
        audio = bytes(self._turn_audio)
        self._turn_audio = bytearray()
        self.trace.stage(
            "turn_wait", started_mono=self._speech_end_mono, turn=self.turn, detail=reason
        )
        await self.push_frame(
            TurnEndedFrame(
                turn=self.turn,
                pcm16=audio,
                speech_end_mono=self._speech_end_mono,
                reason=reason,
                overlapped=self.overlapping,
            )
        )
        self.overlapping = False
