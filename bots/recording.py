"""Per-call stereo recording: caller on the left channel, bot on the right, 16 kHz PCM16 WAV.

Recording starts only after the compliance announcement has played (issue 4, item 5), so
the file never holds audio the caller gave before being told. The bot track holds what was
actually played (after barge-in cuts), placed at the caller-audio position it was played
at. The file is written once, when the call ends, to the recordings directory passed in;
``save`` is idempotent so the pipeline's end and the call's ``finally`` can both call it.
"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
from pipecat.frames.frames import Frame, InputAudioRawFrame, OutputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bots.frames import AnnouncementPlayedFrame
from bots.trace import CallTrace
from core.domain import Speaker
from core.events import AudioSegment

PIPELINE_RATE_HZ = 16_000


def write_stereo_wav(path: Path, left: bytes, right: bytes, *, sample_rate_hz: int) -> None:
    """Interleave two PCM16 mono tracks (the shorter padded with silence) into one WAV."""
    a = np.frombuffer(left, dtype="<i2")
    b = np.frombuffer(right, dtype="<i2")
    n = max(a.size, b.size)
    stereo = np.zeros((n, 2), dtype="<i2")
    stereo[: a.size, 0] = a
    stereo[: b.size, 1] = b
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(stereo.tobytes())
    tmp.replace(path)  # never a half-written recording under the final name


class CallRecorder(FrameProcessor):
    """Sits at the end of the pipeline and keeps both sides of the call."""

    def __init__(
        self,
        *,
        trace: CallTrace,
        recordings_dir: Path | None,
        recording: bool = True,
        **kw: object,
    ) -> None:
        super().__init__(**kw)
        self.trace = trace
        self.recordings_dir = recordings_dir
        self.recording = recording
        self.caller = bytearray()
        self.bot = bytearray()
        self.path: Path | None = None
        self._saved = False

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, AnnouncementPlayedFrame):
            self.recording = True
        elif self.recording and isinstance(frame, InputAudioRawFrame):
            self.caller += frame.audio
        elif self.recording and isinstance(frame, OutputAudioRawFrame):
            if len(self.bot) < len(self.caller):
                self.bot += b"\x00" * (len(self.caller) - len(self.bot))
            self.bot += frame.audio
        await self.push_frame(frame, direction)

    async def save(self) -> Path | None:
        """Write the WAV once and publish one ``audio.segment`` per side."""
        if self._saved or self.recordings_dir is None:
            return self.path
        self._saved = True
        path = self.recordings_dir / f"{self.trace.contact_id}.wav"
        caller, bot = bytes(self.caller), bytes(self.bot)
        await asyncio.to_thread(
            write_stereo_wav, path, caller, bot, sample_rate_hz=PIPELINE_RATE_HZ
        )
        self.path = path
        duration_s = max(len(caller), len(bot)) / (2 * PIPELINE_RATE_HZ)
        for speaker, channel in ((Speaker.CUSTOMER, "left"), (Speaker.BOT, "right")):
            self.trace.publish(
                AudioSegment(
                    contact_id=self.trace.contact_id,
                    at=self.trace.clock.now(),
                    speaker=speaker,
                    start_s=0.0,
                    end_s=duration_s,
                    sample_rate_hz=PIPELINE_RATE_HZ,
                    uri=f"{path.as_uri()}#channel={channel}",
                )
            )
        return path
