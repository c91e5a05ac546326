"""Text-to-speech stage: streams the engine's chunks, resampled to 16 kHz, with a phrase cache.

Piper runs in a worker thread and hands each sentence over as soon as it is ready, so
playback starts after the first sentence. Fixed phrases (the FAQ answers, the compliance
announcement) are synthesized once per process into a ``PhraseCache``: their first audio
costs nothing on the call (issue 4, item 2: "a phrase cache for fixed prompts").
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator

import numpy as np
import soxr
from pipecat.frames.frames import CancelFrame, EndFrame, Frame, InterruptionFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bots.frames import BotAudioFrame, BotSpeechFrame
from bots.trace import CallTrace
from core.events import ContactError
from tts.base import AudioChunk, Capabilities, TextToSpeech

PIPELINE_RATE_HZ = 16_000


def to_pipeline_rate(pcm16: bytes, rate_hz: int, stream: soxr.ResampleStream | None) -> bytes:
    """PCM16 at ``rate_hz`` → 16 kHz (soxr; a stream keeps the filter state across chunks)."""
    if rate_hz == PIPELINE_RATE_HZ or not pcm16:
        return pcm16
    x = np.frombuffer(pcm16, dtype="<i2")
    if stream is not None:
        return stream.resample_chunk(x).astype("<i2").tobytes()
    return soxr.resample(x, rate_hz, PIPELINE_RATE_HZ).astype("<i2").tobytes()


def flush(stream: soxr.ResampleStream | None) -> bytes:
    """The resampler's delayed tail at the end of an utterance (else its last ms are lost)."""
    if stream is None:
        return b""
    return stream.resample_chunk(np.zeros(0, dtype="<i2"), last=True).astype("<i2").tobytes()


class PhraseCache:
    """Pre-synthesized 16 kHz audio for fixed phrases, shared by every call of a process."""

    def __init__(self, tts: TextToSpeech, *, max_phrases: int = 256) -> None:
        self.tts = tts
        self.max_phrases = max_phrases
        self._audio: OrderedDict[tuple[str, str | None], bytes] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(text: str, language: str | None) -> tuple[str, str | None]:
        return (text.strip(), (language or "en").split("-")[0].lower())

    def get(self, text: str, language: str | None) -> bytes | None:
        with self._lock:
            return self._audio.get(self._key(text, language))

    def warm(self, phrases: Iterable[tuple[str, str | None]]) -> int:
        """Synthesize the phrases this engine can speak (blocking); returns how many."""
        n = 0
        for text, language in phrases:
            lang = (language or "en").split("-")[0].lower()
            if lang not in self.tts.capabilities.languages or self.get(text, language):
                continue
            stream = None
            out = bytearray()
            for chunk in self.tts.synthesize_stream(text, language=language):
                if stream is None and chunk.sample_rate_hz != PIPELINE_RATE_HZ:
                    stream = soxr.ResampleStream(chunk.sample_rate_hz, PIPELINE_RATE_HZ, 1, "int16")
                out += to_pipeline_rate(chunk.pcm16, chunk.sample_rate_hz, stream)
            out += flush(stream)
            with self._lock:
                self._audio[self._key(text, language)] = bytes(out)
                while len(self._audio) > self.max_phrases:
                    self._audio.popitem(last=False)
            n += 1
        return n


def _lang(language: str | None, default: str = "en") -> str:
    return (language or default).split("-")[0].lower()


class LanguageRoutedTTS:
    """One ``TextToSpeech`` over a voice per language (auto-detect calls answer in the
    caller's language); text without a language goes to the first voice."""

    def __init__(self, voices: dict[str, TextToSpeech]) -> None:
        self.voices = dict(voices)
        self.default = next(iter(self.voices))
        first = self.voices[self.default].capabilities
        self.capabilities = Capabilities(
            languages=tuple(self.voices), sample_rate_hz=first.sample_rate_hz
        )

    def synthesize_stream(self, text: str, *, language: str | None = None) -> Iterator[AudioChunk]:
        lang = _lang(language, self.default)
        voice = self.voices.get(lang, self.voices[self.default])
        return voice.synthesize_stream(text, language=lang if lang in self.voices else None)


