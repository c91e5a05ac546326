"""Real-model fixtures for ASR/TTS integration tests: each model loads once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asr.faster_whisper import FasterWhisperSTT
from models import CATALOG, Registry
from tts.piper import PiperTTS

REPO = Path(__file__).resolve().parents[3]
FSDD = Path(os.environ.get("HOTLINE_SHARED_DATA", REPO.parent / "shared" / "data")) / "fsdd"


@pytest.fixture(scope="session")
def registry() -> Registry:
    # the product's default models dir, so whisper-base is joined once and reused
    return Registry(CATALOG, models_dir=REPO / "var" / "models")


@pytest.fixture(scope="session")
def tiny_en(registry: Registry) -> FasterWhisperSTT:
    stt = FasterWhisperSTT(registry, model="whisper-tiny-en")
    stt.warm_up()
    return stt


@pytest.fixture(scope="session")
def piper(registry: Registry) -> PiperTTS:
    return PiperTTS(registry, steady=True)


@pytest.fixture(scope="session")
def fsdd_dir() -> Path:
    recordings = FSDD / "recordings"
    if not recordings.is_dir():
        pytest.skip(f"FSDD not available at {recordings}")
    return recordings
