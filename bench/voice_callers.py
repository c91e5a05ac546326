"""Synthetic callers for the voice channels: speak prepared audio in real time, log the bot.

Used by bench/voice_latency.py and by the integration tests. A caller behaves like a
microphone: it sends 20 ms PCM16 frames continuously (silence between utterances), and
timestamps the end of each utterance and the first bot audio after it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import numpy as np

RATE_HZ = 16_000
FRAME_BYTES = RATE_HZ * 2 // 50  # 20 ms
SILENCE = b"\x00" * FRAME_BYTES


@dataclass
class Utterance:
    text: str
    pcm16: bytes  # 16 kHz, speech without trailing silence
    barge_in_after_s: float | None = None  # speak this long after the bot starts (overlap)


@dataclass
class TurnLog:
    text: str
    eos_mono: float = float("inf")  # set when the last speech frame has been sent
    start_mono: float = 0.0
    first_audio_mono: float | None = None
    bot_audio_s: float = 0.0
    stopped_mono: float | None = None
    transcripts: int = 0  # > 1 for one utterance means the turn was cut early
    audio_before_eos_s: float = 0.0  # bot audio while the caller was still speaking

    @property
    def latency_s(self) -> float | None:
        return None if self.first_audio_mono is None else self.first_audio_mono - self.eos_mono


@dataclass
class CallLog:
    contact_id: str | None = None
    turns: list[TurnLog] = field(default_factory=list)
    transcripts: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    clears: int = 0
    bot_audio_s: float = 0.0
    audio_times: list[tuple[float, float]] = field(default_factory=list)  # (arrival, seconds)


def trim_silence(pcm16: bytes, *, threshold: int = 300) -> bytes:
    """Cut leading/trailing near-silence so 'end of speech' is the last voiced sample."""
    x = np.frombuffer(pcm16, dtype="<i2")
    loud = np.nonzero(np.abs(x) > threshold)[0]
    if loud.size == 0:
        return b""
    return x[max(0, loud[0] - 160) : loud[-1] + 1].tobytes()


def stretch_pauses(
    pcm16: bytes, *, to_s: float, min_gap_s: float = 0.08, threshold: int = 300
) -> tuple[bytes, int]:
    """Lengthen every inner pause (≥ ``min_gap_s`` of near-silence) to ``to_s``.

    Synthesizing a whole sentence keeps its mid-sentence (non-final) intonation at commas,
    which a person reading digits in groups has; pasting separately synthesized pieces
    would give each group a sentence-final fall. Returns the audio and how many pauses.
    """
    x = np.frombuffer(pcm16, dtype="<i2")
    win = 160  # 10 ms
    n = x.size // win
    loud = np.abs(x[: n * win].reshape(n, win)).max(axis=1) > threshold
    voiced = np.nonzero(loud)[0]
    if voiced.size == 0:
        return pcm16, 0
    out, pauses, i, first, last = [], 0, 0, voiced[0], voiced[-1]
    out.append(x[: first * win])
    start = first
    while start <= last:
        j = start
        while j <= last and loud[j]:
            j += 1
        k = j
        while k <= last and not loud[k]:
            k += 1
        out.append(x[start * win : j * win])
        if k > last:
            break
        gap = k - j
        if gap * 0.01 >= min_gap_s:
            out.append(np.zeros(int(to_s * RATE_HZ), dtype="<i2"))
            pauses += 1
        else:
            out.append(x[j * win : k * win])
        start = k
        i += 1
    out.append(x[(last + 1) * win :])
    return np.concatenate(out).astype("<i2").tobytes(), pauses


class BrowserCaller:
    """Drives ``/voice/browser`` like the call page does."""

    def __init__(
        self,
        url: str,
        *,
        realtime: bool = True,
        quiet_s: float = 0.7,
        lead_silence_s: float | None = None,
    ) -> None:
        self.url = url
        self.lead_silence_s = lead_silence_s  # instead of waiting for a greeting
        self.realtime = realtime
        self.quiet_s = quiet_s
        self.log = CallLog()
        self._last_audio = 0.0
        self._ws = None

    async def _receive(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            now = time.monotonic()
            if isinstance(msg, bytes):
                secs = len(msg) / 2 / RATE_HZ
                self.log.bot_audio_s += secs
                self.log.audio_times.append((now, secs))
                self._last_audio = now
                turn = self.log.turns[-1] if self.log.turns else None
                if turn is not None and now >= turn.eos_mono:
                    if turn.first_audio_mono is None:
                        turn.first_audio_mono = now
                    turn.bot_audio_s += secs
                elif turn is not None and now >= turn.start_mono:
                    turn.audio_before_eos_s += secs
                continue
            data = json.loads(msg)
            if data.get("type") == "transcript":
                self.log.transcripts.append(data["text"])
                if self.log.turns:
                    self.log.turns[-1].transcripts += 1
            elif data.get("type") == "reply":
                self.log.replies.append(data["text"])
            elif data.get("type") == "clear":
                self.log.clears += 1
            elif data.get("type") == "session":
                self.log.contact_id = data["contact_id"]

    async def _send_frames(self, pcm16: bytes) -> None:
        assert self._ws is not None
        t0 = time.monotonic()
        for i in range(0, len(pcm16), FRAME_BYTES):
            frame = pcm16[i : i + FRAME_BYTES]
            await self._ws.send(frame.ljust(FRAME_BYTES, b"\x00"))
            if self.realtime:
                ahead = t0 + (i // FRAME_BYTES + 1) * 0.02 - time.monotonic()
                if ahead > 0:
                    await asyncio.sleep(ahead)

    async def _silence_until(self, cond, timeout_s: float) -> bool:
        """Keep the 'microphone' open with silence until ``cond()`` or the timeout."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if cond():
                return True
            await self._send_frames(SILENCE * 5)
        return cond()

    def _bot_quiet(self) -> bool:
        return self._last_audio > 0 and time.monotonic() - self._last_audio >= self.quiet_s

    async def run(self, utterances: list[Utterance], *, timeout_s: float = 30.0) -> CallLog:
        """Speak each utterance after the bot's previous answer has finished, or, for an
        utterance with ``barge_in_after_s``, that long after the previous answer began."""
        import websockets

        async with websockets.connect(self.url, max_size=None) as ws:
            self._ws = ws
            recv = asyncio.create_task(self._receive())
            try:
                if self.lead_silence_s is None:  # announcement (+ greeting) first
                    await self._silence_until(self._bot_quiet, timeout_s)
                else:
                    await self._send_frames(SILENCE * int(self.lead_silence_s * 50))
                for i, utt in enumerate(utterances):
                    nxt = utterances[i + 1] if i + 1 < len(utterances) else None
                    overlap_next = nxt is not None and nxt.barge_in_after_s is not None
                    await self._speak(utt, timeout_s, wait_quiet=not overlap_next)
                await ws.send(json.dumps({"type": "stop"}))
            finally:
                recv.cancel()
                await asyncio.gather(recv, return_exceptions=True)
        return self.log

    async def _speak(self, utt: Utterance, timeout_s: float, *, wait_quiet: bool) -> None:
        if utt.barge_in_after_s is not None and self.log.turns:
            started = self.log.turns[-1].first_audio_mono or time.monotonic()
            at = started + utt.barge_in_after_s
            await self._silence_until(lambda: time.monotonic() >= at, timeout_s)
        turn = TurnLog(text=utt.text, start_mono=time.monotonic())
        self.log.turns.append(turn)
        await self._send_frames(utt.pcm16)
        turn.eos_mono = time.monotonic()
        await self._silence_until(lambda: turn.first_audio_mono is not None, timeout_s)
        if wait_quiet:
            await self._silence_until(self._bot_quiet, timeout_s)
        turn.stopped_mono = self._last_audio