class PhraseCaches:
    """Per-language phrase caches behind the one ``get`` the speech stage calls."""

    def __init__(self, caches: dict[str, PhraseCache], default: str = "en") -> None:
        self.caches = dict(caches)
        self.default = default

    def get(self, text: str, language: str | None) -> bytes | None:
        lang = _lang(language, self.default)
        cache = self.caches.get(lang)
        return cache.get(text, lang) if cache else None


class SpeechStage(FrameProcessor):
    """``BotSpeechFrame`` → ``BotAudioFrame`` chunks (the last one flagged), cancellable."""

    def __init__(
        self,
        *,
        tts: TextToSpeech,
        trace: CallTrace,
        cache: PhraseCache | PhraseCaches | None = None,
        **kw: object,
    ) -> None:
        super().__init__(**kw)
        self.tts = tts
        self.trace = trace
        self.cache = cache
        self._queue: asyncio.Queue[BotSpeechFrame] = asyncio.Queue()
        self._worker: asyncio.Task | None = None
        self._stop = threading.Event()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, BotSpeechFrame):
            if self._worker is None:
                self._worker = self.create_task(self._run())
            self._queue.put_nowait(frame)
            return
        if isinstance(frame, InterruptionFrame | EndFrame | CancelFrame):
            await self._reset()
        await self.push_frame(frame, direction)

    async def cleanup(self) -> None:
        await super().cleanup()
        await self._reset()

    async def _reset(self) -> None:
        self._stop.set()
        worker, self._worker = self._worker, None
        if worker is not None:
            await self.cancel_task(worker)
        self._queue = asyncio.Queue()
        self._stop = threading.Event()

    async def _run(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                await self._speak(frame)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # one failed reply is reported; the call goes on
                self.trace.publish(
                    ContactError(
                        contact_id=self.trace.contact_id,
                        at=self.trace.clock.now(),
                        code=getattr(e, "code", "tts_failed"),
                        message=str(e),
                        stage="tts",
                        recoverable=True,
                    )
                )
            await self.push_frame(BotAudioFrame(turn=frame.turn, kind=frame.kind, last=True))

    async def _speak(self, frame: BotSpeechFrame) -> None:
        t0 = time.monotonic()
        cached = self.cache.get(frame.text, frame.language) if self.cache else None
        if cached is not None:
            self.trace.stage("tts_first_chunk", started_mono=t0, turn=frame.turn, detail="cache")
            await self.push_frame(
                BotAudioFrame(
                    pcm16=cached,
                    turn=frame.turn,
                    kind=frame.kind,
                    speech_end_mono=frame.speech_end_mono,
                )
            )
            return
        first = True
        async for pcm in self._synthesize(frame.text, frame.language):
            if first:
                self.trace.stage("tts_first_chunk", started_mono=t0, turn=frame.turn)
                first = False
            await self.push_frame(
                BotAudioFrame(
                    pcm16=pcm,
                    turn=frame.turn,
                    kind=frame.kind,
                    speech_end_mono=frame.speech_end_mono,
                )
            )
        self.trace.stage("tts", started_mono=t0, turn=frame.turn)

    async def _synthesize(self, text: str, language: str | None):  # -> AsyncIterator[bytes]
        """Run the blocking engine in a thread; chunks cross to the loop through a queue."""
        loop = asyncio.get_running_loop()
        q: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        stop = self._stop

        def produce() -> None:
            stream = None
            try:
                for chunk in self.tts.synthesize_stream(text, language=language):
                    if stop.is_set():
                        break
                    if stream is None and chunk.sample_rate_hz != PIPELINE_RATE_HZ:
                        stream = soxr.ResampleStream(
                            chunk.sample_rate_hz, PIPELINE_RATE_HZ, 1, "int16"
                        )
                    pcm = to_pipeline_rate(chunk.pcm16, chunk.sample_rate_hz, stream)
                    loop.call_soon_threadsafe(q.put_nowait, pcm)
                if not stop.is_set() and (tail := flush(stream)):
                    loop.call_soon_threadsafe(q.put_nowait, tail)
            except Exception as e:  # handed to the loop and re-raised there
                loop.call_soon_threadsafe(q.put_nowait, e)
            finally:
                loop.call_soon_threadsafe(q.put_nowait, None)

        fut = loop.run_in_executor(None, produce)
        try:
            while (item := await q.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            if not fut.done():
                stop.set()
