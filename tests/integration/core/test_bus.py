"""The bus contract on every implementation: memory, Redis Streams and NATS JetStream."""

from __future__ import annotations

import pytest

from core.bus import open_bus
from core.domain import Channel
from core.events import ContactStarted, Event, TranscriptPartial
from tests.conftest import bus_url_for, unique, wait_for

KINDS = ["memory", "redis", "nats"]


def make_bus(kind: str):  # type: ignore[no-untyped-def]
    extra = {"redeliver_after_ms": 200, "block_ms": 100} if kind == "redis" else {}
    return open_bus(bus_url_for(kind), stream=unique("hl"), **extra)


@pytest.mark.integration
@pytest.mark.parametrize("kind", KINDS)
async def test_every_group_gets_every_event_in_order(kind: str) -> None:
    bus = make_bus(kind)
    got: dict[str, list[Event]] = {"a": [], "b": []}
    bus.subscribe("a", lambda e: _append(got["a"], e))
    bus.subscribe("b", lambda e: _append(got["b"], e), types={"contact.started"})
    await bus.start()
    try:
        sent = [
            ContactStarted(contact_id="c1", channel=Channel.VOICE),
            TranscriptPartial(contact_id="c1", speaker="customer", text="hi"),
            ContactStarted(contact_id="c2", channel=Channel.CHAT),
        ]
        for e in sent:
            await bus.publish(e)
        await wait_for(lambda: len(got["a"]) == 3 and len(got["b"]) == 2)
        assert got["a"] == sent
        assert [e.contact_id for e in got["b"]] == ["c1", "c2"]
    finally:
        await bus.close()


@pytest.mark.integration
@pytest.mark.parametrize("kind", KINDS)
async def test_failed_handler_gets_the_event_again(kind: str) -> None:
    bus = make_bus(kind)
    attempts: list[str] = []

    async def flaky(e: Event) -> None:
        attempts.append(e.id)
        if len(attempts) == 1:
            raise RuntimeError("subscriber crashed")

    bus.subscribe("flaky", flaky)
    await bus.start()
    try:
        e = ContactStarted(contact_id="c1", channel=Channel.VOICE)
        await bus.publish(e)
        await wait_for(lambda: len(attempts) >= 2, timeout=20)
        assert attempts[:2] == [e.id, e.id]
    finally:
        await bus.close()


@pytest.mark.integration
@pytest.mark.parametrize("kind", KINDS)
async def test_publish_nowait_reaches_subscribers(kind: str) -> None:
    bus = make_bus(kind)
    got: list[Event] = []
    bus.subscribe("g", lambda e: _append(got, e))
    await bus.start()
    try:
        for i in range(20):
            bus.publish_nowait(TranscriptPartial(contact_id="c1", speaker="customer", text=str(i)))
        await wait_for(lambda: len(got) == 20)
        assert [e.text for e in got] == [str(i) for i in range(20)]
        assert bus.dropped == 0
    finally:
        await bus.close()


async def test_publish_nowait_never_blocks_and_counts_drops() -> None:
    bus = open_bus("memory://", outbox_size=2)
    bus.publish_nowait(ContactStarted(contact_id="x", channel=Channel.VOICE))  # not started
    assert bus.dropped == 1
    await bus.start()
    try:
        for _ in range(5):  # the pump has not run yet: two fit, three are dropped
            bus.publish_nowait(ContactStarted(contact_id="x", channel=Channel.VOICE))
        assert bus.dropped == 4
    finally:
        await bus.close()


@pytest.mark.integration
async def test_redis_group_resumes_after_restart() -> None:
    """Events published while a durable subscriber is down are delivered when it returns."""
    url = bus_url_for("redis")
    stream = unique("hl")
    got: list[Event] = []
    first = open_bus(url, stream=stream, block_ms=100)
    first.subscribe("durable", lambda e: _append(got, e))
    await first.start()
    await first.publish(ContactStarted(contact_id="c1", channel=Channel.VOICE))
    await wait_for(lambda: len(got) == 1)
    await first.close()
    publisher = open_bus(url, stream=stream)
    await publisher.start()
    await publisher.publish(ContactStarted(contact_id="c2", channel=Channel.VOICE))
    await publisher.close()
    second = open_bus(url, stream=stream, block_ms=100)
    second.subscribe("durable", lambda e: _append(got, e))
    await second.start()
    try:
        await wait_for(lambda: len(got) == 2)
        assert [e.contact_id for e in got] == ["c1", "c2"]
    finally:
        await second.close()


async def _append(bucket: list[Event], e: Event) -> None:
    bucket.append(e)
