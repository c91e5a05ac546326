"""The web-chat widget in headless Chromium against a live server mounting the bots routers.

Checks the widget end to end: the page loads, a typed message reaches the REST channel, the
bot's reply and quick-reply buttons show, a button sends its payload, and HTML/script typed
by the customer is shown as text, never executed. Uses the keyword understander: this test is
about the widget and channel, the stories cover the real NLU.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from tests.unit.bots.conftest import make_app, make_harness

pytestmark = [pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chat_server(tmp_path: Path) -> Iterator[int]:
    """uvicorn in a thread; the harness is built inside the server's own event loop."""
    port = _free_port()
    holder: dict[str, object] = {}

    async def build() -> FastAPI:
        h = await make_harness(tmp_path)
        holder["h"] = h
        return make_app(h.service)  # type: ignore[return-value]

    ready = threading.Event()
    server_box: dict[str, uvicorn.Server] = {}

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = loop.run_until_complete(build())
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        server_box["s"] = server
        ready.set()
        loop.run_until_complete(server.serve())
        h = holder["h"]
        loop.run_until_complete(h.bus.close())  # type: ignore[attr-defined]
        loop.run_until_complete(h.store.close())  # type: ignore[attr-defined]
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(30)
    server = server_box["s"]
    for _ in range(300):
        if server.started:
            break
        threading.Event().wait(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


async def test_chat_widget_talks_to_the_bot_and_escapes_html(chat_server: int) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = await browser.new_page()
            dialogs: list[str] = []
            page.on(
                "dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss()))
            )
            await page.goto(f"http://127.0.0.1:{chat_server}/chat")
            box = page.locator(".hl-form input")
            await box.fill("hello")
            await box.press("Enter")
            bot = page.locator(".hl-msg.hl-bot")
            await bot.first.wait_for(timeout=15_000)
            assert "Demo Bank" in (await bot.first.text_content() or "")
            button = page.locator(".hl-buttons button", has_text="Check my balance")
            await button.click()
            await page.wait_for_function(
                "[...document.querySelectorAll('.hl-msg.hl-bot')]"
                ".some(e => e.textContent.includes('phone number'))",
                timeout=15_000,
            )
            evil = "<img src=x onerror=\"alert('xss')\"><script>alert('x')</script>"
            await box.fill(evil)
            await box.press("Enter")
            user_msgs = page.locator(".hl-msg.hl-user")
            await page.wait_for_function(
                "document.querySelectorAll('.hl-msg.hl-bot').length >= 4", timeout=15_000
            )
            assert await user_msgs.last.text_content() == evil  # shown verbatim, as text
            assert await page.locator(".hl-log img").count() == 0
            assert await page.locator(".hl-log script").count() == 0
            assert dialogs == []
            # after a reload the conversation goes on (same sender, sequence keeps rising)
            await page.reload()
            await box.fill("what are your opening hours")
            await box.press("Enter")
            await page.wait_for_function(
                "[...document.querySelectorAll('.hl-msg.hl-bot')]"
                ".some(e => e.textContent.includes('Monday to Friday'))",
                timeout=15_000,
            )
        finally:
            await browser.close()
