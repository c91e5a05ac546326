"""The script runner: voicemail per setting (AMD on the first seconds of audio), keys →
dispositions, the reminder rendered with the contact's variables."""

from __future__ import annotations

import numpy as np
import pytest

from bots.campaigns.config import parse_config
from bots.campaigns.dispositions import Disposition
from bots.campaigns.scheduler import ConnectedCall
from bots.campaigns.scripts import load_template
from bots.dialer.browser_phone import ScriptCallRunner


class Media:
    """A call's media boundary, faked: records what was played, returns scripted keys."""

    def __init__(self, keys: list[str | None]) -> None:
        self.played: list[str] = []
        self.keys = keys

    async def play(self, call_id: str, text: str, audio_wav: bytes | None) -> None:
        self.played.append(text)

    async def next_input(self, call_id: str, timeout_s: float) -> str | None:
        return self.keys.pop(0) if self.keys else None


def _call(voicemail: str = "leave_message", answered_by: str | None = None) -> ConnectedCall:
    tpl = load_template("payment_reminder_en")
    return ConnectedCall(
        attempt_id="a1",
        call_id="c1",
        campaign_id="k1",
        contact_id="p1",
        phone_e164="+12127360001",
        name="Ann Lee",
        variables={"amount": "$42.50", "due_date": "March 3"},
        language="en",
        script=tpl.script.model_dump(mode="json"),
        config=parse_config({**tpl.settings, "voicemail": voicemail}),
        answered_by=answered_by,
    )


def _tone_after_greeting(rate: int = 8000) -> tuple[bytes, int]:
    rng = np.random.default_rng(1)
    speechy = (rng.normal(0, 6000, rate * 3) * np.sin(np.linspace(0, 60, rate * 3))).astype(
        np.int16
    )
    t = np.arange(int(rate * 0.3)) / rate
    beep = (12000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    gap = np.zeros(rate // 4, dtype=np.int16)
    return np.concatenate([gap, speechy, gap, beep, gap]).tobytes(), rate


@pytest.mark.parametrize(("setting", "left"), [("leave_message", True), ("hang_up", False)])
async def test_voicemail_detected_from_audio_follows_the_setting(setting, left) -> None:  # type: ignore[no-untyped-def]
    media = Media([])

    async def listen(call_id: str, seconds: float):  # type: ignore[no-untyped-def]
        return _tone_after_greeting()

    runner = ScriptCallRunner(media=media, listen=listen)
    result = await runner.run(_call(setting))
    assert result.disposition is Disposition.VOICEMAIL and result.answered_by == "machine"
    assert bool(media.played) is left
    if left:
        assert "Ann Lee" in media.played[0] and "$42.50" in media.played[0]


@pytest.mark.parametrize(
    ("key", "disposition"),
    [
        ("1", Disposition.PROMISE_TO_PAY),
        ("2", Disposition.TRANSFERRED),
        ("9", Disposition.OPT_OUT),
        (None, Disposition.ANSWERED_HUMAN),
    ],
)
async def test_keys_map_to_dispositions(key, disposition) -> None:  # type: ignore[no-untyped-def]
    media = Media([key])
    result = await ScriptCallRunner(media=media).run(_call(answered_by="human"))
    assert result.disposition is disposition
    assert result.handoff is (disposition is Disposition.TRANSFERRED)
    assert result.opt_out is (disposition is Disposition.OPT_OUT)
    assert media.played[0].startswith("Hello Ann Lee") and "March 3" in media.played[0]


async def test_tts_failure_still_shows_the_text() -> None:
    def broken(text: str, language: str) -> bytes:
        raise RuntimeError("voice crashed")

    media = Media(["1"])
    result = await ScriptCallRunner(media=media, synthesize=broken).run(_call(answered_by="human"))
    assert result.disposition is Disposition.PROMISE_TO_PAY and len(media.played) == 2
