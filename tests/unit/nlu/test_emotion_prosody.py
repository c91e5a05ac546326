"""Prosody features on synthetic audio; emotion fusion and escalation rules."""

import numpy as np
import pytest

from nlu.emotion import TAXONOMY, fuse_prosody, taxonomy_label
from nlu.errors import NluInputError
from nlu.prosody import Prosody, extract_prosody

SR = 16_000


def tone(amp: float, f0: float, syll_hz: float, seconds: float = 2.0) -> bytes:
    t = np.arange(int(SR * seconds)) / SR
    x = amp * np.sin(2 * np.pi * f0 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * syll_hz * t))
    return (x * 32767).astype("<i2").tobytes()


def test_pitch_energy_rate_follow_the_signal():
    calm = extract_prosody(tone(0.05, 140, 3), SR)
    loud = extract_prosody(tone(0.6, 260, 6), SR)
    assert calm.pitch_hz == pytest.approx(140, rel=0.05)
    assert loud.pitch_hz == pytest.approx(260, rel=0.05)
    assert loud.energy_db > calm.energy_db + 15
    assert loud.speech_rate_sps > calm.speech_rate_sps
    assert loud.arousal() > calm.arousal()


def test_silence_and_short_audio():
    assert extract_prosody(b"\x00\x00" * 8000, SR).voiced_ratio == 0.0
    assert extract_prosody(b"\x01", SR).duration_s == 0.0
    with pytest.raises(NluInputError):
        extract_prosody(b"\x00" * 100, 1000)


def test_fusion_moves_mass_by_arousal():
    p = np.full(len(TAXONOMY), 1 / len(TAXONOMY))
    hi, lo = fuse_prosody(p, 0.9), fuse_prosody(p, -0.9)
    assert hi[TAXONOMY.index("angry")] > p[0] and hi[TAXONOMY.index("neutral")] < p[0]
    assert lo[TAXONOMY.index("sad")] > p[0]
    assert hi.sum() == pytest.approx(1) and lo.sum() == pytest.approx(1)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [(["anger", "annoyance"], "angry"), (["gratitude"], "satisfied"), (["nervousness", "joy"], "anxious"),  # noqa: E501
     (["disappointment"], "frustrated"), (["neutral"], "neutral"), ([], "neutral"), (["grief"], "sad")],  # noqa: E501
)  # fmt: skip
def test_goemotions_mapping(labels, expected):
    assert taxonomy_label(labels) == expected


@pytest.mark.parametrize(
    ("text", "lang", "label", "escalate"),
    [
        ("this is ridiculous and unacceptable, get me your supervisor", "en", "angry", True),
        ("thank you, that was really helpful", "en", "satisfied", False),
        ("I'm worried my card was stolen", "en", "anxious", False),
        ("what time do you open", "en", "neutral", False),
        ("太过分了，我要投诉", "zh", "angry", True),
        ("谢谢，非常满意", "zh", "satisfied", False),
        ("我很担心，怎么办", "zh", "anxious", False),
    ],
)
def test_emotion_labels_and_escalation(fake_emotion, fake_factory, text, lang, label, escalate):
    name = "e5-small-multilingual" if lang == "zh" else "minilm-l6-v2"
    vec = fake_factory(name).encode([text])[0]
    res = fake_emotion.predict(text, language=lang, embedding=(name, vec))
    assert (res.label, res.escalate) == (label, escalate)
    assert -1 <= res.sentiment <= 1
    assert set(res.scores) == set(TAXONOMY)


def test_prosody_can_trigger_escalation(fake_emotion, fake_factory):
    text = "I need to talk about my bill"
    vec = fake_factory("minilm-l6-v2").encode([text])[0]
    shouting = Prosody(-8.0, 280.0, 70.0, 7.0, 0.9, 2.0)
    calm = fake_emotion.predict(text, language="en", embedding=("minilm-l6-v2", vec))
    hot = fake_emotion.predict(
        text, language="en", prosody=shouting, embedding=("minilm-l6-v2", vec)
    )
    assert hot.prosody_arousal > 0.6
    assert hot.escalate and not calm.escalate
