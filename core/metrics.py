"""Prometheus metrics, one registry per app so tests can build many apps in one process."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass
class Metrics:
    registry: CollectorRegistry
    http_requests: Counter
    http_latency: Histogram
    bus_published: Gauge
    bus_dropped: Gauge
    bus_outbox_depth: Gauge


def make_metrics() -> Metrics:
    reg = CollectorRegistry()
    return Metrics(
        registry=reg,
        http_requests=Counter(
            "hotline_http_requests", "HTTP requests", ["method", "route", "status"], registry=reg
        ),
        http_latency=Histogram(
            "hotline_http_request_seconds", "HTTP request latency", ["route"], registry=reg
        ),
        bus_published=Gauge("hotline_bus_published", "Events published", registry=reg),
        bus_dropped=Gauge("hotline_bus_dropped", "Fire-and-forget events dropped", registry=reg),
        bus_outbox_depth=Gauge(
            "hotline_bus_outbox_depth", "Events waiting to publish", registry=reg
        ),
    )
