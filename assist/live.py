"""Live fan-out of ``assist.suggestion`` events to the sidebars watching a contact.

One bus subscription (group ``assist-live``) per process dispatches each suggestion to the
queues of the sockets open on its contact. A sidebar that (re)connects mid-call first
catches up: the store's suggestions (``assist.repo.list_suggestions``) merged with a small
in-memory ring of the contact's latest events, which covers the moment between the
service publishing a suggestion and its row being committed. Messages carry the event id
so the sidebar drops duplicates (catch-up and live can overlap by design: nothing is lost).

A slow socket never blocks the bus: its queue is bounded and the oldest message is dropped
(the sidebar can reconnect and catch up from the store).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from typing import Any

import structlog

from core.bus.base import Bus, Subscription
from core.events import AssistSuggestion, Event

log = structlog.get_logger("hotline.assist.live")

GROUP = "assist-live"
QUEUE_SIZE = 256
RECENT_PER_CONTACT = 64
RECENT_CONTACTS = 2_000


def suggestion_message(
    *,
    id: str,
    contact_id: str | None,
    at: Any,
    kind: str,
    title: str,
    body: str,
    source: str | None,
    score: float | None,
) -> dict[str, Any]:
    """The JSON the sidebar receives for one suggestion (live and catch-up alike)."""
    return {
        "type": "suggestion", "id": id, "contact_id": contact_id,
        "at": at.isoformat() if hasattr(at, "isoformat") else str(at),
        "kind": kind, "title": title, "body": body, "source": source, "score": score,
    }  # fmt: skip


def event_message(event: AssistSuggestion) -> dict[str, Any]:
    return suggestion_message(
        id=event.id, contact_id=event.contact_id, at=event.at, kind=event.kind,
        title=event.title, body=event.body, source=event.source, score=event.score,
    )  # fmt: skip


class LiveQueues:
    """Keyed fan-out to connected pages: one bounded queue per page; a slow page loses its
    oldest message (counted in ``dropped``), never blocks the bus consumer."""

    def __init__(self, *, queue_size: int = QUEUE_SIZE):
        self.queue_size = queue_size
        self._watchers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}
        self.dropped = 0

    def _fan_out(self, key: str, msg: dict[str, Any]) -> None:
        for queue in list(self._watchers.get(key, ())):
            self._offer(queue, msg)

    def _offer(self, queue: asyncio.Queue[dict[str, Any]], msg: dict[str, Any]) -> None:
        while True:
            try:
                queue.put_nowait(msg)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                    self.dropped += 1

    def watch(self, key: str) -> asyncio.Queue[dict[str, Any]]:
        """Start receiving ``key``'s messages (register *before* reading the store, so
        nothing published in between is lost)."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self.queue_size)
        self._watchers.setdefault(key, set()).add(queue)
        return queue

    def unwatch(self, key: str, queue: asyncio.Queue[dict[str, Any]]) -> None:
        watchers = self._watchers.get(key)
        if watchers is None:
            return
        watchers.discard(queue)
        if not watchers:
            del self._watchers[key]

    def watching(self, key: str) -> int:
        return len(self._watchers.get(key, ()))


class AssistLive(LiveQueues):
    """Per-contact fan-out of assist suggestions to connected sidebars."""

    def __init__(self, bus: Bus, *, queue_size: int = QUEUE_SIZE):
        super().__init__(queue_size=queue_size)
        self.bus = bus
        self._recent: OrderedDict[str, deque[dict[str, Any]]] = OrderedDict()
        self._sub: Subscription | None = None

    def attach(self) -> Subscription:
        """Subscribe once (consumer group ``assist-live``); idempotent."""
        if self._sub is None:
            self._sub = self.bus.subscribe(GROUP, self.handle, types=("assist.suggestion",))
        return self._sub

    async def handle(self, event: Event) -> None:
        if not isinstance(event, AssistSuggestion) or event.contact_id is None:
            return
        msg = event_message(event)
        ring = self._recent.get(event.contact_id)
        if ring is None:
            ring = self._recent[event.contact_id] = deque(maxlen=RECENT_PER_CONTACT)
            if len(self._recent) > RECENT_CONTACTS:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(event.contact_id)
        ring.append(msg)
        self._fan_out(event.contact_id, msg)

    def recent(self, contact_id: str) -> list[dict[str, Any]]:
        return list(self._recent.get(contact_id, ()))

    def catch_up(self, contact_id: str, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Stored suggestions plus the in-memory ring, deduplicated by id, in time order."""
        by_id: dict[str, dict[str, Any]] = {m["id"]: m for m in stored}
        for m in self.recent(contact_id):
            by_id.setdefault(m["id"], m)
        return sorted(by_id.values(), key=lambda m: m["at"])
