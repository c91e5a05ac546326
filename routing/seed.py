"""Seed the demo centre's agents (and bot pool) into routing, from core's demo_center.yaml."""

from __future__ import annotations

from typing import Any

from core.domain import Channel
from routing.model import AgentSnapshot
from routing.service import RoutingService


def demo_agents(center: dict[str, Any]) -> list[tuple[AgentSnapshot, str]]:
    """Agent snapshots (id = username) with display names; bot pools included."""
    out: list[tuple[AgentSnapshot, str]] = []
    for a in center.get("agents", []):
        snap = AgentSnapshot(
            id=a["username"],
            skills=dict(a.get("skills", {})),
            languages=frozenset(a.get("languages", ())),
            capacity={Channel.VOICE: 1, Channel.CHAT: 3},
        )
        out.append((snap, a.get("full_name", "")))
    for b in center.get("bot_pools", []):
        snap = AgentSnapshot(
            id=b["id"],
            languages=frozenset(b.get("languages", ())),
            capacity={Channel(k): int(v) for k, v in b.get("capacity", {}).items()},
            is_bot_pool=True,
        )
        out.append((snap, b.get("name", "")))
    return out


async def seed_demo_agents(service: RoutingService, center: dict[str, Any]) -> int:
    """Create the demo agents that routing does not know yet; returns how many were added."""
    added = 0
    for snap, name in demo_agents(center):
        if snap.id not in service.agents:
            await service.upsert_agent(snap, name=name)
            added += 1
    return added
