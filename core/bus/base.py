"""Bus interface shared by every implementation.

Two ways to publish: ``await publish(event)`` (the caller wants to know it is on the bus)
and ``publish_nowait(event)`` for the audio path, which must never wait: the event goes into
a bounded outbox drained by a background task; when the outbox is full the event is dropped
and counted in ``dropped`` (reported by /metrics), never blocking the caller.

Delivery is at-least-once per consumer *group*: every group sees every event once it is
acknowledged, so subscribers must be idempotent on ``event.id``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import structlog

from core.events import Event

Handler = Callable[[Event], Awaitable[None]]
log = structlog.get_logger("hotline.bus")


@dataclass
class Subscription:
    group: str
    handler: Handler
    types: frozenset[str] | None = None
    task: asyncio.Task | None = field(default=None, repr=False)
    delivered: int = 0
    failed: int = 0

    def wants(self, event: Event) -> bool:
        return self.types is None or event.type in self.types  # type: ignore[attr-defined]


class Bus(abc.ABC):
    """Async pub/sub of :class:`core.events.Event` with consumer groups."""

    def __init__(self, *, outbox_size: int = 10_000):
        self._outbox: asyncio.Queue[Event] | None = None
        self._outbox_size = outbox_size
        self._pump: asyncio.Task | None = None
        self._subs: list[Subscription] = []
        self.dropped = 0
        self.published = 0

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        await self._connect()
        self._outbox = asyncio.Queue(self._outbox_size)
        self._pump = asyncio.create_task(self._drain_outbox(), name="bus-outbox")
        for sub in self._subs:
            await self._prepare(
                sub
            )  # groups exist before start() returns: nothing published after is missed
            self._start_consumer(sub)

    async def close(self) -> None:
        if self._outbox is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), timeout=5)
        tasks = [t for t in [self._pump, *(s.task for s in self._subs)] if t]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._pump = None
        for s in self._subs:
            s.task = None
        await self._disconnect()

    # -- publish -----------------------------------------------------------------------------
    async def publish(self, event: Event) -> None:
        await self._publish(event)
        self.published += 1

    def publish_nowait(self, event: Event) -> None:
        """Fire and forget: never blocks; drops (and counts) when the outbox is full."""
        if self._outbox is None:
            self.dropped += 1
            return
        try:
            self._outbox.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1

    async def _drain_outbox(self) -> None:
        assert self._outbox is not None
        while True:
            event = await self._outbox.get()
            try:
                await self.publish(event)
            except Exception as e:  # keep draining: one bad publish must not stop the pump
                self.dropped += 1
                log.warning("bus.publish_failed", event_type=event.type, error=type(e).__name__)  # type: ignore[attr-defined]
            finally:
                self._outbox.task_done()

    # -- subscribe ---------------------------------------------------------------------------
    def subscribe(
        self, group: str, handler: Handler, *, types: Iterable[str] | None = None
    ) -> Subscription:
        """Register a consumer group; consuming starts with :meth:`start` (or now if started)."""
        sub = Subscription(group, handler, frozenset(types) if types is not None else None)
        self._subs.append(sub)
        if self._pump is not None:
            self._start_consumer(sub)
        return sub

    async def _deliver(self, sub: Subscription, event: Event) -> bool:
        if not sub.wants(event):
            return True
        try:
            await sub.handler(event)
        except Exception as e:
            sub.failed += 1
            log.warning(
                "bus.handler_failed",
                group=sub.group,
                event_type=event.type,  # type: ignore[attr-defined]
                event_id=event.id,
                error=type(e).__name__,
            )
            return False
        sub.delivered += 1
        return True

    @property
    def outbox_depth(self) -> int:
        return self._outbox.qsize() if self._outbox else 0

    # -- implementation hooks ----------------------------------------------------------------
    @abc.abstractmethod
    async def _connect(self) -> None: ...

    @abc.abstractmethod
    async def _disconnect(self) -> None: ...

    @abc.abstractmethod
    async def _publish(self, event: Event) -> None: ...

    @abc.abstractmethod
    def _start_consumer(self, sub: Subscription) -> None: ...

    async def _prepare(self, sub: Subscription) -> None:
        """Create the durable group/consumer for ``sub`` (no-op in memory)."""
        return None

    @abc.abstractmethod
    async def ping(self) -> bool: ...
