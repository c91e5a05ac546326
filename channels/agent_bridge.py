"""The agent softphone's media bridge: caller audio to the agent, agent audio to the caller.

Every voice call runs through :meth:`MediaBridges.wrap_factory`, which swaps the call's
``Wire`` for a :class:`BridgedWire` before the bot pipeline starts (no change to the
pipeline): ``receive`` forks each caller chunk to whoever is on the contact's
:class:`ContactMedia`, and ``send_audio`` drops the bot's audio once an agent has joined
(the bot is muted while handed off; its ASR keeps running, so the live transcript goes on).

Legs (one per browser socket, all PCM16 at 16 kHz):

==============  =======================  ==========================================
leg             hears                    is heard by
==============  =======================  ==========================================
agent           caller, other agents,    caller (unless held or muted), other agents
                whisper/barge            and listening supervisors
supervisor      caller and agents        listen: nobody; whisper: agents only;
                                         barge: agents and caller
==============  =======================  ==========================================

Hold: the caller hears a soft hold tone and the agents stop hearing the caller. Each leg
has a bounded send queue; a slow browser loses audio (counted in ``dropped``), it never
slows the caller's pipeline. When the last agent leg leaves, the bot is heard again.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
import structlog

from channels.media import AudioIn, Resampler, Wire
from channels.session import CallSession, VoiceFactory

log = structlog.get_logger("hotline.channels.agent_bridge")
RATE_HZ = 16_000
FRAME_S = 0.02
LEG_QUEUE = 100  # 2 s of 20 ms frames
HOLD_TONE_HZ = (440.0, 554.37)

Send = Callable[[bytes], Awaitable[None]]


@dataclass
class Leg:
    """One browser on the contact: an agent or a monitoring supervisor."""

    user: str
    role: str  # "agent" | "supervisor"
    send: Send
    mode: str = "listen"  # supervisors: listen | whisper | barge
    muted: bool = False
    queue: asyncio.Queue[bytes] = field(default_factory=lambda: asyncio.Queue(LEG_QUEUE))
    task: asyncio.Task | None = None
    sent: int = 0
    dropped: int = 0

    def push(self, pcm16: bytes) -> None:
        try:
            self.queue.put_nowait(pcm16)
        except asyncio.QueueFull:
            self.dropped += 1

    async def pump(self) -> None:
        while True:
            pcm = await self.queue.get()
            try:
                await self.send(pcm)
                self.sent += 1
            except Exception:
                return


class BridgedWire:
    """A ``channels.media.Wire`` that forks caller audio and mutes the bot while handed off."""

    def __init__(self, inner: Wire, media: ContactMedia):
        self.inner = inner
        self.media = media

    @property
    def out_rate_hz(self) -> int:
        return self.inner.out_rate_hz

    async def receive(self) -> AudioIn | None:
        chunk = await self.inner.receive()
        if chunk is not None:
            self.media.from_caller(chunk.pcm16, chunk.sample_rate_hz)
        return chunk

    async def send_audio(self, pcm16: bytes) -> None:
        if not self.media.agent_on:
            await self.inner.send_audio(pcm16)

    async def clear(self) -> None:
        if not self.media.agent_on:
            await self.inner.clear()

    async def send_text(self, kind: str, text: str) -> None:
        await self.inner.send_text(kind, text)

    async def close(self) -> None:
        await self.inner.close()


class ContactMedia:
    """All legs of one voice contact and the routing between them."""

    def __init__(self, contact_id: str, wire: Wire):
        self.contact_id = contact_id
        self.wire = BridgedWire(wire, self)
        self.legs: dict[str, Leg] = {}
        self.held = False
        self.ended = False
        self.caller_frames = 0
        self._in: Resampler | None = None
        self._out = Resampler(RATE_HZ, wire.out_rate_hz)
        self._hold_task: asyncio.Task | None = None
        self._to_caller: asyncio.Queue[bytes] = asyncio.Queue(LEG_QUEUE)
        self._caller_task: asyncio.Task | None = None

    @property
    def agent_on(self) -> bool:
        return any(leg.role == "agent" for leg in self.legs.values())

    # -- legs ----------------------------------------------------------------------------
    def join(self, user: str, role: str, send: Send, *, mode: str = "listen") -> Leg:
        old = self.legs.pop(user, None)
        if old is not None and old.task is not None:
            old.task.cancel()
        leg = Leg(user, role, send, mode=mode)
        leg.task = asyncio.create_task(leg.pump(), name=f"leg-{self.contact_id}-{user}")
        self.legs[user] = leg
        if role == "agent" and self._caller_task is None:
            self._caller_task = asyncio.create_task(
                self._pump_caller(), name=f"to-caller-{self.contact_id}"
            )
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().create_task(self.wire.inner.clear())
        log.info("media.join", contact=self.contact_id, user=user, role=role, mode=mode)
        return leg

    def leave(self, user: str) -> None:
        leg = self.legs.pop(user, None)
        if leg is not None and leg.task is not None:
            leg.task.cancel()
        log.info("media.leave", contact=self.contact_id, user=user)

    def set_mode(self, user: str, mode: str) -> None:
        if user in self.legs:
            self.legs[user].mode = mode

    def set_muted(self, user: str, muted: bool) -> None:
        if user in self.legs:
            self.legs[user].muted = muted

    def set_held(self, held: bool) -> None:
        if held == self.held:
            return
        self.held = held
        if held:
            self._hold_task = asyncio.create_task(self._hold_music(), name="hold-music")
        elif self._hold_task is not None:
            self._hold_task.cancel()
            self._hold_task = None

    # -- audio ---------------------------------------------------------------------------
    def from_caller(self, pcm16: bytes, rate_hz: int) -> None:
        """Caller chunk (any rate) → every agent (unless held) and every supervisor."""
        if not self.legs:
            return
        if self._in is None or self._in.in_hz != rate_hz:
            self._in = Resampler(rate_hz, RATE_HZ)
        pcm = self._in(pcm16)
        if not pcm:
            return
        self.caller_frames += 1
        for leg in self.legs.values():
            if leg.role == "supervisor" or not self.held:
                leg.push(pcm)

    def from_agent(self, user: str, pcm16: bytes) -> None:
        """An agent's microphone (16 kHz) → caller, other agents, supervisors."""
        leg = self.legs.get(user)
        if leg is None or leg.muted:
            return
        if not self.held:
            self._caller(pcm16)
        for other in self.legs.values():
            if other.user != user:
                other.push(pcm16)

    def from_supervisor(self, user: str, pcm16: bytes) -> None:
        """Whisper → agents only; barge → agents and caller; listen → nobody."""
        leg = self.legs.get(user)
        if leg is None or leg.mode == "listen":
            return
        for other in self.legs.values():
            if other.role == "agent":
                other.push(pcm16)
        if leg.mode == "barge":
            self._caller(pcm16)

    def _caller(self, pcm16: bytes) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._to_caller.put_nowait(pcm16)

    async def _pump_caller(self) -> None:
        while True:
            pcm = await self._to_caller.get()
            with contextlib.suppress(Exception):
                await self.wire.inner.send_audio(self._out(pcm))

    async def _hold_music(self) -> None:
        """A quiet two-note chime every 2 s, paced in real time, while on hold."""
        n = int(RATE_HZ * FRAME_S)
        t = 0
        while True:
            phase = (t % 100) / 100.0  # 2 s cycle
            note = HOLD_TONE_HZ[0] if phase < 0.25 else HOLD_TONE_HZ[1] if phase < 0.5 else 0.0
            idx = np.arange(t * n, (t + 1) * n)
            amp = 0.0 if note == 0.0 else 2000.0
            frame = (amp * np.sin(2 * math.pi * note * idx / RATE_HZ)).astype("<i2").tobytes()
            with contextlib.suppress(Exception):
                await self.wire.inner.send_audio(self._out(frame))
            t += 1
            await asyncio.sleep(FRAME_S)

    def close(self) -> None:
        self.ended = True
        for user in list(self.legs):
            self.leave(user)
        for task in (self._hold_task, self._caller_task):
            if task is not None:
                task.cancel()


