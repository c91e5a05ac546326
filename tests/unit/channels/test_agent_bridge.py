"""The agent media bridge on a fake wire: who hears whom (agent, caller, listen/whisper/barge),
the bot muted while an agent is on, hold, and the voice-factory wrapper."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from channels.agent_bridge import MediaBridges, energy
from channels.media import AudioIn
from channels.session import CallSession
from tests.conftest import wait_for


def tone(n: int = 320, amp: int = 8000) -> bytes:
    return (amp * np.sin(np.arange(n) / 5.0)).astype("<i2").tobytes()


@dataclass
class FakeWire:
    """A caller wire: feeds queued chunks to ``receive``, records what the caller hears."""

    out_rate_hz: int = 16_000
    incoming: asyncio.Queue = field(default_factory=asyncio.Queue)
    heard: list[bytes] = field(default_factory=list)
    cleared: int = 0

    async def receive(self) -> AudioIn | None:
        return await self.incoming.get()

    async def send_audio(self, pcm16: bytes) -> None:
        self.heard.append(pcm16)

    async def clear(self) -> None:
        self.cleared += 1

    async def send_text(self, kind: str, text: str) -> None:
        pass

    async def close(self) -> None:
        pass


class Ear:
    def __init__(self) -> None:
        self.got: list[bytes] = []

    async def send(self, pcm: bytes) -> None:
        self.got.append(pcm)


class Transport:
    def __init__(self, wire: FakeWire) -> None:
        self.wire = wire


def bridged() -> tuple[MediaBridges, FakeWire, object]:
    bridges = MediaBridges()
    wire = FakeWire()
    session = CallSession(
        contact_id="c1", channel="browser", input=Transport(wire), output=Transport(wire)
    )  # type: ignore[arg-type]
    media = bridges.register(session)
    assert media is not None and session.input.wire is media.wire  # type: ignore[attr-defined]
    return bridges, wire, media


async def test_agent_hears_the_caller_and_the_bot_is_muted() -> None:
    _bridges, wire, media = bridged()
    await media.wire.send_audio(b"bot" * 10)
    assert wire.heard == [b"bot" * 10]  # no agent yet: the bot talks
    agent = Ear()
    media.join("agent1", "agent", agent.send)
    for _ in range(5):  # the streaming resampler holds back its first few ms
        await wire.incoming.put(AudioIn(tone(960), 48_000))
        chunk = await media.wire.receive()
        assert chunk is not None and chunk.sample_rate_hz == 48_000  # the pipeline gets it too
    await wait_for(lambda: agent.got)
    assert energy(b"".join(agent.got)) > 1000  # resampled to 16 kHz, with energy
    wire.heard.clear()
    await media.wire.send_audio(b"bot" * 10)
    assert wire.heard == []  # bot muted while handed off
    media.from_agent("agent1", tone())
    await wait_for(lambda: wire.heard)
    assert energy(wire.heard[0]) > 1000  # the caller hears the agent
    media.leave("agent1")
    await media.wire.send_audio(b"bot")
    assert wire.heard[-1] == b"bot"  # last agent gone: the bot is heard again
    media.close()


async def test_listen_whisper_barge() -> None:
    _bridges, wire, media = bridged()
    agent, sup = Ear(), Ear()
    media.join("agent1", "agent", agent.send)
    media.join("sup", "supervisor", sup.send, mode="listen")
    media.from_caller(tone(), 16_000)
    media.from_agent("agent1", tone())
    await wait_for(lambda: len(sup.got) == 2)  # listen: both legs
    media.from_supervisor("sup", tone())  # listen: nobody hears the supervisor
    await asyncio.sleep(0)
    assert len(agent.got) == 1 and len(wire.heard) == 1
    media.set_mode("sup", "whisper")
    media.from_supervisor("sup", tone())
    await wait_for(lambda: len(agent.got) == 2)
    assert len(wire.heard) == 1  # whisper: the caller hears nothing
    media.set_mode("sup", "barge")
    media.from_supervisor("sup", tone())
    await wait_for(lambda: len(agent.got) == 3 and len(wire.heard) == 2)
    media.close()


async def test_hold_stops_both_directions_and_plays_hold_audio() -> None:
    _bridges, wire, media = bridged()
    agent = Ear()
    media.join("agent1", "agent", agent.send)
    media.set_held(True)
    media.from_caller(tone(), 16_000)
    media.from_agent("agent1", tone())
    await wait_for(lambda: any(energy(p) > 100 for p in wire.heard))  # the hold chime
    assert agent.got == []
    media.set_held(False)
    media.from_caller(tone(), 16_000)
    await wait_for(lambda: agent.got)
    media.close()


async def test_muted_agent_is_not_heard() -> None:
    _bridges, wire, media = bridged()
    media.join("agent1", "agent", Ear().send)
    media.set_muted("agent1", True)
    media.from_agent("agent1", tone())
    await asyncio.sleep(0)
    assert wire.heard == []
    media.close()


async def test_wrap_factory_registers_for_the_call_only() -> None:
    bridges = MediaBridges()
    wire = FakeWire()
    seen: list[bool] = []

    async def factory(session: CallSession) -> str:
        seen.append(bridges.get(session.contact_id) is not None)
        return "done"

    session = CallSession(
        contact_id="c9", channel="browser", input=Transport(wire), output=Transport(wire)
    )  # type: ignore[arg-type]
    assert await bridges.wrap_factory(factory)(session) == "done"
    assert seen == [True]
    assert bridges.get("c9") is None


async def test_wrapping_twice_bridges_once() -> None:
    bridges = MediaBridges()
    wire = FakeWire()
    inner_wires: list[object] = []

    async def factory(session: CallSession) -> str:
        inner_wires.append(session.input.wire.inner)  # type: ignore[attr-defined]
        return "done"

    session = CallSession(
        contact_id="c2", channel="browser", input=Transport(wire), output=Transport(wire)
    )  # type: ignore[arg-type]
    assert await bridges.wrap_factory(bridges.wrap_factory(factory))(session) == "done"
    assert inner_wires == [wire]
    assert bridges.get("c2") is None


def test_the_voice_routes_bridge_calls_when_the_app_has_a_bridge() -> None:
    """The hook in ``channels.api``: ``app.state.media_bridges`` wraps every browser call."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from channels.api import build_router

    bridges = MediaBridges()
    seen: list[bool] = []

    async def factory(session: CallSession) -> str:
        seen.append(bridges.get(session.contact_id) is not None)
        return "done"

    app = FastAPI()
    app.state.media_bridges = bridges
    app.include_router(build_router(voice_factory=factory))
    with TestClient(app).websocket_connect("/voice/browser") as ws:
        assert ws.receive_json()["type"] == "session"
    assert seen == [True]
    assert bridges.contacts == {}
