"""A real voice call waits for a person, hears hold music and a position/wait message, and
asks for a callback instead — through the browser websocket transport, with Piper-spoken
caller turns, Silero VAD, smart-turn, Whisper and the dialogue engine (keyword NLU: this
test is about the voice path). Every wait is on an event (a reply text, the hold loop's
own audio arriving, the socket closing), never on a duration.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import time
from pathlib import Path

import pytest

from bench.voice_callers import SILENCE, BrowserCaller
from bots.hold import hold_music
from tests.unit.bots.conftest import make_harness

pytestmark = pytest.mark.slow
WAIT_S = 120.0  # generous: two loaded cores run Whisper, Piper and smart-turn here


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HoldCaller(BrowserCaller):
    """A browser caller that also notes which audio it got after which reply (hold music
    never goes quiet, so "wait until the bot is quiet" cannot be used while holding)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.music = hold_music()
        self.audio: list[tuple[int, bool]] = []  # (replies so far, chunk is hold music)
        self.closed = asyncio.Event()

    async def _receive(self) -> None:
        assert self._ws is not None
        try:
            async for msg in self._ws:
                if isinstance(msg, bytes):
                    self._last_audio = time.monotonic()
                    self.audio.append((len(self.log.replies), msg in self.music))
                    continue
                data = json.loads(msg)
                if data.get("type") == "reply":
                    self.log.replies.append(data["text"])
                elif data.get("type") == "transcript":
                    self.log.transcripts.append(data["text"])
                elif data.get("type") == "session":
                    self.log.contact_id = data["contact_id"]
        finally:
            self.closed.set()

    def music_after(self, n_replies: int) -> int:
        return sum(1 for n, music in self.audio if music and n >= n_replies)

    def reply_with(self, words: str, after: int = 0) -> str | None:
        return next((r for r in self.log.replies[after:] if words in r), None)

    async def until(self, cond, what: str) -> None:  # type: ignore[no-untyped-def]
        """Keep the microphone open (silence) until ``cond()``; fail naming ``what``."""
        if not await self._silence_until(cond, WAIT_S):
            raise AssertionError(f"timed out waiting for {what}; replies: {self.log.replies}")

    async def speak(self, pcm16: bytes) -> None:
        await self._send_frames(pcm16)

    async def _send_frames(self, pcm16: bytes) -> None:
        from websockets.exceptions import ConnectionClosed

        if self.closed.is_set():  # the bot hung up: the microphone has nowhere to go
            await asyncio.sleep(0.02)
            return
        try:
            await super()._send_frames(pcm16)
        except ConnectionClosed:
            await self.closed.wait()


async def test_caller_holds_hears_position_and_books_a_callback(
    voice_engines, say, tmp_path: Path
) -> None:
    import uvicorn
    import websockets
    from fastapi import FastAPI

    from bots.dialogue_responder import DialogueResponder
    from bots.voice_pipeline import VoiceConfig, make_voice_factory
    from channels.api import build_router
    from core.clock import SystemClock

    h = await make_harness(tmp_path)
    engines = dataclasses.replace(voice_engines, responder=DialogueResponder(h.service))
    factory = make_voice_factory(
        engines,
        bus=h.bus,
        clock=SystemClock(),
        recordings_dir=None,
        config=VoiceConfig(announcement=None, greeting=None, hold_announce_every_s=3.0),
    )
    app = FastAPI()
    app.include_router(build_router(voice_factory=factory))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    caller = HoldCaller(f"ws://127.0.0.1:{port}/voice/browser")
    try:
        async with asyncio.timeout(20):
            while not server.started:
                await asyncio.sleep(0.05)
        async with websockets.connect(caller.url, max_size=None) as ws:
            caller._ws = ws
            recv = asyncio.create_task(caller._receive())
            await caller.speak(SILENCE * 50)
            # 1. Ask for a person: the handoff reply gives the queue position and wait.
            await caller.speak(say("I would like to talk to a person, please."))
            await caller.until(lambda: caller.reply_with("in the queue"), "the handoff reply")
            handoff_at = len(caller.log.replies)
            # 2. On hold: the hold loop plays, then a position/wait message is spoken.
            await caller.until(lambda: caller.music_after(handoff_at) >= 25, "hold music")
            await caller.until(
                lambda: caller.reply_with("You are number", after=handoff_at),
                "a position/wait message",
            )
            message_at = len(caller.log.replies)
            await caller.until(lambda: caller.music_after(message_at) >= 10, "music again")
            # 3. Ask for a callback instead: the bot asks for the number, books it, hangs up.
            await caller.speak(say("Please call me back."))
            await caller.until(
                lambda: caller.reply_with("Which phone number", after=message_at),
                "the callback question",
            )
            asked_at = len(caller.log.replies)
            # one breath, no commas: a pause between digit groups would end the turn
            number = say("My number is two zero two five five five zero one four three.")
            await caller.until(caller._bot_quiet, "the question to be spoken")
            await caller.speak(number)
            await caller.until(
                lambda: (
                    caller.closed.is_set()
                    or bool(caller.reply_with("Which phone number", after=asked_at))
                ),
                "the callback confirmation or a re-ask",
            )
            if not caller.closed.is_set():  # Whisper misheard the digits once: say them again
                await caller.until(caller._bot_quiet, "the re-ask to be spoken")
                await caller.speak(number)
            await caller.until(caller.closed.is_set, "the bot to hang up")
            await asyncio.wait_for(recv, WAIT_S)
        booked = caller.reply_with("call you back on", after=asked_at)
        assert booked, caller.log.replies
        # the hold music stopped when the caller chose the callback flow
        assert caller.music_after(caller.log.replies.index(booked)) == 0

        rows = await h.service.desk.waiting()  # type: ignore[union-attr]
        assert len(rows) == 1 and rows[0]["status"] == "callback"
        assert sum(c.isdigit() for c in rows[0]["callback_phone"]) >= 7
        events = await h.drained()
        cid = caller.log.contact_id
        ended = [e for e in events if e.type == "contact.ended" and e.contact_id == cid]
        assert len(ended) == 1
        assert (ended[0].reason, ended[0].outcome) == ("bot_ended", "handed_off")
        packets = [e for e in events if e.type == "handoff.requested"]
        assert [(p.contact_id, p.channel) for p in packets] == [(cid, "voice")]
        hold_msgs = [e.text for e in events if e.type == "bot.reply" and "expected wait" in e.text]
        assert hold_msgs and hold_msgs[0].startswith("You are number 1 in the queue;")
        stages = {e.stage: e.detail for e in events if e.type == "stage.timed"}
        assert "hold_audio" in stages and "hold" in stages
        assert "until bot" in (stages["hold"] or "")  # hold ended when the callback began
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        await h.bus.close()
        await h.store.close()
