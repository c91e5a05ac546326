"""What a channel hands the voice bot for one call, and the factory type it calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pipecat.processors.frame_processor import FrameProcessor


@dataclass
class CallSession:
    """One live call on a channel: its transports (pipecat processors) and what we know."""

    contact_id: str
    channel: str  # "browser" | "twilio" | "audiosocket"
    input: FrameProcessor
    output: FrameProcessor
    language: str | None = "en"  # "en", "zh" or "auto" (the bot detects it)
    metadata: dict[str, str] = field(default_factory=dict)


# Runs a call to its end (the composition root binds engines, bus and config).
VoiceFactory = Callable[[CallSession], Awaitable[object]]
