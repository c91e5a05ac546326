"""The browser "test phone": a dialer whose phones are web pages, so a demo campaign really
calls someone.

A page registers a number over a websocket (``/api/v1/campaigns/phone/ws?number=…``); the
hub rings it when the scheduler dials that number, the person answers (or declines, or lets
it ring out), hears the bot's lines (TTS audio when a voice is available, the text always)
and answers with keypad digits. Everything the page does becomes a :class:`CallUpdate`, the
same as an ARI event or a Twilio status callback, so the scheduler cannot tell them apart.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import uuid
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog

from bots.campaigns.amd import AmdConfig, AmdLabel, detect
from bots.campaigns.dispositions import Disposition
from bots.campaigns.scheduler import CallResult, ConnectedCall
from bots.campaigns.scripts import parse_script, render
from bots.dialer.base import CallStatus, CallUpdate, DialRequest, UpdateHandler

log = structlog.get_logger("hotline.dialer.browser")

SendJson = Callable[[dict[str, Any]], Awaitable[None]]
# text, language → WAV bytes (or None when no voice speaks that language)
Synthesize = Callable[[str, str], bytes | None]
# call id, seconds → the first seconds the callee's side sent (PCM16 mono, rate), or None
Listen = Callable[[str, float], Awaitable[tuple[bytes, int] | None]]


@dataclass
class _Call:
    call_id: str
    number: str
    attempt_id: str
    answered: bool = False
    ended: bool = False
    inputs: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    timer: asyncio.Task[None] | None = None


class BrowserPhoneHub:
    """Dialer adapter for registered browser phones (one websocket per number)."""

    name = "browser_phone"

    def __init__(self) -> None:
        self._phones: dict[str, SendJson] = {}
        self._calls: dict[str, _Call] = {}
        self._handler: UpdateHandler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def set_handler(self, handler: UpdateHandler) -> None:
        self._handler = handler

    @property
    def numbers(self) -> list[str]:
        return sorted(self._phones)

    def register(self, number: str, send: SendJson) -> None:
        self._phones[number] = send

    def unregister(self, number: str, send: SendJson) -> None:
        if self._phones.get(number) is send:
            del self._phones[number]
        for call in list(self._calls.values()):
            if call.number == number and not call.ended:
                self._spawn(
                    self._end(
                        call,
                        CallStatus.COMPLETED if call.answered else CallStatus.NO_ANSWER,
                        "phone went away",
                    )
                )

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _emit(self, call: _Call, status: CallStatus, cause: str = "") -> None:
        if self._handler is not None:
            await self._handler(
                CallUpdate(call.call_id, status, cause=cause, attempt_id=call.attempt_id)
            )

    async def originate(self, request: DialRequest) -> str:
        call = _Call(
            call_id=f"bp-{uuid.uuid4().hex[:12]}", number=request.to, attempt_id=request.attempt_id
        )
        self._calls[call.call_id] = call
        send = self._phones.get(request.to)
        if send is None:  # nobody has that phone open: it rings out unanswered
            self._spawn(self._end(call, CallStatus.NO_ANSWER, "phone not registered"))
            return call.call_id
        await send(
            {
                "type": "ring",
                "call_id": call.call_id,
                "from": request.caller_id,
                "name": request.variables.get("name", ""),
            }
        )
        call.timer = asyncio.create_task(self._ring_timeout(call, request.ring_timeout_s))
        self._spawn(self._emit(call, CallStatus.RINGING))
        return call.call_id

    async def _ring_timeout(self, call: _Call, seconds: int) -> None:
        await asyncio.sleep(seconds)
        if not call.answered and not call.ended:
            await self._send(call, {"type": "cancel", "call_id": call.call_id})
            await self._end(call, CallStatus.NO_ANSWER, "ring timeout")

    async def _send(self, call: _Call, message: dict[str, Any]) -> None:
        send = self._phones.get(call.number)
        if send is not None:
            with contextlib.suppress(RuntimeError, ConnectionError):
                await send(message)

    async def _end(self, call: _Call, status: CallStatus, cause: str = "") -> None:
        if call.ended:
            return
        call.ended = True
        if call.timer is not None and call.timer is not asyncio.current_task():
            call.timer.cancel()
        call.inputs.put_nowait("")  # wake a runner waiting for a key
        await self._emit(call, status, cause)

    async def on_message(self, number: str, message: dict[str, Any]) -> None:
        """A message from the phone page: answer | decline | dtmf | hangup."""
        call = self._calls.get(str(message.get("call_id", "")))
        if call is None or call.number != number or call.ended:
            return
        kind = message.get("type")
        if kind == "answer" and not call.answered:
            call.answered = True
            if call.timer is not None:
                call.timer.cancel()
            await self._emit(call, CallStatus.ANSWERED)
        elif kind == "decline" and not call.answered:
            await self._end(call, CallStatus.BUSY, "declined")
        elif kind == "dtmf" and call.answered:
            call.inputs.put_nowait(str(message.get("digit", ""))[:1])
        elif kind == "hangup":
            await self._end(
                call, CallStatus.COMPLETED if call.answered else CallStatus.BUSY, "phone hung up"
            )

    async def hangup(self, call_id: str) -> None:
        call = self._calls.get(call_id)
        if call is None:
            return
        await self._send(call, {"type": "hangup", "call_id": call_id})
        await self._end(call, CallStatus.COMPLETED)
        self._calls.pop(call_id, None)

    # --- media for the runner ----------------------------------------------------------

    async def play(self, call_id: str, text: str, audio_wav: bytes | None) -> None:
        call = self._calls.get(call_id)
        if call is None or call.ended:
            return
        msg: dict[str, Any] = {"type": "play", "call_id": call_id, "text": text}
        if audio_wav:
            msg["audio"] = "data:audio/wav;base64," + base64.b64encode(audio_wav).decode()
        await self._send(call, msg)

    async def next_input(self, call_id: str, timeout_s: float) -> str | None:
        call = self._calls.get(call_id)
        if call is None or call.ended:
            return None
        try:
            async with asyncio.timeout(timeout_s):
                digit = await call.inputs.get()
        except TimeoutError:
            return None
        return digit or None

    async def close(self) -> None:
        for call in list(self._calls.values()):
            if call.timer is not None:
                call.timer.cancel()
        for t in list(self._tasks):
            t.cancel()


class CallMedia(Protocol):
    """What a script runner needs from a live call: say something, hear a key."""

    async def play(self, call_id: str, text: str, audio_wav: bytes | None) -> None: ...

    async def next_input(self, call_id: str, timeout_s: float) -> str | None: ...


def pcm16_to_wav(pcm16: bytes, sample_rate_hz: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(pcm16)
    return buf.getvalue()


def tts_synthesizer(tts: Any) -> Synthesize:
    """Adapt a ``tts.base.TextToSpeech`` engine to text → WAV (None if it lacks the language)."""

    def synth(text: str, language: str) -> bytes | None:
        if language.split("-")[0] not in tts.capabilities.languages:
            return None
        chunks = list(tts.synthesize_stream(text, language=language))
        if not chunks:
            return None
        return pcm16_to_wav(b"".join(c.pcm16 for c in chunks), chunks[0].sample_rate_hz)

    return synth


class ScriptCallRunner:
    """Runs a campaign script on an answered call: speak, listen for a key, record outcome."""

    def __init__(
        self,
        *,
        media: CallMedia,
        synthesize: Synthesize | None = None,
        listen: Listen | None = None,
        amd: AmdConfig | None = None,
        input_timeout_s: float = 20.0,
    ) -> None:
        self.media = media
        self.synthesize = synthesize
        self.listen = listen
        self.amd = amd or AmdConfig()
        self.input_timeout_s = input_timeout_s

    async def _classify(self, call: ConnectedCall) -> tuple[str | None, float | None]:
        """Who answered: the platform's verdict if it gave one, else AMD on the first seconds."""
        if call.answered_by or self.listen is None:
            return call.answered_by, None
        heard = await self.listen(call.call_id, self.amd.total_analysis_ms / 1000)
        if heard is None:
            return None, None
        pcm16, rate = heard
        result = await asyncio.to_thread(detect, pcm16, rate, self.amd)
        if result.label is AmdLabel.UNKNOWN:
            return None, result.confidence
        return result.label.value, result.confidence

    async def _say(self, call: ConnectedCall, text: str) -> None:
        audio = None
        if self.synthesize is not None and text.strip():
            try:
                audio = await asyncio.to_thread(self.synthesize, text, call.language)
            except Exception as e:  # the text is still shown; a TTS failure must not drop a call
                log.warning("campaigns.tts_failed", error=repr(e))
        await self.media.play(call.call_id, text, audio)

    async def run(self, call: ConnectedCall) -> CallResult:
        script = parse_script(call.script, where=f"campaign {call.campaign_id}")
        variables = {"name": call.name, **call.variables}
        answered_by, confidence = await self._classify(call)
        if answered_by == "machine":
            if call.config.voicemail.value == "leave_message" and script.voicemail:
                await self._say(call, render(script.voicemail, variables)[0])
            return CallResult(
                Disposition.VOICEMAIL, answered_by="machine", amd_confidence=confidence
            )
        opening = render(script.greeting + " " + script.message, variables)[0]
        await self._say(call, opening)
        digit = await self.media.next_input(call.call_id, self.input_timeout_s)
        response = script.responses.get(digit or "")
        if response is None:
            if script.no_input:
                await self._say(call, render(script.no_input, variables)[0])
            return CallResult(
                Disposition.ANSWERED_HUMAN, answered_by="human", note=f"no valid key ({digit!r})"
            )
        await self._say(call, render(response.say, variables)[0])
        return CallResult(
            response.disposition,
            answered_by="human",
            handoff=response.handoff,
            opt_out=response.disposition is Disposition.OPT_OUT,
            note=f"key {digit}" + (f" score {response.score}" if response.score else ""),
        )
