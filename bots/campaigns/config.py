"""A campaign's settings (windows, retries, pacing, voicemail) as one validated model.

Stored as JSON on the campaign row and edited as YAML in ``templates/``; unknown keys are
refused so a typo in a template fails loudly instead of silently using a default.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bots.campaigns.errors import CampaignConfigError


class PacingMode(StrEnum):
    PREVIEW = "preview"
    PROGRESSIVE = "progressive"
    PREDICTIVE = "predictive"


class VoicemailAction(StrEnum):
    LEAVE_MESSAGE = "leave_message"
    HANG_UP = "hang_up"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallingWindow(_Strict):
    """Callable hours on some weekdays (0 = Monday), in the callee's local time."""

    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    start: time = time(9, 0)
    end: time = time(20, 0)

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in v):
            raise ValueError("days are 0 (Monday) .. 6 (Sunday)")
        return v


class RetryPolicy(_Strict):
    max_attempts: int = Field(3, ge=1, le=20)
    intervals_min: dict[str, float] = Field(
        default_factory=lambda: {
            "no_answer": 120.0,
            "busy": 15.0,
            "voicemail": 240.0,
            "callback": 60.0,
            "other": 30.0,
        }
    )


class PacingConfig(_Strict):
    mode: PacingMode = PacingMode.PROGRESSIVE
    max_lines: int = Field(4, ge=1, le=500)
    bot_slots: int = Field(4, ge=1, le=500)
    abandon_cap: float = Field(0.03, gt=0, le=0.03)
    abandon_window_min: float = Field(1440.0, gt=0)  # Ofcom: 24 h per campaign
    expected_handoff_rate: float = Field(0.0, ge=0, le=1)
    handoff_agents: int = Field(0, ge=0)
    ring_timeout_s: int = Field(25, ge=5, le=120)


class CampaignConfig(_Strict):
    caller_id: str = ""
    default_region: str = "US"
    default_time_zone: str = "UTC"
    windows: list[CallingWindow] = Field(default_factory=lambda: [CallingWindow()])
    holidays: dict[str, list[date]] = Field(default_factory=dict)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    pacing: PacingConfig = Field(default_factory=PacingConfig)
    voicemail: VoicemailAction = VoicemailAction.HANG_UP
    lease_s: int = Field(300, ge=30)
    # Schedule: a running campaign dials only from ``start_at`` and completes at ``end_at``.
    start_at: datetime | None = None
    end_at: datetime | None = None


def parse_config(data: dict | None, *, where: str = "campaign") -> CampaignConfig:
    """Validate settings; errors name the campaign/file and the bad field."""
    from pydantic import ValidationError

    try:
        return CampaignConfig.model_validate(data or {})
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise CampaignConfigError(f"{where}: settings.{loc}: {first['msg']}") from e
