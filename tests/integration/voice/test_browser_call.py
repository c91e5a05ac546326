"""Browser websocket transport → real pipeline (Silero, smart-turn, Whisper, FAQ, Piper)."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from bench.voice_callers import BrowserCaller, Utterance, stretch_pauses
from tests.integration.voice.conftest import ANNOUNCEMENT

pytestmark = pytest.mark.slow


async def test_two_turns_are_transcribed_answered_recorded_and_traced(voice_server, say) -> None:
    caller = BrowserCaller(f"{voice_server.ws}/voice/browser")
    log = await caller.run(
        [
            Utterance("What are your opening hours?", say("What are your opening hours?")),
            Utterance("I lost my card.", say("I lost my bank card yesterday.")),
        ]
    )
    assert len(log.transcripts) == 2
    # the FAQ keys on "opening"; tiny.en sometimes hears "hours" as "now is" under load
    assert "opening" in log.transcripts[0].lower()
    assert "lost" in log.transcripts[1].lower()
    assert log.replies[0].startswith("Our branches are open")
    assert log.replies[1].startswith("I have frozen your card")
    assert all(t.first_audio_mono is not None for t in log.turns)

    await voice_server.wait_for(lambda: voice_server.of("contact.ended"))
    assert len(voice_server.of("contact.started")) == 1
    finals = voice_server.of("transcript.final")
    assert [e.turn for e in finals] == [1, 2]
    assert all(e.contact_id == log.contact_id for e in finals)
    assert len(voice_server.of("bot.reply")) == 2
    stages = {e.stage for e in voice_server.of("stage.timed")}
    assert {
        "smart_turn",
        "turn_wait",
        "asr",
        "dialogue",
        "tts_first_chunk",
        "first_audio",
    } <= stages

    # recording: stereo, caller left / bot right, written at the end, announced first
    segments = voice_server.of("audio.segment")
    assert {e.speaker for e in segments} == {"customer", "bot"}
    path = voice_server.recordings / f"{log.contact_id}.wav"
    with wave.open(str(path)) as w:
        assert w.getnchannels() == 2 and w.getframerate() == 16_000
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert np.abs(frames[:, 0]).max() > 1000  # the caller's speech
    assert np.abs(frames[:, 1]).max() > 1000  # the bot's replies
    # recording starts after the compliance announcement: it is shorter than the call by it
    announcement_s = len(say(ANNOUNCEMENT)) / 2 / 16_000
    call_s = voice_server.of("contact.ended")[0].duration_s
    assert frames.shape[0] / 16_000 < call_s - 0.8 * announcement_s


async def test_card_number_read_in_groups_is_one_turn(voice_server, say) -> None:
    pcm, pauses = stretch_pauses(
        say("My card number is: four five three two, one two three four."), to_s=0.45
    )
    assert pauses == 2
    log = await BrowserCaller(f"{voice_server.ws}/voice/browser").run(
        [Utterance("card number", pcm)]
    )
    assert len(log.transcripts) == 1, log.transcripts
    assert log.replies and log.replies[0].startswith("Thank you, I have noted your card number")


async def test_backchannel_keeps_the_bot_talking_and_barge_in_cuts_it(voice_server, say) -> None:
    question = "What are your opening hours?"
    log = await BrowserCaller(f"{voice_server.ws}/voice/browser").run(
        [
            Utterance(question, say(question)),
            Utterance("uh-huh", say("Uh-huh."), barge_in_after_s=0.8),
            Utterance(
                "barge-in",
                say("Actually I lost my card and need to block it."),
                barge_in_after_s=1.0,
            ),
        ]
    )
    assert log.replies[0].startswith("Our branches are open")
    # "uh-huh" was not answered and did not clear playback; the real barge-in did both
    assert log.clears >= 1, (
        log.transcripts,
        log.replies,
        [
            (e.stage, e.turn, e.detail)
            for e in voice_server.of("stage.timed")
            if e.stage in ("barge_in", "turn_wait")
        ],
    )
    assert len(log.replies) == 2, (log.transcripts, log.replies)
    assert log.replies[1].startswith("I have frozen your card")
    full_reply_s = len(say(log.replies[0])) / 2 / 16_000
    first_reply_heard = log.turns[0].bot_audio_s + log.turns[1].bot_audio_s
    assert log.turns[1].bot_audio_s > 0.5  # playback went on after the uh-huh
    assert first_reply_heard < 0.9 * full_reply_s  # and was cut by the barge-in
    await voice_server.wait_for(lambda: voice_server.of("contact.ended"))
    assert "barge_in" in {e.stage for e in voice_server.of("stage.timed")}
    assert [e.text for e in voice_server.of("bot.reply")] == log.replies


async def test_dropped_socket_still_ends_the_call_with_its_recording(voice_server, say) -> None:
    import websockets

    async with websockets.connect(f"{voice_server.ws}/voice/browser") as ws:
        await ws.send(say("What are your opening hours?"))
    await voice_server.wait_for(lambda: voice_server.of("contact.ended"))
    assert len(voice_server.of("audio.segment")) == 2
    assert list(voice_server.recordings.glob("*.wav"))
