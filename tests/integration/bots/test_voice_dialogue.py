"""A real voice call through the browser websocket transport, answered by the dialogue flows.

Caller turns are synthesized by our Piper voice, transcribed by Whisper and answered by
``DialogueResponder`` (the same YAML flows as chat), then spoken back. Checks that the voice
path reaches the flows and that the bot's NLU events land on the call's own contact. The
understander is the keyword fake (this test is about the voice path; the stories cover the
real NLU).
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from pathlib import Path

import pytest

from bench.voice_callers import BrowserCaller, Utterance
from tests.integration.voice.conftest import say, voice_engines  # noqa: F401 - fixtures
from tests.unit.bots.conftest import make_harness

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_voice_call_runs_the_dialogue_flows(voice_engines, say, tmp_path: Path) -> None:  # noqa: F811
    import uvicorn
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
        config=VoiceConfig(announcement=None, greeting=None),
    )
    app = FastAPI()
    app.include_router(build_router(voice_factory=factory))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                await asyncio.sleep(0.05)
        log = await BrowserCaller(f"ws://127.0.0.1:{port}/voice/browser").run(
            [
                Utterance("hours", say("What are your opening hours?")),
                Utterance("lost card", say("I lost my bank card yesterday.")),
            ]
        )
        assert log.replies[0].startswith("Our branches are open Monday to Friday")
        assert "phone number or account number" in log.replies[1]
        events = await h.drained()
        nlu = [e for e in events if e.type == "nlu.result"]
        assert [e.intent.name for e in nlu] == ["branch_hours", "report_lost_card"]
        assert {e.contact_id for e in nlu} == {log.contact_id}
        assert len([e for e in events if e.type == "contact.started"]) == 1  # the call's own
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)
        await h.bus.close()
        await h.store.close()
