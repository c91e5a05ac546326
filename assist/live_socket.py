"""One WebSocket pattern for the sidebar and the help desk: catch up, then stream.

The page's queue is registered *before* the store is read, so nothing published in between is
lost (the page de-duplicates by id); then queued messages are forwarded until the page goes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect


async def catch_up_then_stream(
    websocket: WebSocket,
    queue: asyncio.Queue,
    backlog: Callable[[], Awaitable[Iterable[dict[str, Any]]]],
    *,
    contact_id: str | None,
) -> None:
    """Send ``backlog()``, a ``caught_up`` marker, then every queued message."""
    try:
        for msg in await backlog():
            await websocket.send_json(msg)
        await websocket.send_json({"type": "caught_up", "contact_id": contact_id})
        closed = asyncio.ensure_future(_until_closed(websocket))
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    getter.cancel()
                    return
                await websocket.send_json(getter.result())
        finally:
            closed.cancel()
    except (WebSocketDisconnect, RuntimeError):
        return


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) client messages until the socket goes away."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            msg = await websocket.receive()
            if msg["type"] == "websocket.disconnect":
                return
