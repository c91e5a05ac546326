"""Calling windows in the callee's local time, derived from the number.

Why: consumer-protection rules (TCPA 8am-9pm local, similar rules elsewhere) bind to the
*callee's* clock. ``phonenumbers.timezone`` maps a number to its possible zones; a number
that spans several zones (a mobile range, a large area code) is only called when the window
is open in *all* of them. Holidays are per region (ISO country code) or ``"*"`` for every
number. All functions are pure: ``now`` is passed in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as pn_timezone

from bots.campaigns.config import CallingWindow, CampaignConfig

_UNKNOWN = "Etc/Unknown"


def time_zones_for(e164: str, *, default: str = "UTC") -> list[str]:
    """The IANA zones a number may ring in (``[default]`` when phonenumbers does not know)."""
    try:
        num = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return [default]
    zones = [z for z in pn_timezone.time_zones_for_number(num) if z != _UNKNOWN]
    return sorted(zones) or [default]


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _open_in(local: datetime, windows: list[CallingWindow], holidays: set[date]) -> bool:
    if local.date() in holidays:
        return False
    t = local.time().replace(tzinfo=None)
    return any(local.weekday() in w.days and w.start <= t < w.end for w in windows)


def _holidays(config: CampaignConfig, region: str | None) -> set[date]:
    days = set(config.holidays.get("*", []))
    if region:
        days |= set(config.holidays.get(region.upper(), []))
    return days


def is_callable(
    now: datetime, *, zones: list[str], region: str | None, config: CampaignConfig
) -> bool:
    """True when ``now`` falls in a calling window in every zone of the number."""
    holidays = _holidays(config, region)
    return all(_open_in(now.astimezone(_zone(z)), config.windows, holidays) for z in zones)


def next_callable(
    now: datetime,
    *,
    zones: list[str],
    region: str | None,
    config: CampaignConfig,
    horizon_days: int = 14,
    step_min: int = 15,
) -> datetime | None:
    """The first instant at or after ``now`` (on a ``step_min`` grid) the number may be called.

    None when nothing opens within ``horizon_days`` (e.g. no window configured at all).
    """
    if is_callable(now, zones=zones, region=region, config=config):
        return now
    t = now.astimezone(UTC).replace(second=0, microsecond=0)
    t += timedelta(minutes=step_min - t.minute % step_min)
    end = now + timedelta(days=horizon_days)
    while t <= end:
        if is_callable(t, zones=zones, region=region, config=config):
            return t
        t += timedelta(minutes=step_min)
    return None
