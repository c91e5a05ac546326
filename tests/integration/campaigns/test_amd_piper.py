"""AMD accuracy on clips voiced by our own Piper TTS (the voice a campaign would hear)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bots.campaigns.amd import detect
from tests.fakes.amd_clips import make_clips, piper_synth

pytestmark = pytest.mark.slow


def test_accuracy_on_piper_clips() -> None:
    from models import CATALOG, Registry
    from tts.errors import TTSError
    from tts.piper import PiperTTS

    try:
        tts = PiperTTS(Registry(CATALOG, models_dir=Path("var/models")), steady=True)
        clips = make_clips(piper_synth(tts), per_text=1)
    except TTSError as e:
        pytest.skip(f"Piper voice unavailable: {e}")
    confusion: Counter[tuple[str, str]] = Counter()
    for c in clips:
        confusion[(c.label, detect(c.samples, c.sample_rate_hz).label.value)] += 1
    accuracy = sum(v for (a, b), v in confusion.items() if a == b) / len(clips)
    assert accuracy >= 0.85, confusion
