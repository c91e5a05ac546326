"""The event bus: one interface, an in-process default and durable scale-out adapters."""

from core.bus.base import Bus, Handler, Subscription

__all__ = ["Bus", "Handler", "Subscription", "open_bus"]


def open_bus(url: str, *, stream: str = "hotline", outbox_size: int = 10_000, **kw: object) -> Bus:
    """Build the bus named by ``url`` (memory://, redis://…, nats://…) without connecting."""
    if url.startswith("memory://"):
        from core.bus.memory import MemoryBus

        return MemoryBus(outbox_size=outbox_size)
    if url.startswith(("redis://", "rediss://")):
        from core.bus.redis_streams import RedisStreamsBus

        return RedisStreamsBus(url, stream=stream, outbox_size=outbox_size, **kw)  # type: ignore[arg-type]
    if url.startswith("nats://"):
        from core.bus.nats_jetstream import NatsJetStreamBus

        return NatsJetStreamBus(url, stream=stream, outbox_size=outbox_size)
    from core.errors import ConfigError

    raise ConfigError(f"bus_url {url!r}: unsupported scheme; use memory://, redis:// or nats://")
