"""Real models, real transports: a uvicorn server on loopback with the voice routers mounted,
one set of engines per session, and caller speech synthesized by our own Piper voice."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soxr

from bench.voice_callers import trim_silence

REPO = Path(__file__).resolve().parents[3]
ANNOUNCEMENT = "This call may be recorded."  # short, so the tests spend little time on it


@pytest.fixture(scope="session")
def voice_engines():
    from bots.voice_pipeline import build_voice_engines
    from models import CATALOG, Registry

    registry = Registry(CATALOG, models_dir=REPO / "var" / "models")
    try:
        engines = build_voice_engines(registry)
    except Exception as e:  # models not installed: skip with the reason
        pytest.skip(f"voice models unavailable: {e}")
    assert engines.phrase_cache is not None
    engines.phrase_cache.warm([(ANNOUNCEMENT, "en")])
    return engines


@pytest.fixture(scope="session")
def say(voice_engines):
    """Text → 16 kHz PCM16 speech (trimmed) from the Piper voice; cached per text.

    The caller's voice is steady (no generator noise), so every run sends the same audio."""
    from tts.piper import PiperTTS

    caller_voice = PiperTTS(voice_engines.tts.registry, steady=True)
    cache: dict[str, bytes] = {}

    def synth(text: str) -> bytes:
        if text not in cache:
            chunks = list(caller_voice.synthesize_stream(text))
            rate = chunks[0].sample_rate_hz
            x = np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2")
            cache[text] = trim_silence(soxr.resample(x, rate, 16_000).astype("<i2").tobytes())
        return cache[text]

    return synth


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(16_000 * seconds)


@dataclass
class VoiceServer:
    port: int
    events: list = field(default_factory=list)
    recordings: Path | None = None
    results: list = field(default_factory=list)

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def of(self, type_: str) -> list:
        return [e for e in self.events if e.type == type_]

    async def wait_for(self, cond, timeout_s: float = 30.0) -> None:
        async def loop() -> None:
            while not cond():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(loop(), timeout_s)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def voice_server(voice_engines, tmp_path) -> AsyncIterator[VoiceServer]:
    import uvicorn
    from fastapi import FastAPI

    from bots.voice_pipeline import VoiceConfig, make_voice_factory
    from channels.api import build_page_router, build_router
    from core.bus.memory import MemoryBus
    from core.clock import SystemClock

    bus = MemoryBus()
    server_info = VoiceServer(port=_free_port(), recordings=tmp_path / "recordings")

    async def keep(event) -> None:
        server_info.events.append(event)

    bus.subscribe("test", keep)
    await bus.start()
    factory = make_voice_factory(
        voice_engines,
        bus=bus,
        clock=SystemClock(),
        recordings_dir=server_info.recordings,
        config=VoiceConfig(announcement=ANNOUNCEMENT, greeting=None),
    )

    async def recorded_factory(session):
        result = await factory(session)
        server_info.results.append(result)
        return result

    server_info.factory = recorded_factory  # type: ignore[attr-defined]
    app = FastAPI()
    app.include_router(build_router(voice_factory=recorded_factory))
    app.include_router(build_page_router())
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=server_info.port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    await server_info.wait_for(lambda: server.started, 20)
    yield server_info
    server.should_exit = True
    await asyncio.wait_for(task, 30)
    await bus.close()
