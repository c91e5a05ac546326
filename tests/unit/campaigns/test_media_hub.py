"""The campaign media hub on a fake carrier wire: waits for the stream, plays at the wire's
rate, reads keypad digits, hands AMD the callee's first seconds, ends with the call."""

from __future__ import annotations

import asyncio

import numpy as np

from bots.dialer.browser_phone import pcm16_to_wav
from bots.dialer.media_hub import TelephonyMediaHub
from channels.media import AudioIn


class FakeWire:
    def __init__(self, rate: int = 8_000) -> None:
        self.out_rate_hz = rate
        self.inbound: asyncio.Queue[AudioIn | None] = asyncio.Queue()
        self.dtmf: asyncio.Queue[str] = asyncio.Queue()
        self.sent = bytearray()
        self.closed = False

    async def receive(self) -> AudioIn | None:
        return await self.inbound.get()

    async def send_audio(self, pcm16: bytes) -> None:
        self.sent += pcm16

    async def close(self) -> None:
        self.closed = True


async def test_a_stream_that_arrives_late_is_waited_for_and_talks() -> None:
    hub = TelephonyMediaHub(connect_timeout_s=5)
    wire = FakeWire()
    hub.expect("call-1")
    assert hub.claims("call-1") and not hub.claims("someone-else")
    amd = asyncio.create_task(hub.listen("call-1", 0.5))  # before the stream exists
    serving = asyncio.create_task(hub.serve("call-1", wire))
    for _ in range(30):  # 0.6 s of the callee at 8 kHz, in 20 ms frames
        await wire.inbound.put(AudioIn(b"\x10\x00" * 160, 8_000))
    heard, rate = await amd
    assert rate == 8_000 and len(heard) == 8_000  # 0.5 s of PCM16

    wav = pcm16_to_wav(np.zeros(2_205, dtype="<i2").tobytes(), 22_050)  # 0.1 s at 22.05 kHz
    await hub.play("call-1", "Hello", wav)
    assert abs(len(wire.sent) - 1_600) <= 4  # resampled to the wire's 8 kHz

    await wire.dtmf.put("1")
    assert await hub.next_input("call-1", timeout_s=5) == "1"
    assert await hub.next_input("call-1", timeout_s=0.05) is None  # nothing pressed

    await wire.inbound.put(None)  # the callee hangs up
    await serving
    assert wire.closed and not hub.claims("call-1")
    assert await hub.next_input("call-1", timeout_s=0.05) is None


async def test_no_stream_means_silence_not_a_hang() -> None:
    hub = TelephonyMediaHub(connect_timeout_s=0.05)
    await hub.play("nobody", "Hello", pcm16_to_wav(b"\x00\x00" * 800, 8_000))
    assert await hub.next_input("nobody", timeout_s=1) is None
    assert await hub.listen("nobody", 1.0) is None
