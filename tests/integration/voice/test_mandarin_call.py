"""A Mandarin call end to end over the browser websocket: ``?language=zh`` picks whisper-base
(Simplified-script prompt) and the Kokoro Mandarin voice (eSpeak NG without its packages).

The Mandarin engines load once per process; here before the calls (as the app preloads them
after start-up), so a loaded CPU spends the Kokoro warm-up outside the call's time limits.
The caller's question is synthesized by eSpeak NG. Whisper-base reads eSpeak's robotic
Mandarin back at high CER, so the question is one measured to round-trip to its FAQ entry:
"我的银行卡丢了" → "我的天先卡丢了。" (丢 matches lost_card); "你们银行几点开门" did not.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soxr

from bench.voice_callers import BrowserCaller, Utterance, trim_silence

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed"),
]

QUESTION = "我的银行卡丢了"
LOST_CARD_ZH = "为了您的安全，我已冻结您的银行卡。新卡将在五个工作日内寄到。"


@pytest.fixture(scope="module")
def zh_engines(voice_engines):  # type: ignore[no-untyped-def]
    return voice_engines.for_language("zh")


@pytest.fixture(scope="module")
def zh_question() -> bytes:
    from tts.espeak import EspeakNgTTS

    chunks = list(EspeakNgTTS().synthesize_stream(QUESTION, language="zh"))
    x = np.frombuffer(b"".join(c.pcm16 for c in chunks), dtype="<i2")
    return trim_silence(soxr.resample(x, chunks[0].sample_rate_hz, 16_000).astype("<i2").tobytes())


async def test_mandarin_question_gets_the_chinese_faq_answer(
    voice_server, voice_engines, zh_engines, zh_question
) -> None:
    caller = BrowserCaller(f"{voice_server.ws}/voice/browser?language=zh")
    log = await caller.run([Utterance(QUESTION, zh_question)], timeout_s=90)

    await voice_server.wait_for(lambda: voice_server.of("contact.ended"), 60)
    started = voice_server.of("contact.started")
    assert [e.language for e in started] == ["zh"]
    finals = [e for e in voice_server.of("transcript.final") if e.text]
    assert finals, log.transcripts
    assert finals[0].language == "zh"
    assert any("\u4e00" <= ch <= "\u9fff" for ch in finals[0].text), finals[0].text
    assert "丢" in finals[0].text
    replies = voice_server.of("bot.reply")
    assert [e.text for e in replies] == [LOST_CARD_ZH], (finals, replies)
    assert replies[0].language == "zh"
    assert log.replies == [LOST_CARD_ZH]
    assert log.turns[0].first_audio_mono is not None  # the Mandarin answer was played
    # the Mandarin engines were loaded once and every zh call shares them
    zh = voice_engines.languages["zh"]
    assert zh is zh_engines and voice_engines.for_language("zh") is zh
    assert "zh" in zh.tts.capabilities.languages
    assert type(zh.tts).__name__ == "KokoroTTS"


async def test_auto_language_call_detects_mandarin_and_answers_in_it(
    voice_server, zh_engines, zh_question
) -> None:
    caller = BrowserCaller(f"{voice_server.ws}/voice/browser?language=auto")
    log = await caller.run([Utterance(QUESTION, zh_question)], timeout_s=90)

    await voice_server.wait_for(lambda: voice_server.of("contact.ended"), 60)
    assert [e.language for e in voice_server.of("contact.started")] == [None]
    finals = [e for e in voice_server.of("transcript.final") if e.text]
    assert finals and finals[0].language == "zh", finals
    replies = voice_server.of("bot.reply")
    assert [(e.text, e.language) for e in replies] == [(LOST_CARD_ZH, "zh")], (finals, replies)
    assert log.turns[0].first_audio_mono is not None
