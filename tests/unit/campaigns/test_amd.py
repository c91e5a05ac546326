"""AMD on synthetic clips: short "Hello?" greetings vs long voicemail greetings (± beep).

Measured (espeak-ng clips, 3 renditions of each of 11 human and 7 voicemail texts, seed 3):
50/54 = 92.6 % — human 30/33, machine 20/21. The misses are the deliberately long human
greeting ("Good afternoon, Robert Johnson speaking, how can I help you?" → machine, 3×) and
a short voicemail without a beep ("Please leave a message." → human). On Piper clips
(tests/integration/campaigns/test_amd_piper.py) 17/18 = 94.4 %.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bots.campaigns.amd import AmdLabel, detect
from tests.fakes.amd_clips import espeak, espeak_available, make_clips

pytestmark = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def clips():  # type: ignore[no-untyped-def]
    return make_clips(espeak, per_text=3)


def test_accuracy_on_espeak_clips(clips) -> None:
    confusion: Counter[tuple[str, str]] = Counter()
    for c in clips:
        confusion[(c.label, detect(c.samples, c.sample_rate_hz).label.value)] += 1
    accuracy = sum(v for (a, b), v in confusion.items() if a == b) / len(clips)
    assert accuracy >= 0.88, confusion
    human_recall = confusion[("human", "human")] / sum(
        v for (a, _), v in confusion.items() if a == "human"
    )
    assert human_recall >= 0.85, confusion  # hanging up on people is the costly error


def test_every_clip_with_a_beep_is_a_machine(clips) -> None:
    for c in clips:
        if c.beep:
            r = detect(c.samples, c.sample_rate_hz)
            assert r.label is AmdLabel.MACHINE, c.text


def test_a_pure_tone_is_a_beep_and_noise_is_not() -> None:
    sr = 8000
    t = np.arange(int(sr * 0.3)) / sr
    tone = (0.4 * 32767 * np.sin(2 * np.pi * 1400 * t)).astype(np.int16)
    pad = np.zeros(sr, dtype=np.int16)
    r = detect(np.concatenate([pad, tone, pad]), sr)
    assert r.label is AmdLabel.MACHINE and r.reason == "beep"
    assert 900 <= (r.beep_at_ms or 0) <= 1100
    noise = np.random.default_rng(0).normal(0, 3000, sr * 2).astype(np.int16)
    assert detect(np.concatenate([pad, noise, pad]), sr).beep_at_ms is None


def test_silence_only_is_not_called_human() -> None:
    r = detect(np.zeros(16000 * 5, dtype=np.int16), 16000)
    assert r.label is not AmdLabel.HUMAN
