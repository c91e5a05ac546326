"""Hotline's own pipecat frames for the voice pipeline (turns, replies, playback control).

System frames jump the processors' queues, so turn and playback control reach the playback
stage even while a transcription or a synthesis is in flight (pipecat frame priorities).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipecat.frames.frames import DataFrame, SystemFrame


@dataclass
class SpeechPausedFrame(SystemFrame):
    """The caller went quiet (VAD stop): the turn *may* be over; STT may start speculatively."""

    turn: int = 0
    pcm16: bytes = b""
    sample_rate_hz: int = 16_000
    speech_end_mono: float = 0.0


@dataclass
class SpeechResumedFrame(SystemFrame):
    """The caller spoke again before the turn ended: drop the speculative transcription."""

    turn: int = 0


@dataclass
class SpeculativeTextFrame(SystemFrame):
    """Upstream from STT: what the caller said up to the pause (for the turn decision)."""

    turn: int = 0
    n_bytes: int = 0
    text: str = ""


@dataclass
class TurnEndedFrame(SystemFrame):
    """End of the caller's turn (smart-turn said complete, or the silence limit passed)."""

    turn: int = 0
    pcm16: bytes = b""
    sample_rate_hz: int = 16_000
    speech_end_mono: float = 0.0
    reason: str = "smart_turn"
    overlapped: bool = False  # began while the bot was audible (maybe a back-channel)


@dataclass
class CallerTextFrame(DataFrame):
    """The final transcript of one caller turn, on its way to the responder."""

    turn: int = 0
    text: str = ""
    language: str | None = None
    speech_end_mono: float = 0.0
    overlapped: bool = False


@dataclass
class BotSpeechFrame(DataFrame):
    """Text the bot should say; ``kind`` is ``reply`` or ``announcement``."""

    text: str = ""
    language: str | None = None
    turn: int | None = None
    kind: str = "reply"
    speech_end_mono: float | None = None


@dataclass
class BotAudioFrame(DataFrame):
    """Synthesized bot audio at the pipeline rate, queued for paced playback."""

    pcm16: bytes = b""
    sample_rate_hz: int = 16_000
    turn: int | None = None
    kind: str = "reply"
    last: bool = False
    speech_end_mono: float | None = None  # end of the caller turn this answers


@dataclass
class PlaybackPauseFrame(SystemFrame):
    """Hold the bot's audio now (caller started talking over it); resume or drop later."""


@dataclass
class PlaybackResumeFrame(SystemFrame):
    """The caller's overlap was a back-channel ("uh-huh"): go on where playback stopped."""


@dataclass
class AnnouncementPlayedFrame(SystemFrame):
    """The compliance announcement finished playing: recording and listening may start."""


@dataclass
class PlaybackStateFrame(SystemFrame):
    """Sent upstream by the playback stage so turn-taking knows whether the bot is audible."""

    speaking: bool = False
    kind: str = "reply"
    extra: dict = field(default_factory=dict)
