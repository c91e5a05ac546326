"""Composition helper for campaigns: the dialer, the script runner and the scheduler.

``app.py`` calls :func:`build_runtime` once with the store, clock, bus and a
:class:`DialerSettings`, includes ``bots.campaigns.api.build_router(runtime)`` and calls
``await runtime.start()`` / ``await runtime.stop()`` in its lifespan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bots.campaigns.scheduler import CallRunner, CampaignScheduler
from bots.dialer.asterisk_ari import AriDialer
from bots.dialer.base import Dialer
from bots.dialer.browser_phone import BrowserPhoneHub, ScriptCallRunner, tts_synthesizer
from bots.dialer.media_hub import TelephonyMediaHub
from bots.dialer.twilio_rest import TwilioRestDialer
from core.bus.base import Bus
from core.clock import Clock
from core.settings import CampaignSettings

# The settings section lives in core.settings (Settings.campaigns); this is its old name.
DialerSettings = CampaignSettings


@dataclass
class CampaignRuntime:
    scheduler: CampaignScheduler
    dialer: Dialer
    phones: BrowserPhoneHub | None = None
    settings: DialerSettings | None = None
    media_hub: TelephonyMediaHub | None = None  # carrier media streams of answered calls

    async def start(self, *, background: bool = True) -> None:
        if isinstance(self.dialer, AriDialer):
            await self.dialer.start()
        if background:
            self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.dialer.close()


def build_runtime(
    *,
    sessions: async_sessionmaker,
    clock: Clock,
    settings: DialerSettings | None = None,
    bus: Bus | None = None,
    tts: Any | None = None,
    runner: CallRunner | None = None,
    dialer: Dialer | None = None,
) -> CampaignRuntime:
    """Build dialer + runner + scheduler. ``tts`` (a TextToSpeech) voices the test phone."""
    settings = settings or DialerSettings()
    phones: BrowserPhoneHub | None = None
    media_hub: TelephonyMediaHub | None = None
    if dialer is None:
        if settings.dialer == "ari":
            media_hub = TelephonyMediaHub()
            dialer = AriDialer(
                base_url=settings.ari_url,
                username=settings.ari_username,
                password=settings.ari_password.get_secret_value(),
                app=settings.ari_app,
                endpoint_template=settings.ari_endpoint,
                media_host=settings.ari_media_host or None,
                media_hub=media_hub,
            )
        elif settings.dialer == "twilio":
            base = settings.public_base_url.rstrip("/")
            dialer = TwilioRestDialer(
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token.get_secret_value(),
                status_callback_url=f"{base}/api/v1/campaigns/dialer/twilio/status",
                media_stream_url=base.replace("http", "ws", 1) + "/api/v1/voice/twilio",
                api_base=settings.twilio_api_base,
            )
        else:
            dialer = phones = BrowserPhoneHub()
    elif isinstance(dialer, BrowserPhoneHub):
        phones = dialer
    if isinstance(dialer, AriDialer) and dialer.media_hub is not None:
        media_hub = dialer.media_hub
    synthesize = tts_synthesizer(tts) if tts is not None else None
    if runner is None and phones is not None:
        runner = ScriptCallRunner(media=phones, synthesize=synthesize)
    elif runner is None:
        # a carrier dialer: the answered call's media stream (channels hands it to the hub)
        # hears the script, presses keys, and feeds answering-machine detection
        media_hub = media_hub or TelephonyMediaHub()
        runner = ScriptCallRunner(media=media_hub, synthesize=synthesize, listen=media_hub.listen)
    scheduler = CampaignScheduler(
        sessions=sessions,
        dialer=dialer,
        runner=runner,
        clock=clock,
        bus=bus,
        poll_interval_s=settings.poll_interval_s,
    )
    return CampaignRuntime(
        scheduler=scheduler, dialer=dialer, phones=phones, settings=settings, media_hub=media_hub
    )
