"""Waiting for a person on a voice call: hold music, position/wait messages, hang-up.

Two pipecat processors, both in ``bots.voice_pipeline``:

``HoldController`` (after the responder stage) asks the ``ConversationAware`` responder where
the conversation stands after every bot reply and once a second while the caller waits:

* ``waiting`` (handed off, in the queue) → hold audio on; every ``announce_every_s`` of bot
  silence it speaks the position/wait message ("You are number 2 in the queue; the expected
  wait is about 3 minutes") in the caller's language, with routing's numbers when routing
  knows the contact. The caller can still talk: "call me back" starts the callback flow, and
  so does the callback key (``1``) on a transport that delivers keypad presses
  (pipecat ``InputDTMFFrame``).
* ``connected`` (an agent joined the call's media) or ``bot`` (handed back, or the caller
  chose a callback) → hold audio off, no more messages.
* ``ended`` (callback booked, goodbye said) → the last reply is spoken as a ``goodbye`` and
  the call hangs up once it has played (``EndWorkerFrame``: queued frames flush first).

``HoldMusicStage`` (between playback and the transport) plays the hold loop in real time
while hold is on and the bot is not speaking; it never tells turn-taking that the bot is
audible, so the caller speaking over the music is an ordinary turn, not a barge-in.

The music is synthesized here with numpy (no audio files, no licence): a slow four-chord
arpeggio of soft bell-like tones, 8 s, seamless when looped, peaking near -16 dBFS.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    EndWorkerFrame,
    Frame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    SystemFrame,
    TTSTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bots.frames import BotSpeechFrame, PlaybackStateFrame
from bots.responder import CallStatus, ConversationAware
from bots.trace import CallTrace
from core.events import BotReply

RATE_HZ = 16_000
FRAME_S = 0.02
FRAME_SAMPLES = int(RATE_HZ * FRAME_S)
GOODBYE = "goodbye"  # BotSpeechFrame kind of the last words before the bot hangs up
HOLD_MESSAGE = "hold"  # BotSpeechFrame kind of a position/wait message
CALLBACK_KEY = "1"  # keypad key that asks for a callback while holding
CALLBACK_PAYLOAD = "/request_callback"  # what the key says to the dialogue (as the chat button)

# Cmaj7 – Am7 – Fmaj7 – G7, four notes each, one every 0.5 s (MIDI note numbers).
_PROGRESSION = (
    (60, 64, 67, 71),
    (57, 60, 64, 67),
    (53, 57, 60, 64),
    (55, 59, 62, 65),
)
NOTE_S = 0.5


def _midi_hz(note: int) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


@lru_cache(maxsize=4)
def hold_music(rate_hz: int = RATE_HZ, *, peak: float = 0.16) -> bytes:
    """The hold loop as PCM16 mono at ``rate_hz``: 8 s, loops without a click."""
    notes = [n for chord in _PROGRESSION for n in chord]
    n_loop = int(len(notes) * NOTE_S * rate_hz)
    out = np.zeros(n_loop, dtype=np.float64)
    tail_s = 1.6  # each note rings on under the next ones
    t = np.arange(int(tail_s * rate_hz)) / rate_hz
    envelope = np.minimum(t / 0.015, 1.0) * np.exp(-t * 3.2)  # 15 ms attack, bell decay
    for i, note in enumerate(notes):
        f = _midi_hz(note)
        tone = (
            np.sin(2 * math.pi * f * t)
            + 0.35 * np.sin(2 * math.pi * 2 * f * t)
            + 0.12 * np.sin(2 * math.pi * 3 * f * t)
        ) * envelope
        start = int(i * NOTE_S * rate_hz)
        head = min(tone.size, n_loop - start)
        out[start : start + head] += tone[:head]
        out[: tone.size - head] += tone[head:]  # the tail wraps: a seamless loop
    # a quiet sustained root under each chord, faded in and out over each chord's 2 s
    chord_n = int(4 * NOTE_S * rate_hz)
    tc = np.arange(chord_n) / rate_hz
    fade = np.sin(math.pi * np.arange(chord_n) / chord_n) ** 2
    for j, chord in enumerate(_PROGRESSION):
        root = _midi_hz(chord[0] - 12)
        out[j * chord_n : (j + 1) * chord_n] += 0.5 * fade * np.sin(2 * math.pi * root * tc)
    out *= peak * 32767.0 / float(np.max(np.abs(out)))
    return out.astype("<i2").tobytes()


@dataclass
class HoldAudioFrame(SystemFrame):
    """Hold audio on or off. ``after_speech``: a reply is on its way; start once it played."""

    on: bool = False
    after_speech: bool = False


class HoldMusicStage(FrameProcessor):
    """Plays the hold loop, paced in real time, while hold is on and the bot is silent."""

    def __init__(
        self,
        *,
        trace: CallTrace,
        music: bytes | None = None,
        lead_s: float = 0.04,
        speech_wait_s: float = 15.0,
        **kw: object,
    ) -> None:
        super().__init__(**kw)
        self.trace = trace
        self.music = music if music is not None else hold_music()
        self.lead_s = lead_s
        self.speech_wait_s = speech_wait_s  # give up waiting for an announced reply
        self.on = False
        self.played_s = 0.0
        self._bot_speaking = False
        self._await_speech = False  # a reply is coming: wait for it to start and stop
        self._await_since = 0.0
        self._pos = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._on_since: float | None = None
        self._played_at_on = 0.0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, HoldAudioFrame):
            self._switch(frame.on, after_speech=frame.after_speech)
            return
        if isinstance(frame, BotStartedSpeakingFrame):
            self._bot_speaking = True
            self._await_speech = False
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._bot_speaking = False
            self._wake.set()
        elif isinstance(frame, EndFrame | CancelFrame):
            self._switch(False)
            await self._stop()
        await self.push_frame(frame, direction)

    async def cleanup(self) -> None:
        await super().cleanup()
        self._switch(False)
        await self._stop()

    def _switch(self, on: bool, *, after_speech: bool = False) -> None:
        if on and not self.on:
            self.on = True
            self._on_since = time.monotonic()
            self._played_at_on = self.played_s
            self._await_speech = after_speech and not self._bot_speaking
            self._await_since = time.monotonic()
            if self._task is None:
                self._task = self.create_task(self._play())
        elif not on and self.on:
            self.on = False
            if self._on_since is not None:
                played = self.played_s - self._played_at_on
                self.trace.stage(
                    "hold_audio", started_mono=self._on_since, detail=f"played {played:.1f} s"
                )
            self._on_since = None
        self._wake.set()

    def _audible(self) -> bool:
        if not self.on or self._bot_speaking:
            return False
        if self._await_speech and time.monotonic() - self._await_since < self.speech_wait_s:
            return False
        self._await_speech = False
        return True

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await self.cancel_task(task)

    async def _play(self) -> None:
        step = FRAME_SAMPLES * 2
        deadline = time.monotonic()
        while True:
            while not self._audible():
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    # wake on a switch or the bot going quiet; poll for the reply timeout
                    await asyncio.wait_for(self._wake.wait(), 0.5)
                deadline = max(deadline, time.monotonic())
            chunk = self.music[self._pos : self._pos + step]
            self._pos = (self._pos + step) % len(self.music)
            if len(chunk) < step:
                chunk += self.music[: step - len(chunk)]
            await self.push_frame(
                OutputAudioRawFrame(audio=chunk, sample_rate=RATE_HZ, num_channels=1)
            )
            self.played_s += FRAME_S
            deadline = max(deadline, time.monotonic()) + FRAME_S
            delay = deadline - self.lead_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)


class HoldController(FrameProcessor):
    """Follows the conversation's status: hold on/off, position messages, hang-up."""

    def __init__(
        self,
        *,
        conversation: ConversationAware,
        trace: CallTrace,
        announce_every_s: float = 30.0,
        poll_s: float = 1.0,
        hangup_grace_s: float = 0.5,
        goodbye_timeout_s: float = 90.0,
        **kw: object,
    ) -> None:
        super().__init__(**kw)
        self.conversation = conversation
        self.trace = trace
        self.announce_every_s = announce_every_s
        self.poll_s = poll_s
        self.hangup_grace_s = hangup_grace_s
        self.goodbye_timeout_s = goodbye_timeout_s
        self.status: CallStatus = "bot"
        self.holding = False
        self.ended_by_bot = False
        self.messages = 0  # position/wait messages spoken
        self._speaking = False
        self._quiet_since = time.monotonic()
        self._last_message = 0.0
        self._hold_since = 0.0
        self._poll_task: asyncio.Task | None = None
        self._hangup_task: asyncio.Task | None = None
        self._goodbye_played = asyncio.Event()

    @property
    def contact_id(self) -> str:
        return self.trace.contact_id

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, BotSpeechFrame) and frame.kind == "reply":
            status = await self._status()
            if status == "ended":
                frame.kind = GOODBYE  # hang up once these last words have played
            await self.push_frame(frame, direction)
            await self._apply(status, reply_pending=True)
            return
        if isinstance(frame, PlaybackStateFrame):
            self._speaking = frame.speaking
            if not frame.speaking:
                self._quiet_since = time.monotonic()
                if frame.kind == GOODBYE:
                    self._goodbye_played.set()
        elif isinstance(frame, InputDTMFFrame) and self.holding:
            if str(getattr(frame.button, "value", frame.button)) == CALLBACK_KEY:
                self.create_task(self._keypad_callback())
        elif isinstance(frame, InterruptionFrame) and self._hangup_task is not None:
            self._goodbye_played.set()  # the caller talked over the goodbye: it is over anyway
        elif isinstance(frame, EndFrame | CancelFrame):
            await self._stop_tasks()
            if self.holding:
                self._end_hold("call_ended")
        await self.push_frame(frame, direction)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._stop_tasks()

    async def _stop_tasks(self) -> None:
        for name in ("_poll_task", "_hangup_task"):
            task = getattr(self, name)
            setattr(self, name, None)
            if task is not None and task is not asyncio.current_task():
                await self.cancel_task(task)

    async def _status(self) -> CallStatus:
        try:
            return await self.conversation.call_status(self.contact_id)
        except Exception:  # the store hiccuped: keep what we had, try again next poll
            return self.status

    async def _apply(self, status: CallStatus, *, reply_pending: bool = False) -> None:
        previous, self.status = self.status, status
        if status == "waiting" and not self.holding:
            self.holding = True
            self._hold_since = time.monotonic()
            self._last_message = time.monotonic()
            await self.push_frame(HoldAudioFrame(on=True, after_speech=reply_pending))
            if self._poll_task is None:
                self._poll_task = self.create_task(self._poll())
        elif status != "waiting" and self.holding:
            self._end_hold(status)
            await self.push_frame(HoldAudioFrame(on=False))
        if status == "ended" and previous != "ended" and self._hangup_task is None:
            self._hangup_task = self.create_task(self._hang_up(reply_pending))

    def _end_hold(self, why: str) -> None:
        self.holding = False
        self.trace.stage(
            "hold", started_mono=self._hold_since, detail=f"until {why}; {self.messages} messages"
        )

    async def _poll(self) -> None:
        """While a person is (being) waited for: notice agent/hand-back/end; announce."""
        while True:
            await asyncio.sleep(self.poll_s)
            status = await self._status()
            if status != self.status:
                await self._apply(status)
            if status == "ended":
                return
            now = time.monotonic()
            quiet_for = now - max(self._quiet_since, self._last_message)
            if status == "waiting" and not self._speaking and quiet_for >= self.announce_every_s:
                self._last_message = now
                await self._announce()

    async def _announce(self) -> None:
        try:
            text, language = await self.conversation.hold_message(self.contact_id)
        except Exception:
            return
        if not text:
            return
        self.messages += 1
        self.trace.publish(
            BotReply(
                contact_id=self.contact_id, at=self.trace.clock.now(), text=text, language=language
            )
        )
        await self.push_frame(TTSTextFrame(text=text, text_type="sentence"))
        await self.push_frame(BotSpeechFrame(text=text, language=language, kind=HOLD_MESSAGE))

    async def _keypad_callback(self) -> None:
        """The callback key while holding: the same as saying "call me back"."""
        respond = getattr(self.conversation, "respond", None)
        if respond is None:
            return
        try:
            text = await respond(CALLBACK_PAYLOAD, contact_id=self.contact_id, language=None)
        except Exception:
            return
        status = await self._status()
        if text:
            self.trace.publish(
                BotReply(contact_id=self.contact_id, at=self.trace.clock.now(), text=text)
            )
            await self.push_frame(TTSTextFrame(text=text, text_type="sentence"))
            kind = GOODBYE if status == "ended" else "reply"
            await self.push_frame(BotSpeechFrame(text=text, kind=kind))
        await self._apply(status, reply_pending=bool(text))

    async def _hang_up(self, goodbye_coming: bool) -> None:
        if goodbye_coming:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._goodbye_played.wait(), self.goodbye_timeout_s)
        await asyncio.sleep(self.hangup_grace_s)  # let the far end play out its buffer
        self.ended_by_bot = True
        await self.push_frame(EndWorkerFrame(reason="bot_ended"), FrameDirection.UPSTREAM)
