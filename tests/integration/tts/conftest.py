"""Real-model fixtures for TTS integration tests (each model loads once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr.faster_whisper import FasterWhisperSTT
from models import CATALOG, Registry
from tts.kokoro import KokoroTTS
from tts.piper import PiperTTS

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def tts_registry() -> Registry:
    return Registry(CATALOG, models_dir=REPO / "var" / "models")


@pytest.fixture(scope="session")
def joe(tts_registry: Registry) -> PiperTTS:
    return PiperTTS(tts_registry)


@pytest.fixture(scope="session")
def listener(tts_registry: Registry) -> FasterWhisperSTT:
    """tiny.en shares the process-wide model with the ASR tests (Registry.shared)."""
    return FasterWhisperSTT(tts_registry, model="whisper-tiny-en")


@pytest.fixture(scope="session")
def multilingual_listener(tts_registry: Registry) -> FasterWhisperSTT:
    return FasterWhisperSTT(tts_registry, model="whisper-base")


@pytest.fixture(scope="session")
def kokoro(tts_registry: Registry) -> KokoroTTS:
    """The default Mandarin voice (joins the Kokoro parts into var/models on first use)."""
    return KokoroTTS(tts_registry)
