"""NATS JetStream bus: durable pull consumers per group, at-least-once (ack after handling).

Events go to subject ``<prefix>.<event type>`` on one stream; a failed handler NAKs the
message so JetStream redelivers it; unacknowledged messages come back after ``ack_wait``.
"""

from __future__ import annotations

import asyncio

import nats
import structlog
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from core.bus.base import Bus, Subscription
from core.errors import BusError
from core.events import Event, parse_event

log = structlog.get_logger("hotline.bus.nats")


class NatsJetStreamBus(Bus):
    def __init__(
        self,
        url: str,
        *,
        stream: str = "hotline",
        outbox_size: int = 10_000,
        ack_wait_s: float = 30.0,
    ):
        super().__init__(outbox_size=outbox_size)
        self.url = url
        self.prefix = stream
        self.stream_name = stream.replace(".", "_").upper()
        self.ack_wait_s = ack_wait_s
        self._nc: nats.NATS | None = None
        self._js = None
        self._pulls: dict[int, object] = {}

    async def _connect(self) -> None:
        try:
            self._nc = await nats.connect(
                self.url, connect_timeout=2, max_reconnect_attempts=3, allow_reconnect=True
            )
        except (NatsError, OSError) as e:
            raise BusError(
                f"bus_url: cannot reach NATS ({type(e).__name__}); start nats-server -js or set "
                "HOTLINE_BUS_URL=memory://"
            ) from e
        self._js = self._nc.jetstream()
        try:
            await self._js.stream_info(self.stream_name)
        except NotFoundError:
            await self._js.add_stream(name=self.stream_name, subjects=[f"{self.prefix}.>"])

    async def _disconnect(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None

    async def ping(self) -> bool:
        return bool(self._nc and self._nc.is_connected)

    async def _publish(self, event: Event) -> None:
        if self._js is None:
            raise BusError("bus not started")
        try:
            await self._js.publish(
                f"{self.prefix}.{event.type}",  # type: ignore[attr-defined]
                event.model_dump_json().encode(),
                headers={"Nats-Msg-Id": event.id},  # JetStream de-duplicates re-publishes
            )
        except (NatsError, OSError) as e:
            raise BusError(f"nats publish failed: {type(e).__name__}", recoverable=True) from e

    def _start_consumer(self, sub: Subscription) -> None:
        sub.task = asyncio.create_task(self._consume(sub), name=f"bus-nats-{sub.group}")

    async def _prepare(self, sub: Subscription) -> None:
        self._pulls[id(sub)] = await self._pull(sub)

    async def _pull(self, sub: Subscription):  # type: ignore[no-untyped-def]
        assert self._js is not None
        durable = sub.group.replace(".", "_")
        return await self._js.pull_subscribe(
            f"{self.prefix}.>",
            durable=durable,
            stream=self.stream_name,
            config=ConsumerConfig(
                durable_name=durable,
                deliver_policy=DeliverPolicy.NEW,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait_s,
            ),
        )

    async def _consume(self, sub: Subscription) -> None:
        psub = self._pulls.pop(id(sub), None) or await self._pull(sub)
        while True:
            try:
                msgs = await psub.fetch(batch=100, timeout=1)
            except NatsTimeout:
                continue
            except asyncio.CancelledError:
                raise
            except (NatsError, OSError) as e:
                log.warning("bus.nats_fetch_failed", group=sub.group, error=type(e).__name__)
                await asyncio.sleep(1.0)
                continue
            for msg in msgs:
                try:
                    event = parse_event(msg.data)
                except Exception:
                    log.warning("bus.nats_bad_message", group=sub.group)
                    await msg.term()
                    continue
                if await self._deliver(sub, event):
                    await msg.ack()
                else:
                    await msg.nak(delay=1)
