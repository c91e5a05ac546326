"""Redis Streams bus: durable, consumer groups, at-least-once with redelivery of stale entries.

All events go to one stream (``<prefix>:events``), trimmed approximately to
``max_stream_len``. Each subscription is a consumer group; an entry is XACKed only after the
handler succeeded, and entries left pending longer than ``redeliver_after_ms`` (a crashed or
failing consumer) are claimed again with XAUTOCLAIM.
"""

from __future__ import annotations

import asyncio
import os
import socket

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError, ResponseError

from core.bus.base import Bus, Subscription
from core.errors import BusError
from core.events import Event, parse_event

log = structlog.get_logger("hotline.bus.redis")


class RedisStreamsBus(Bus):
    def __init__(
        self,
        url: str,
        *,
        stream: str = "hotline",
        outbox_size: int = 10_000,
        max_stream_len: int = 1_000_000,
        redeliver_after_ms: int = 30_000,
        block_ms: int = 1000,
    ):
        super().__init__(outbox_size=outbox_size)
        self.url = url
        self.stream = f"{stream}:events"
        self.max_stream_len = max_stream_len
        self.redeliver_after_ms = redeliver_after_ms
        self.block_ms = block_ms
        self._consumer = f"{socket.gethostname()}-{os.getpid()}"
        self._redis: aioredis.Redis | None = None

    async def _connect(self) -> None:
        self._redis = aioredis.from_url(self.url, decode_responses=False)
        try:
            await self._redis.ping()
        except (RedisError, OSError) as e:
            await self._redis.aclose()
            self._redis = None
            raise BusError(
                f"bus_url: cannot reach Redis ({type(e).__name__}); start Redis or set "
                "HOTLINE_BUS_URL=memory://"
            ) from e

    async def _disconnect(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def ping(self) -> bool:
        try:
            return bool(self._redis and await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def _publish(self, event: Event) -> None:
        if self._redis is None:
            raise BusError("bus not started")
        try:
            await self._redis.xadd(
                self.stream,
                {b"e": event.model_dump_json().encode()},
                maxlen=self.max_stream_len,
                approximate=True,
            )
        except (RedisError, OSError) as e:
            raise BusError(f"redis publish failed: {type(e).__name__}", recoverable=True) from e

    def _start_consumer(self, sub: Subscription) -> None:
        sub.task = asyncio.create_task(self._consume(sub), name=f"bus-redis-{sub.group}")

    async def _prepare(self, sub: Subscription) -> None:
        await self._ensure_group(sub.group)

    async def _ensure_group(self, group: str) -> None:
        assert self._redis is not None
        try:
            # "$": a new group sees events published from now on, like a new subscriber would.
            await self._redis.xgroup_create(self.stream, group, id="$", mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def _consume(self, sub: Subscription) -> None:
        assert self._redis is not None
        await self._ensure_group(sub.group)
        while True:
            try:
                await self._reclaim(sub)
                resp = await self._redis.xreadgroup(
                    sub.group, self._consumer, {self.stream: ">"}, count=100, block=self.block_ms
                )
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as e:
                log.warning("bus.redis_read_failed", group=sub.group, error=type(e).__name__)
                await asyncio.sleep(1.0)
                continue
            for _stream, entries in resp or []:
                for entry_id, fields in entries:
                    await self._handle(sub, entry_id, fields)

    async def _reclaim(self, sub: Subscription) -> None:
        assert self._redis is not None
        _next, claimed, *_ = await self._redis.xautoclaim(
            self.stream, sub.group, self._consumer, min_idle_time=self.redeliver_after_ms, count=100
        )
        for entry_id, fields in claimed:
            await self._handle(sub, entry_id, fields)

    async def _handle(self, sub: Subscription, entry_id: bytes, fields: dict | None) -> None:
        assert self._redis is not None
        if not fields:  # trimmed away while pending: nothing left to deliver
            await self._redis.xack(self.stream, sub.group, entry_id)
            return
        try:
            event = parse_event(fields[b"e"])
        except Exception:
            log.warning("bus.redis_bad_entry", group=sub.group, entry=entry_id.decode())
            await self._redis.xack(self.stream, sub.group, entry_id)
            return
        if await self._deliver(sub, event):
            await self._redis.xack(self.stream, sub.group, entry_id)
