"""The voice pipeline of one call, assembled in one place with explicit arguments.

    transport in → TurnTaker (Silero VAD + smart-turn, barge-in) → WhisperSTTStage
      → BackchannelGate → ResponderStage → [HoldController] → SpeechStage (TTS + phrase cache)
      → PlaybackStage (real-time pacing) → [HoldMusicStage] → transport out → CallRecorder

Audio inside is 16 kHz mono PCM16; transports resample at the edges (soxr). Engines are
shared by every call of the process (one Whisper, one Piper voice, one smart-turn session);
per call there is only the Silero VAD state and the buffers. Engines are per call language:
English (tiny.en + Piper) loads at start-up; Mandarin (multilingual whisper-base prompted for
Simplified script + the Kokoro-82M voice, eSpeak NG as the fallback) loads when the first
``zh`` call arrives or when the app preloads it after start-up; ``auto`` calls detect the
language with whisper-base and speak each reply with the voice of the detected language.
Every stage publishes its events with ``publish_nowait``: the pipeline never awaits the bus,
the store or a subscriber.
With a responder that knows the conversation (``ConversationAware``: the dialogue engine),
the bracketed stages join: a caller handed off to a person hears hold music and periodic
position/wait messages until an agent joins (``bots.hold``), the call hangs up after the
bot's last words when the conversation ends (e.g. a callback was booked), and
``contact.ended`` carries the containment outcome, as on chat.
The transports come from ``channels/`` as plain pipecat ``FrameProcessor``s: the input one
pushes 16 kHz ``InputAudioRawFrame``s and a ``CancelTaskFrame`` upstream on hang-up; the
output one sends ``OutputAudioRawFrame``s and clears the far end on ``InterruptionFrame``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    ErrorFrame,
    Frame,
    StartFrame,
    UserStartedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.workers.runner import WorkerRunner

from asr.base import SpeechToText
from asr.digits import DigitRecognizer
from bots.end_of_turn import SmartTurnModel
from bots.errors import VoiceCallError
from bots.frames import BotSpeechFrame
from bots.hold import HoldController, HoldMusicStage, hold_music
from bots.playback import PlaybackStage
from bots.recording import CallRecorder
from bots.reply_stage import BackchannelGate, ResponderStage
from bots.responder import ConversationAware, Responder
from bots.speech_stage import LanguageRoutedTTS, PhraseCache, PhraseCaches, SpeechStage
from bots.stt_stage import WhisperSTTStage
from bots.trace import CallTrace, StageRecord
from bots.turn_taking import TurnConfig, TurnTaker
from bots.whisper_window import live_turn_stt
from core.bus import Bus
from core.clock import Clock
from core.domain import Channel
from core.events import ContactEnded, ContactError, ContactStarted
from tts.base import TextToSpeech

PIPELINE_RATE_HZ = 16_000


AUTO = "auto"  # a call language: detect it per turn (whisper-base), answer in the detected one


def language_key(language: str | None) -> str:
    """``"zh-CN"`` → ``"zh"``; None / "" / "auto" → ``"auto"`` (detect)."""
    lang = (language or AUTO).split("-")[0].lower()
    return lang or AUTO


@dataclass
class LanguageEngines:
    """The speech engines of one call language (shared by every call in that language)."""

    stt: SpeechToText
    tts: TextToSpeech
    phrase_cache: PhraseCache | PhraseCaches | None = None


@dataclass
class VoiceEngines:
    """Process-wide collaborators every call shares (built once in ``app.py``).

    ``stt`` / ``tts`` / ``phrase_cache`` are the English engines; other languages come from
    ``loaders`` on first use (:meth:`for_language`) and stay loaded in ``languages``.
    """

    stt: SpeechToText
    tts: TextToSpeech
    smart_turn: SmartTurnModel
    responder: Responder
    phrase_cache: PhraseCache | None = None
    digits: DigitRecognizer | None = None  # English digits grammar on the shared tiny.en
    languages: dict[str, LanguageEngines] = field(default_factory=dict)
    loaders: dict[str, Callable[[], LanguageEngines]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def supports(self, language: str | None) -> bool:
        key = language_key(language)
        return key == "en" or key in self.languages or key in self.loaders

    def for_language(self, language: str | None) -> LanguageEngines:
        """The engines for a call language, loading them once (blocking: call it off the loop).

        Raises ``VoiceCallError`` for a language this process has no engines for.
        """
        key = language_key(language)
        if key == "en":
            return LanguageEngines(self.stt, self.tts, self.phrase_cache)
        if key in self.languages:
            return self.languages[key]
        with self._lock:  # re-entrant: the auto loader asks for zh
            if key not in self.languages:
                loader = self.loaders.get(key)
                if loader is None:
                    raise VoiceCallError(f"no voice engines for language {language!r}")
                self.languages[key] = loader()
            return self.languages[key]


@dataclass(frozen=True)
class VoiceConfig:
    """Per-call settings."""

    language: str | None = "en"
    announcement: str | None = "This call may be recorded for quality and training purposes."
    greeting: str | None = "Hello, this is Demo Bank. How can I help you today?"
    recordings_dir: Path | None = None
    turn: TurnConfig = field(default_factory=TurnConfig)
    beam_size: int = 1
    speculative_asr: bool = True
    idle_timeout_s: float = 120.0
    hold_announce_every_s: float = 30.0  # position/wait message while waiting for a person


@dataclass
class VoiceCall:
    """One assembled call: the pipeline plus the handles tests and benchmarks read."""

    contact_id: str
    pipeline: Pipeline
    trace: CallTrace
    turn_taker: TurnTaker
    playback: PlaybackStage
    recorder: CallRecorder
    config: VoiceConfig
    responder: Responder | None = None
    hold: HoldController | None = None
    hold_music: HoldMusicStage | None = None


@dataclass(frozen=True)
class CallResult:
    contact_id: str
    reason: str
    duration_s: float
    recording: Path | None
    stages: tuple[StageRecord, ...]
    outcome: str | None = None  # containment outcome when the dialogue engine answered


class ErrorReporter(FrameProcessor):
    """Turns transport ``ErrorFrame``s (garbage on the wire, wrong codec) into ``contact.error``."""

    def __init__(self, *, trace: CallTrace) -> None:
        super().__init__()
        self.trace = trace

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, ErrorFrame):
            code, _, message = frame.error.partition(": ")
            self.trace.publish(
                ContactError(
                    contact_id=self.trace.contact_id,
                    at=self.trace.clock.now(),
                    code=code if message else "transport_error",
                    message=message or frame.error,
                    stage="transport",
                    recoverable=not frame.fatal,
                )
            )
            return
        await self.push_frame(frame, direction)


class Opening(FrameProcessor):
    """Says the compliance announcement (not interruptible) and the greeting at call start."""

    def __init__(self, *, announcement: str | None, greeting: str | None, language: str | None):
        super().__init__()
        self.announcement = announcement
        self.greeting = greeting
        self.language = language

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, StartFrame):
            if self.announcement:
                await self.push_frame(
                    BotSpeechFrame(
                        text=self.announcement, language=self.language, kind="announcement"
                    )
                )
            if self.greeting:
                await self.push_frame(
                    BotSpeechFrame(text=self.greeting, language=self.language, kind="greeting")
                )


def build_voice_call(
    *,
    transport_in: FrameProcessor,
    transport_out: FrameProcessor,
    engines: VoiceEngines,
    bus: Bus | None,
    clock: Clock,
    config: VoiceConfig,
    contact_id: str | None = None,
) -> VoiceCall:
    """Assemble the per-call pipeline (no I/O until it runs; a language's engines that are not
    loaded yet load here, blocking: the voice factory loads them in a thread first)."""
    contact_id = contact_id or uuid.uuid4().hex
    speech = engines.for_language(config.language)
    trace = CallTrace(contact_id=contact_id, bus=bus, clock=clock)
    announce = bool(config.announcement)
    turn_taker = TurnTaker(
        smart_turn=engines.smart_turn, trace=trace, config=config.turn, listening=not announce
    )
    playback = PlaybackStage(trace=trace)
    recorder = CallRecorder(
        trace=trace, recordings_dir=config.recordings_dir, recording=not announce
    )
    hold = hold_music = None
    if isinstance(engines.responder, ConversationAware):
        hold = HoldController(
            conversation=engines.responder,
            trace=trace,
            announce_every_s=config.hold_announce_every_s,
        )
        hold_music = HoldMusicStage(trace=trace)
    stages: list[FrameProcessor | None] = [
        transport_in,
        ErrorReporter(trace=trace),
        turn_taker,
        WhisperSTTStage(
            stt=speech.stt,
            trace=trace,
            language=config.language,
            beam_size=config.beam_size,
            speculative=config.speculative_asr,
            # the digits grammar reads English digit answers (tiny.en); other languages: free
            digits=engines.digits if language_key(config.language) == "en" else None,
            expects_digits=_digits_probe(engines.responder, contact_id),
        ),
        BackchannelGate(),
        ResponderStage(responder=engines.responder, trace=trace, language=config.language),
        hold,
        Opening(
            announcement=config.announcement,
            greeting=config.greeting,
            language=config.language,
        ),
        SpeechStage(tts=speech.tts, trace=trace, cache=speech.phrase_cache),
        playback,
        hold_music,
        transport_out,
        recorder,
    ]
    pipeline = Pipeline([stage for stage in stages if stage is not None])
    return VoiceCall(
        contact_id,
        pipeline,
        trace,
        turn_taker,
        playback,
        recorder,
        config,
        responder=engines.responder,
        hold=hold,
        hold_music=hold_music,
    )


async def run_voice_call(
    call: VoiceCall,
    *,
    channel: Channel = Channel.VOICE,
    customer_id: str | None = None,
) -> CallResult:
    """Run one call to its end; the recording and ``contact.ended`` are saved whatever happens."""
    trace = call.trace
    t0 = time.monotonic()
    trace.publish(
        ContactStarted(
            contact_id=call.contact_id,
            at=trace.clock.now(),
            channel=channel,
            language=call.config.language,
            customer_id=customer_id,
        )
    )
    worker = PipelineWorker(
        call.pipeline,
        params=PipelineParams(
            audio_in_sample_rate=PIPELINE_RATE_HZ, audio_out_sample_rate=PIPELINE_RATE_HZ
        ),
        idle_timeout_secs=call.config.idle_timeout_s,
        idle_timeout_frames=(
            UserStartedSpeakingFrame,
            BotStartedSpeakingFrame,
            BotStoppedSpeakingFrame,
        ),
        enable_rtvi=False,
        check_dangling_tasks=False,
    )
    reason = "hangup"
    try:
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(worker)
        await runner.run()
    except Exception as e:  # reported as an event; the recording below is still saved
        reason = "error"
        trace.publish(
            ContactError(
                contact_id=call.contact_id,
                at=trace.clock.now(),
                code=getattr(e, "code", "voice_call_failed"),
                message=str(e),
                stage="pipeline",
            )
        )
    finally:
        if reason == "hangup" and call.hold is not None and call.hold.ended_by_bot:
            reason = "bot_ended"  # the conversation ended (e.g. callback booked): bot hung up
        recording = await call.recorder.save()
        outcome = await _outcome(call)
        duration_s = time.monotonic() - t0
        trace.publish(
            ContactEnded(
                contact_id=call.contact_id,
                at=trace.clock.now(),
                reason=reason,
                duration_s=duration_s,
                outcome=outcome,
            )
        )
    return CallResult(call.contact_id, reason, duration_s, recording, tuple(trace.records), outcome)


async def _outcome(call: VoiceCall) -> str | None:
    """Close the bot conversation and get its containment outcome (resolved by bot, handed
    off, abandoned), as the chat channel puts on ``contact.ended``; None without a bot."""
    if not isinstance(call.responder, ConversationAware):
        return None
    try:
        return await call.responder.hangup(call.contact_id)
    except Exception as e:  # the store failing must not lose contact.ended
        call.trace.publish(
            ContactError(
                contact_id=call.contact_id,
                at=call.trace.clock.now(),
                code=getattr(e, "code", "outcome_failed"),
                message=str(e),
                stage="dialogue",
                recoverable=True,
            )
        )
        return None


def _digits_probe(
    responder: Responder, contact_id: str
) -> Callable[[], Awaitable[int | None]] | None:
    """Asks the dialogue whether its pending question wants spoken digits (and how many)."""
    expected = getattr(responder, "expected_digits", None)
    if expected is None:
        return None

    async def probe() -> int | None:
        return await expected(contact_id)

    return probe


def _mandarin_voice(registry: object, zh_voice: str) -> TextToSpeech:
    """Kokoro (``kokoro:<pack>``) when its packages are installed, else eSpeak NG.

    Kokoro reads back at 9 % CER through our whisper-base against eSpeak's 56 % (issue 4,
    bench/tts_quality.py) but costs ~0.3 s CPU per second of speech, so fixed prompts come
    from the phrase cache."""
    from tts.errors import TTSModelUnavailable
    from tts.espeak import EspeakNgTTS

    if zh_voice.startswith("kokoro:"):
        from tts.kokoro import KokoroTTS

        try:
            voice = KokoroTTS(registry, voice=zh_voice.removeprefix("kokoro:"))  # type: ignore[arg-type]
            voice.warm_up()  # loads model + G2P once; raises if the packages are absent
            return voice
        except TTSModelUnavailable as e:
            structlog.get_logger(__name__).warning("voice.kokoro_unavailable", error=str(e))
            return EspeakNgTTS()
    return EspeakNgTTS(voice=zh_voice)


def build_voice_engines(
    registry: object,
    *,
    asr_model: str = "whisper-tiny-en",
    voice: str = "piper-joe-en-us",
    responder: Responder | None = None,
    warm_up: bool = True,
    languages: Sequence[str] = ("en",),
    zh_asr_model: str = "whisper-base",
    zh_voice: str = "kokoro:jm_kumo",
) -> VoiceEngines:
    """The process-wide engines for voice calls (load once at start-up, share across calls).

    English always loads here. Mandarin and auto-detect load on the first such call, or here
    when listed in ``languages`` (e.g. ``("en", "zh")``). With the FAQ responder, its answers
    and the announcement/greeting go into each language's phrase cache.
    """
    from asr.faster_whisper import FasterWhisperSTT
    from bots.faq_responder import FaqResponder
    from tts.piper import PiperTTS

    whisper = FasterWhisperSTT(registry, model=asr_model, compute_type="int8", beam_size=1)  # type: ignore[arg-type]
    stt = live_turn_stt(whisper)
    tts = PiperTTS(registry, voice=voice)  # type: ignore[arg-type]
    smart_turn = SmartTurnModel(registry)  # type: ignore[arg-type]
    responder = responder or FaqResponder()
    cache = PhraseCache(tts)
    phrases = [
        (VoiceConfig.announcement, "en"),
        (VoiceConfig.greeting, "en"),
        (_ZH_ANNOUNCEMENT, "zh"),
        (_ZH_GREETING, "zh"),
    ]
    if isinstance(responder, FaqResponder):
        phrases += responder.phrases()
    fixed = [(t, lang) for t, lang in phrases if t]
    hold_music()  # synthesized once per process, here (off the event loop), not mid-call
    if warm_up:
        whisper.warm_up()
        smart_turn.warm_up()
        cache.warm(fixed)
    digits = DigitRecognizer(whisper)  # same model object: no second copy of the weights
    if warm_up:
        digits.warm_up()
    engines = VoiceEngines(
        stt=stt,
        tts=tts,
        smart_turn=smart_turn,
        responder=responder,
        phrase_cache=cache,
        digits=digits,
    )

    def load_zh() -> LanguageEngines:
        zh_whisper = FasterWhisperSTT(
            registry,  # type: ignore[arg-type]
            model=zh_asr_model,
            compute_type="int8",
            beam_size=1,
        )
        zh_tts = _mandarin_voice(registry, zh_voice)
        zh_cache = PhraseCache(zh_tts)
        if warm_up:
            zh_whisper.warm_up()
            zh_cache.warm(fixed)  # Kokoro: ~1 s CPU a phrase (the zh ones), start-up only
        elif not zh_voice.startswith("kokoro:"):
            zh_cache.warm(fixed)  # eSpeak: ~20 ms a phrase
        return LanguageEngines(stt=live_turn_stt(zh_whisper), tts=zh_tts, phrase_cache=zh_cache)

    def load_auto() -> LanguageEngines:
        zh = engines.for_language("zh")  # its whisper-base is multilingual: it detects
        caches = {"en": cache}
        if isinstance(zh.phrase_cache, PhraseCache):
            caches["zh"] = zh.phrase_cache
        return LanguageEngines(
            stt=zh.stt,
            tts=LanguageRoutedTTS({"en": tts, "zh": zh.tts}),
            phrase_cache=PhraseCaches(caches),
        )

    engines.loaders.update(zh=load_zh, auto=load_auto)
    for language in languages:
        if language_key(language) != "en":
            engines.for_language(language)
    return engines


def make_voice_factory(
    engines: VoiceEngines,
    *,
    bus: Bus | None,
    clock: Clock,
    recordings_dir: Path | None,
    config: VoiceConfig | None = None,
):  # -> Callable[[session], Awaitable[CallResult]]
    """The ``voice_factory`` the channels call for each new call (session duck-typed:
    ``contact_id``, ``input``, ``output``, ``language``)."""
    base = config or VoiceConfig()

    async def voice_factory(session: object) -> CallResult:
        language = getattr(session, "language", None) or base.language
        if language_key(language) == AUTO:
            language = None  # Whisper detects it per turn; prompts stay in the base language
        if not engines.supports(language):
            language = base.language
        try:  # a language's first call loads its engines (seconds): keep the loop free
            await asyncio.to_thread(engines.for_language, language)
        except Exception as e:  # cannot load them: the call goes on in the base language
            if bus is not None:
                bus.publish_nowait(
                    ContactError(
                        contact_id=session.contact_id,  # type: ignore[attr-defined]
                        at=clock.now(),
                        code=getattr(e, "code", "voice_engines_unavailable"),
                        message=f"language {language!r}: {e}",
                        stage="engines",
                        recoverable=True,
                    )
                )
            language = "en"
        cfg = VoiceConfig(
            language=language,
            announcement=_localized(base.announcement, language, _ZH_ANNOUNCEMENT),
            greeting=_localized(base.greeting, language, _ZH_GREETING),
            recordings_dir=recordings_dir if recordings_dir is not None else base.recordings_dir,
            turn=base.turn,
            beam_size=base.beam_size,
            speculative_asr=base.speculative_asr,
            idle_timeout_s=base.idle_timeout_s,
            hold_announce_every_s=base.hold_announce_every_s,
        )
        call = build_voice_call(
            transport_in=session.input,  # type: ignore[attr-defined]
            transport_out=session.output,  # type: ignore[attr-defined]
            engines=engines,
            bus=bus,
            clock=clock,
            config=cfg,
            contact_id=session.contact_id,  # type: ignore[attr-defined]
        )
        # The caller's number, when the channel knows it (session.metadata["phone"]), lets
        # the dialogue identify the caller and book a callback without asking for it.
        ani = getattr(engines.responder, "ani", None)
        phone = (getattr(session, "metadata", None) or {}).get("phone")
        if isinstance(ani, dict) and phone:
            ani[session.contact_id] = phone  # type: ignore[attr-defined]
        try:
            return await run_voice_call(call)
        finally:
            if isinstance(ani, dict):
                ani.pop(session.contact_id, None)  # type: ignore[attr-defined]

    return voice_factory


def _localized(text: str | None, language: str | None, zh_text: str) -> str | None:
    """The Mandarin version of a configured English prompt (None stays None: no prompt)."""
    if text and (language or "").lower().startswith("zh"):
        return zh_text
    return text


_ZH_ANNOUNCEMENT = "本次通话可能会被录音，用于服务质量和培训。"
_ZH_GREETING = "您好，这里是演示银行。请问有什么可以帮您？"
