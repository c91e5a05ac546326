"""Keypad presses a carrier wire receives reach the pipeline as pipecat DTMF frames."""

from __future__ import annotations

import asyncio

from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import InputDTMFFrame

from channels.media import AudioIn, WireInput
from tests.pipeline_harness import StageRun


class KeyWire:
    out_rate_hz = 8_000

    def __init__(self) -> None:
        self.dtmf: asyncio.Queue[str] = asyncio.Queue()
        self.audio: asyncio.Queue[AudioIn | None] = asyncio.Queue()

    async def receive(self) -> AudioIn | None:
        return await self.audio.get()


async def test_dtmf_digits_become_frames_and_junk_is_ignored() -> None:
    wire = KeyWire()
    async with StageRun(WireInput(wire)) as run:  # type: ignore[arg-type]
        for digit in ("1", "x", "#"):
            wire.dtmf.put_nowait(digit)
        out = await run.wait(lambda o: len(o.of(InputDTMFFrame)) >= 2)
        wire.audio.put_nowait(None)
    assert [f.button for f in out.of(InputDTMFFrame)] == [KeypadEntry.ONE, KeypadEntry.POUND]
