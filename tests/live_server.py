"""Serve an ASGI app on a free loopback port, for tests that need a real socket (browsers,
websocket clients, HTTP callbacks): one place for what many test files did by hand."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(app: Any, port: int) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))


@contextlib.asynccontextmanager
async def serving(
    app: Any, *, port: int | None = None, timeout_s: float = 30.0
) -> AsyncIterator[str]:
    """Run ``app`` on this event loop; yields ``http://127.0.0.1:PORT``."""
    port = port or free_port()
    server = _server(app, port)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(timeout_s):
            while not server.started:
                if task.done():
                    task.result()  # startup failed: raise its error
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout_s)


class AppThread:
    """The app under uvicorn on its own event loop in a thread; ``run`` executes a coroutine
    on that loop (seeding the app's store or bus from the test's loop)."""

    def __init__(self, app: Any, *, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server = _server(app, self.port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._main, name=f"uvicorn-{self.port}", daemon=True)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.server.serve())

    async def run(self, coro: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def __enter__(self) -> AppThread:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:  # startup, bounded; not a settle-sleep
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@contextlib.contextmanager
def serving_in_thread(
    app: Any, *, port: int | None = None, timeout_s: float = 60.0
) -> Iterator[str]:
    """Run ``app`` in a thread with its own loop (for synchronous Playwright tests)."""
    port = port or free_port()
    server = _server(app, port)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:  # a condition with a generous deadline, not a settle-sleep
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)
