"""Call control and the live fan-out on a real RoutingService (in-memory SQLite, memory bus).

Covers issue 7 items 4 and 6 and the bad inputs: hold/mute/transfer/conference/hang up,
a transfer to a missing queue, an action on a contact the agent is not on, a chat put on
hold, threshold alerts, and a disconnected agent browser whose contacts are re-queued.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.domain import AgentStatus as S
from core.domain import Channel, Speaker
from core.events import ContactEnded, HandoffRequested, TranscriptFinal
from core.store.tables.base import Base
from routing.call_control import CallControl, ControlState, TransferTarget
from routing.errors import (
    InvalidTransition,
    RoutingError,
    UnknownAgent,
    UnknownContact,
    UnknownQueue,
)
from routing.live import AlertRules, LiveHub
from routing.model import AgentSnapshot, ContactRequest, Policy, QueueConfig
from routing.service import RoutingService
from tests.conftest import wait_for

QUEUES = {
    "billing": QueueConfig("billing", skills={"billing": 3}),
    "cards": QueueConfig("cards", skills={"cards": 3}),
}
CAP = {Channel.VOICE: 1, Channel.CHAT: 3}


@pytest.fixture
async def env() -> AsyncIterator[tuple[RoutingService, CallControl, FrozenClock, MemoryBus]]:
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=StaticPool)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = MemoryBus()
    await bus.start()
    clock = FrozenClock()
    svc = RoutingService(
        sessions=sessions, bus=bus, clock=clock, queues=QUEUES, policy=Policy(), seed=1
    )
    await svc.start()
    await svc.upsert_agent(AgentSnapshot("a1", skills={"billing": 8}, capacity=CAP))
    await svc.upsert_agent(AgentSnapshot("a2", skills={"cards": 9}, capacity=CAP))
    control = CallControl(routing=svc, clock=clock)
    yield svc, control, clock, bus
    await bus.close()
    await engine.dispose()


async def connected(svc: RoutingService, cid: str = "c1", channel: Channel = Channel.VOICE) -> None:
    """a1 logs in, takes contact ``cid`` from the billing queue and answers it."""
    if svc.agents["a1"].state is S.OFFLINE:
        await svc.login("a1")
        await svc.make_available("a1")
    await svc.enqueue(ContactRequest(cid, svc._clock.now(), queue_id="billing", channel=channel))
    assert cid in svc.agents["a1"].offers
    await svc.accept("a1", cid)


async def test_hold_resume_mute_publish_to_listeners(env) -> None:
    svc, control, _clock, _bus = env
    seen: list[dict[str, Any]] = []

    async def keep(st: ControlState) -> None:
        seen.append(st.public())

    control.listeners.append(keep)
    await connected(svc)
    st = await control.hold("a1", "c1")
    assert st.held and seen[-1]["held"] is True
    with pytest.raises(InvalidTransition, match="already on hold"):
        await control.hold("a1", "c1")
    st = await control.resume("a1", "c1")
    assert not st.held
    with pytest.raises(InvalidTransition, match="not on hold"):
        await control.resume("a1", "c1")
    st = await control.mute("a1", "c1", on=True)
    assert st.muted and seen[-1]["muted"] is True
    assert len(seen) == 3


async def test_actions_need_the_agent_on_the_contact(env) -> None:
    svc, control, _clock, _bus = env
    await connected(svc)
    with pytest.raises(UnknownContact, match="a2 is not handling contact c1"):
        await control.hold("a2", "c1")
    with pytest.raises(UnknownAgent):
        await control.hold("ghost", "c1")


async def test_hold_and_mute_are_refused_on_a_chat(env) -> None:
    svc, control, _clock, _bus = env
    await connected(svc, "chat1", Channel.CHAT)
    with pytest.raises(InvalidTransition, match="only available on calls"):
        await control.hold("a1", "chat1")
    st = await control.transfer("a1", "chat1", TransferTarget("queue", "cards"))
    assert st.ended == "transfer:queue:cards"


async def test_transfer_to_a_missing_queue_is_refused_and_the_contact_stays(env) -> None:
    svc, control, _clock, _bus = env
    await connected(svc)
    with pytest.raises(UnknownQueue, match="'nowhere' does not exist"):
        await control.transfer("a1", "c1", TransferTarget("queue", "nowhere"))
    assert "c1" in svc.agents["a1"].active
    assert svc.agents["a1"].state is S.BUSY


async def test_bad_targets_have_clear_errors(env) -> None:
    svc, control, _clock, _bus = env
    await connected(svc)
    with pytest.raises(UnknownAgent, match="'zed'"):
        await control.transfer("a1", "c1", TransferTarget("agent", "zed"))
    with pytest.raises(InvalidTransition, match="a2 is offline"):
        await control.transfer("a1", "c1", TransferTarget("agent", "a2"))
    with pytest.raises(InvalidTransition, match="themselves"):
        await control.transfer("a1", "c1", TransferTarget("agent", "a1"))
    with pytest.raises(RoutingError) as e:
        await control.transfer("a1", "c1", TransferTarget("skill", "astrology"))
    assert e.value.code == "unknown_skill"
    with pytest.raises(RoutingError) as e:
        await control.transfer("a1", "c1", TransferTarget("external", "call me maybe"))
    assert e.value.code == "invalid_number"
    assert "c1" in svc.agents["a1"].active


async def test_blind_transfer_to_queue_requeues_and_rings_the_next_agent(env) -> None:
    svc, control, _clock, _bus = env
    await connected(svc)
    await svc.login("a2")
    await svc.make_available("a2")
    st = await control.transfer("a1", "c1", TransferTarget("queue", "cards"))
    assert st.ended == "transfer:queue:cards"
    assert svc.agents["a1"].state is S.WRAP_UP
    assert "c1" in svc.agents["a2"].offers  # re-routed, never dropped
    assert svc.entries["c1"].contact.queue_id == "cards"


async def test_warm_transfer_holds_then_completes_or_cancels(env) -> None:
    svc, control, _clock, _bus = env
    await connected(svc)
    await svc.login("a2")
    await svc.make_available("a2")
    st = await control.transfer("a1", "c1", TransferTarget("skill", "cards"), mode="warm")
    assert st.held and str(st.consult) == "skill:cards"
    assert control.participant("a1", "c1")
    with pytest.raises(InvalidTransition, match="already has a consult"):
        await control.transfer("a1", "c1", TransferTarget("queue", "cards"), mode="warm")
    st = await control.cancel_consult("a1", "c1")
    assert st.consult is None and not st.held
    with pytest.raises(InvalidTransition, match="no consult to complete"):
        await control.complete_transfer("a1", "c1")
    await control.transfer("a1", "c1", TransferTarget("skill", "cards"), mode="warm")
    st = await control.complete_transfer("a1", "c1")
    assert st.ended == "transfer:skill:cards"
    assert "c1" in svc.agents["a2"].offers


async def test_conference_adds_a_participant_who_may_join_media(env) -> None:
    svc, control, _clock, _bus = env
    await connected(svc)
    await svc.login("a2")
    assert not control.participant("a2", "c1")
    st = await control.conference("a1", "c1", TransferTarget("agent", "a2"))
    assert st.conference == ["a2"]
    assert control.participant("a2", "c1")
    st = await control.conference("a1", "c1", TransferTarget("external", "+1 415 555 0100"))
    assert st.conference == ["a2", "+1 415 555 0100"]
    with pytest.raises(InvalidTransition, match="adds an agent or an external number"):
        await control.conference("a1", "c1", TransferTarget("queue", "cards"))


async def test_hang_up_moves_the_agent_to_wrap_up(env) -> None:
    svc, control, _clock, _bus = env
    await connected(svc)
    st = await control.hang_up("a1", "c1")
    assert st.ended == "hangup"
    assert svc.agents["a1"].state is S.WRAP_UP
    assert not control.participant("a1", "c1")
    with pytest.raises(UnknownContact):
        await control.hold("a1", "c1")


async def test_monitor_modes(env) -> None:
    svc, control, _clock, _bus = env
    with pytest.raises(UnknownContact, match="not being handled"):
        await control.monitor("sup", "c1", "listen")
    await connected(svc)
    st = await control.monitor("sup", "c1", "whisper")
    assert st.monitors == {"sup": "whisper"}
    st = await control.monitor("sup", "c1", "barge")
    assert st.monitors == {"sup": "barge"}
    with pytest.raises(RoutingError, match="monitor mode 'shout'"):
        await control.monitor("sup", "c1", "shout")
    st = await control.monitor("sup", "c1", None)
    assert st.monitors == {}


# --- live fan-out ----------------------------------------------------------------------


class Page:
    def __init__(self) -> None:
        self.got: list[dict[str, Any]] = []

    async def send(self, msg: dict[str, Any]) -> None:
        self.got.append(msg)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.got if m["type"] == kind]


async def test_offer_carries_the_handoff_packet_and_transcript_follows(env) -> None:
    svc, _control, clock, bus = env
    hub = LiveHub(routing=svc, bus=bus, clock=clock, grace_s=0)
    hub.attach()
    svc.subscribe()
    page, sup = Page(), Page()
    await hub.connect("a1", page.send, supervisor=False)
    await hub.connect("sup", sup.send, supervisor=True)
    await svc.login("a1")
    await svc.make_available("a1")
    await bus.publish(
        HandoffRequested(
            contact_id="h1",
            reason="customer_request",
            summary="Customer wants: dispute charge",
            intent="dispute_charge",
            slots={"amount": "42"},
            emotions=("neutral", "angry"),
            queue="billing",
        )
    )
    await wait_for(lambda: page.of("offer"))
    offer = page.of("offer")[0]
    assert offer["contact_id"] == "h1"
    assert offer["packet"]["intent"] == "dispute_charge"
    assert offer["packet"]["emotions"] == ["neutral", "angry"]
    await svc.accept("a1", "h1")
    await bus.publish(TranscriptFinal(contact_id="h1", speaker=Speaker.CUSTOMER, text="hello?"))
    await wait_for(lambda: page.of("transcript"))
    assert page.of("transcript")[0]["text"] == "hello?"
    assert any(m["state"] == "busy" for m in sup.of("agent_state"))
    await hub.close()


async def test_alerts_fire_once_when_longest_wait_crosses_the_threshold(env) -> None:
    svc, _control, clock, bus = env
    hub = LiveHub(routing=svc, bus=bus, clock=clock, rules=AlertRules(longest_wait_s=180))
    sup = Page()
    await hub.connect("sup", sup.send, supervisor=True)
    await svc.enqueue(ContactRequest("w1", clock.now(), queue_id="cards"))  # nobody available
    assert await hub.push_stats() == []
    clock.advance(181)
    fired = await hub.push_stats()
    assert [a["kind"] for a in fired] == ["longest_wait"]
    assert "cards: longest wait 181s > 180s" in fired[0]["message"]
    assert await hub.push_stats() == []  # edge-triggered: no repeat while still over
    snap = sup.of("stats")[-1]
    cards = next(q for q in snap["queues"] if q["queue"] == "cards")
    assert cards["waiting"] == 1 and cards["longest_wait_s"] == 181.0
    await bus.publish(ContactEnded(contact_id="w1"))
    await hub.on_event(ContactEnded(contact_id="w1"))  # caller gave up (hub's own count)
    await hub.close()


async def test_a_disconnected_agent_browser_requeues_its_contacts(env) -> None:
    svc, _control, clock, bus = env
    hub = LiveHub(routing=svc, bus=bus, clock=clock, grace_s=0)
    await connected(svc)
    page = Page()
    client = await hub.connect("a1", page.send, supervisor=False)
    assert page.of("active")[0]["contact_id"] == "c1"  # a reload shows the open contact
    await hub.disconnect(client)
    assert hub.disconnected == [("a1", ("c1",))]
    assert svc.agents["a1"].state is S.OFFLINE
    assert svc.entries["c1"].status == "waiting"  # re-queued, not dropped
    assert svc.entries["c1"].attempts == 1


async def test_a_reload_within_grace_keeps_the_agent(env) -> None:
    svc, _control, clock, bus = env
    hub = LiveHub(routing=svc, bus=bus, clock=clock, grace_s=60)
    await connected(svc)
    first = await hub.connect("a1", Page().send, supervisor=False)
    await hub.disconnect(first)
    await hub.connect("a1", Page().send, supervisor=False)  # came back: timer cancelled
    assert hub._pending_disconnects == {}
    assert svc.agents["a1"].state is S.BUSY
    await hub.close()


async def test_agent_chat_messages_are_published_as_agent_lines(env) -> None:
    svc, _control, clock, bus = env
    control = CallControl(routing=svc, clock=clock, bus=bus)
    lines: list[TranscriptFinal] = []

    async def keep(e) -> None:  # type: ignore[no-untyped-def]
        lines.append(e)

    bus.subscribe("t", keep, types=["transcript.final"])
    await connected(svc, "chat1", Channel.CHAT)
    await control.send_message("a1", "chat1", "  Hello, this is Anna.  ")
    await bus.drain()
    assert [(e.contact_id, e.speaker, e.text) for e in lines] == [
        ("chat1", Speaker.AGENT, "Hello, this is Anna.")
    ]
    with pytest.raises(UnknownContact):
        await control.send_message("a2", "chat1", "not mine")
    with pytest.raises(RoutingError, match="empty"):
        await control.send_message("a1", "chat1", "   ")


async def test_agent_messages_are_refused_on_a_call(env) -> None:
    svc, _control, clock, bus = env
    control = CallControl(routing=svc, clock=clock, bus=bus)
    await connected(svc, "call1", Channel.VOICE)
    with pytest.raises(InvalidTransition, match="only be sent on a chat"):
        await control.send_message("a1", "call1", "hello")
