"""The voice pipeline's STT stage with the real tiny.en and the digits grammar: when the
dialogue's question wants four digits, a caller reading "4 5 3 2" over an 8 kHz phone line
(FSDD clips through μ-law) reaches the bot as "4532"; when it does not, the turn is free
transcription; and words said instead of digits stay words."""

from __future__ import annotations

from pathlib import Path

import pytest

from asr.digits import DigitRecognizer
from asr.faster_whisper import FasterWhisperSTT
from bots.frames import CallerTextFrame, TurnEndedFrame
from bots.stt_stage import WhisperSTTStage
from bots.trace import CallTrace
from core.clock import SystemClock
from tests.integration.asr.test_digits_real_audio import joined
from tests.pipeline_harness import StageRun

pytestmark = pytest.mark.slow
CARD_END = ["4_theo_12.wav", "5_jackson_20.wav", "3_theo_31.wav", "2_jackson_44.wav"]


@pytest.fixture(scope="module")
def digits(tiny_en: FasterWhisperSTT) -> DigitRecognizer:
    rec = DigitRecognizer(tiny_en)
    rec.warm_up()
    return rec


async def _heard(tiny_en, digits, pcm16: bytes, expects: int | None) -> tuple[str, list]:  # type: ignore[no-untyped-def]
    async def probe() -> int | None:
        return expects

    trace_events: list = []
    trace = CallTrace(contact_id="c1", bus=None, clock=SystemClock())
    trace.stage = lambda name, **kw: trace_events.append((name, kw.get("detail")))  # type: ignore[method-assign]
    stage = WhisperSTTStage(
        stt=tiny_en, trace=trace, language="en", digits=digits, expects_digits=probe
    )
    async with StageRun(stage, timeout_s=120) as run:
        await run.send([TurnEndedFrame(turn=1, pcm16=pcm16)])
        out = await run.wait(lambda o: bool(o.of(CallerTextFrame)))
    return out.of(CallerTextFrame)[0].text, trace_events


async def test_expected_digits_are_read_with_the_grammar(tiny_en, digits, fsdd_dir: Path) -> None:  # type: ignore[no-untyped-def]
    text, stages = await _heard(tiny_en, digits, joined(fsdd_dir, CARD_END), expects=4)
    assert text == "4532"
    assert any(name == "asr_digits" and "used=True" in (d or "") for name, d in stages)


async def test_without_a_digits_question_the_turn_is_free_text(
    tiny_en, digits, fsdd_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    _, stages = await _heard(tiny_en, digits, joined(fsdd_dir, CARD_END), expects=None)
    assert not any(name == "asr_digits" for name, _ in stages)


async def test_words_instead_of_digits_stay_words(tiny_en, digits, piper) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import soxr

    chunks = list(piper.synthesize_stream("I don't have my card with me."))
    x = np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2")
    pcm = soxr.resample(x, chunks[0].sample_rate_hz, 16_000).astype("<i2").tobytes()
    text, _ = await _heard(tiny_en, digits, pcm, expects=4)
    assert "card" in text.lower()
