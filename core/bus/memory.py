"""In-process bus (the embedded default): one asyncio queue per consumer group."""

from __future__ import annotations

import asyncio

from core.bus.base import Bus, Subscription
from core.events import Event


class MemoryBus(Bus):
    """Delivers each event to every group in publish order; a failed handler is retried once.

    Nothing survives a restart: durable delivery is what the Redis/NATS adapters are for.
    """

    def __init__(self, *, outbox_size: int = 10_000):
        super().__init__(outbox_size=outbox_size)
        self._queues: dict[str, asyncio.Queue[Event]] = {}

    async def _connect(self) -> None:
        return None

    async def _disconnect(self) -> None:
        return None

    async def ping(self) -> bool:
        return True

    async def _publish(self, event: Event) -> None:
        for q in self._queues.values():
            q.put_nowait(event)

    def _start_consumer(self, sub: Subscription) -> None:
        q: asyncio.Queue[Event] = asyncio.Queue()
        self._queues[f"{sub.group}:{id(sub)}"] = q
        sub.task = asyncio.create_task(self._consume(sub, q), name=f"bus-{sub.group}")

    async def _consume(self, sub: Subscription, q: asyncio.Queue[Event]) -> None:
        while True:
            event = await q.get()
            if not await self._deliver(sub, event):
                await self._deliver(sub, event)  # at-least-once: one redelivery
            q.task_done()

    async def drain(self) -> None:
        """Wait until every queued event has been handled (tests and shutdown)."""
        if self._outbox is not None:
            await self._outbox.join()
        for q in list(self._queues.values()):
            await q.join()
