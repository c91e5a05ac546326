"""Speech-to-text stage: our shared faster-whisper engine, beam 1, in a worker thread.

pipecat's ``WhisperSTTService`` loads one model per call (≈270 MB each) with beam 5; Hotline
hands every call the same ``SpeechToText`` engine (one model per process, ``Registry.shared``)
and decodes live turns with beam 1. A transcription starts speculatively at the VAD stop
(``SpeechPausedFrame``) and is reused when the turn really ends on the same audio, so Whisper
mostly runs while smart-turn is still deciding.

When the bot's question asks for spoken digits (a card's last four, a PIN: ``expects_digits``
says how many), the turn is also read with the digits grammar (``asr.digits``), which hears
short telephone digits far better than free transcription (97.8 % against 53 % on FSDD at
8 kHz); the free transcript is kept when the caller said words instead ("I don't have it").
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable

from pipecat.frames.frames import CancelFrame, EndFrame, Frame, TranscriptionFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from asr.base import SpeechToText, Transcript, transcribe
from asr.digits import DigitRecognizer, DigitResult
from asr.numbers import DIGIT_WORDS
from bots.frames import (
    CallerTextFrame,
    SpeculativeTextFrame,
    SpeechPausedFrame,
    SpeechResumedFrame,
    TurnEndedFrame,
)
from bots.trace import CallTrace
from core.domain import Speaker
from core.events import ContactError, TranscriptFinal, TranscriptPartial


class WhisperSTTStage(FrameProcessor):
    """Turns caller turns into ``CallerTextFrame`` and transcript events."""

    def __init__(
        self,
        *,
        stt: SpeechToText,
        trace: CallTrace,
        language: str | None,
        beam_size: int = 1,
        speculative: bool = True,
        digits: DigitRecognizer | None = None,
        expects_digits: Callable[[], Awaitable[int | None]] | None = None,
        **kw: object,
    ) -> None:
        super().__init__(**kw)
        self.digits = digits
        self.expects_digits = expects_digits
        self.stt = stt
        self.trace = trace
        self.language = language
        self.beam_size = beam_size
        self.speculative = speculative
        self._spec: tuple[int, int, asyncio.Task] | None = None  # (turn, n_bytes, task)
        self._tasks: set[asyncio.Task] = set()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, SpeechPausedFrame) and self.speculative:
            task = self.create_task(self._speculate(frame.pcm16, frame.turn))
            self._spec = (frame.turn, len(frame.pcm16), task)
        elif isinstance(frame, SpeechResumedFrame):
            self._spec = None  # its result no longer covers the whole turn
        elif isinstance(frame, TurnEndedFrame):
            self._track(self.create_task(self._finish(frame)))
        elif isinstance(frame, EndFrame | CancelFrame):
            for t in list(self._tasks):
                await self.cancel_task(t)
        await self.push_frame(frame, direction)

    def _track(self, task: asyncio.Task) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _decode(self, pcm16: bytes, turn: int, stage: str) -> Transcript:
        t0 = time.monotonic()
        result = await transcribe(
            self.stt,
            pcm16,
            sample_rate_hz=16_000,
            language=self.language,
            beam_size=self.beam_size,
        )
        rtf = result.elapsed_ms / 1000 / max(result.duration_s, 1e-3)
        self.trace.stage(stage, started_mono=t0, turn=turn, detail=f"rtf={rtf:.3f}")
        if stage == "asr_speculative" and result.text.strip():
            self.trace.publish(
                TranscriptPartial(
                    contact_id=self.trace.contact_id,
                    at=self.trace.clock.now(),
                    speaker=Speaker.CUSTOMER,
                    text=result.text.strip(),
                    language=result.language,
                )
            )
        return result

    async def _digits_if_expected(self, frame: TurnEndedFrame, free_text: str) -> str | None:
        """The digits heard when the bot asked for digits; None to keep the free transcript."""
        if self.digits is None or self.expects_digits is None:
            return None
        try:
            n = await self.expects_digits()
        except Exception:  # the dialogue is unreachable: free transcription still works
            return None
        if n is None:
            return None
        t0 = time.monotonic()
        try:
            got: DigitResult = await asyncio.to_thread(
                self.digits.recognize, frame.pcm16, max_digits=n or None
            )
        except Exception as e:
            self.trace.stage("asr_digits", started_mono=t0, turn=frame.turn, detail=f"error={e}")
            return None
        spoke_words = bool(_non_digit_words(free_text))
        use = bool(got.digits) and not got.rejected and not (got.in_grammar < 0.3 and spoke_words)
        detail = f"in_grammar={got.in_grammar:.2f} used={use} rejected={got.rejected}"
        self.trace.stage("asr_digits", started_mono=t0, turn=frame.turn, detail=detail)
        return got.digits if use else None

    async def _speculate(self, pcm16: bytes, turn: int) -> Transcript:
        """Decode at the pause and tell turn-taking what was said (it may wait for more)."""
        result = await self._decode(pcm16, turn, "asr_speculative")
        await self.push_frame(
            SpeculativeTextFrame(turn=turn, n_bytes=len(pcm16), text=result.text.strip()),
            FrameDirection.UPSTREAM,
        )
        return result

    async def _finish(self, frame: TurnEndedFrame) -> None:
        t0 = time.monotonic()
        spec, self._spec = self._spec, None
        try:
            if spec and spec[0] == frame.turn and spec[1] == len(frame.pcm16):
                result = await spec[2]
            else:
                result = await self._decode(frame.pcm16, frame.turn, "asr_compute")
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a failed turn is reported; the call goes on listening
            self.trace.publish(
                ContactError(
                    contact_id=self.trace.contact_id,
                    at=self.trace.clock.now(),
                    code=getattr(e, "code", "asr_failed"),
                    message=str(e),
                    stage="asr",
                    recoverable=True,
                )
            )
            return
        self.trace.stage("asr", started_mono=t0, turn=frame.turn, detail=frame.reason)
        text = result.text.strip()
        heard = await self._digits_if_expected(frame, text)
        if heard is not None:
            text = heard
        self.trace.publish(
            TranscriptFinal(
                contact_id=self.trace.contact_id,
                at=self.trace.clock.now(),
                speaker=Speaker.CUSTOMER,
                text=text,
                language=result.language,
                turn=frame.turn,
            )
        )
        if text:  # for transports that show a live transcript (the browser page)
            await self.push_frame(
                TranscriptionFrame(
                    text=text, user_id="caller", timestamp=self.trace.clock.now().isoformat()
                )
            )
        await self.push_frame(
            CallerTextFrame(
                turn=frame.turn,
                text=text,
                language=result.language,
                speech_end_mono=frame.speech_end_mono,
                overlapped=frame.overlapped,
            )
        )


def _non_digit_words(text: str) -> list[str]:
    """Words in a free transcript that are not spoken digits ("I don't have it")."""
    return [w for w in re.findall(r"[a-z']+", text.lower()) if w not in DIGIT_WORDS]
