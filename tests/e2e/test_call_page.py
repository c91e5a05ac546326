"""The /call page in headless Chromium with a fake microphone that asks a question; the page
must show the live transcript and the bot's answer, and receive the bot's audio."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from tests.integration.voice.conftest import say, silence, voice_engines, voice_server  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHROMIUM = Path("/usr/bin/chromium")


def write_mic_file(path: Path, pcm16_16k: bytes) -> None:
    x = soxr.resample(np.frombuffer(pcm16_16k, dtype="<i2"), 16_000, 48_000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48_000)
        w.writeframes(x.tobytes())


async def test_call_page_hears_the_bot(voice_server, say, tmp_path) -> None:  # noqa: F811
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    from playwright.async_api import async_playwright

    mic = tmp_path / "mic.wav"
    write_mic_file(mic, silence(4.0) + say("What are your opening hours?") + silence(10.0))
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={mic}",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        try:
            page = await browser.new_page()
            await page.goto(f"http://127.0.0.1:{voice_server.port}/call")
            await page.click("#call")
            bot_line = page.locator("#transcript .line.bot").first
            await bot_line.wait_for(timeout=45_000)
            assert (await bot_line.text_content() or "").startswith("Our branches are open")
            caller_line = page.locator("#transcript .line.caller").first
            # the FAQ keys on "opening"; tiny.en sometimes hears "hours" as "now is" under load
            assert "opening" in (await caller_line.text_content() or "").lower()
            await page.wait_for_function(
                "Number(document.getElementById('transcript').dataset.botAudioMs) > 3000",
                timeout=20_000,
            )
            await page.click("#hangup")
        finally:
            await browser.close()
    await voice_server.wait_for(lambda: voice_server.of("contact.ended"))
    assert voice_server.of("bot.reply")[0].text.startswith("Our branches are open")
