"""Dialogue stages: the back-channel gate (barge-in arbitration) and the responder call."""

from __future__ import annotations

import asyncio
import time

from pipecat.frames.frames import CancelFrame, EndFrame, Frame, InterruptionFrame, TTSTextFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bots.backchannel import is_backchannel
from bots.frames import BotSpeechFrame, CallerTextFrame, PlaybackResumeFrame
from bots.responder import Responder
from bots.trace import CallTrace
from core.events import BotReply, ContactError


class BackchannelGate(FrameProcessor):
    """Decides what a short overlap was: "uh-huh" resumes playback, anything else interrupts."""

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, CallerTextFrame):
            if frame.overlapped and is_backchannel(frame.text):
                await self.push_frame(PlaybackResumeFrame())
                return
            if frame.overlapped:
                await self.broadcast_interruption()
            if not frame.text.strip():
                return
        await self.push_frame(frame, direction)


class ResponderStage(FrameProcessor):
    """Calls the ``Responder`` for each caller turn and emits the reply as bot speech."""

    def __init__(
        self, *, responder: Responder, trace: CallTrace, language: str | None, **kw: object
    ) -> None:
        super().__init__(**kw)
        self.responder = responder
        self.trace = trace
        self.language = language
        self._task: asyncio.Task | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, CallerTextFrame):
            self._task = self.create_task(self._respond(frame))
            return
        if isinstance(frame, InterruptionFrame | EndFrame | CancelFrame) and self._task:
            task, self._task = self._task, None
            await self.cancel_task(task)
        await self.push_frame(frame, direction)

    async def _respond(self, frame: CallerTextFrame) -> None:
        t0 = time.monotonic()
        language = self.language or frame.language
        try:
            reply = await self.responder.respond(
                frame.text, contact_id=self.trace.contact_id, language=language
            )
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the bot failing one turn must not drop the call
            self.trace.publish(
                ContactError(
                    contact_id=self.trace.contact_id,
                    at=self.trace.clock.now(),
                    code=getattr(e, "code", "responder_failed"),
                    message=str(e),
                    stage="dialogue",
                    recoverable=True,
                )
            )
            return
        self.trace.stage("dialogue", started_mono=t0, turn=frame.turn)
        if not reply:
            return
        self.trace.publish(
            BotReply(
                contact_id=self.trace.contact_id,
                at=self.trace.clock.now(),
                text=reply,
                language=language,
            )
        )
        await self.push_frame(TTSTextFrame(text=reply, text_type="sentence"))
        await self.push_frame(
            BotSpeechFrame(
                text=reply,
                language=language,
                turn=frame.turn,
                speech_end_mono=frame.speech_end_mono,
            )
        )