class MediaBridges:
    """Every live voice contact's media, by contact id."""

    def __init__(self) -> None:
        self.contacts: dict[str, ContactMedia] = {}
        self.on_end: list[Callable[[str], Awaitable[None]]] = []

    def get(self, contact_id: str) -> ContactMedia | None:
        return self.contacts.get(contact_id)

    def register(self, session: CallSession) -> ContactMedia | None:
        """Bridge a session whose transports carry a ``wire`` (every channel in ``channels``)."""
        wire_in = getattr(session.input, "wire", None)
        if wire_in is None:
            return None
        if isinstance(wire_in, BridgedWire):  # already bridged (wrapped twice): keep it
            return wire_in.media
        media = ContactMedia(session.contact_id, wire_in)
        session.input.wire = media.wire  # type: ignore[attr-defined]
        if getattr(session.output, "wire", None) is wire_in:
            session.output.wire = media.wire  # type: ignore[attr-defined]
        self.contacts[session.contact_id] = media
        return media

    def unregister(self, contact_id: str) -> None:
        media = self.contacts.pop(contact_id, None)
        if media is not None:
            media.close()

    def wrap_factory(self, factory: VoiceFactory) -> VoiceFactory:
        """The voice factory the channels call, with this bridge around each call."""

        async def bridged(session: CallSession) -> object:
            owner = session.contact_id not in self.contacts
            self.register(session)
            try:
                return await factory(session)
            finally:
                if owner:
                    self.unregister(session.contact_id)

        return bridged

    async def apply_control(self, st: object) -> None:
        """``routing.call_control`` listener (duck-typed): hold, mute, monitor modes."""
        media = self.contacts.get(getattr(st, "contact_id", ""))
        if media is None:
            return
        media.set_held(bool(getattr(st, "held", False)))
        media.set_muted(getattr(st, "agent_id", ""), bool(getattr(st, "muted", False)))
        for user, mode in dict(getattr(st, "monitors", {})).items():
            media.set_mode(user, mode)
        if getattr(st, "ended", None):
            for user, leg in list(media.legs.items()):
                if leg.role == "agent" and user == getattr(st, "agent_id", ""):
                    media.leave(user)


def energy(pcm16: bytes) -> float:
    """RMS of a PCM16 chunk (0..32768); tests and the page meter use it."""
    x = np.frombuffer(pcm16[: len(pcm16) // 2 * 2], dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0
