"""Request and response bodies of the QA API (review, disputes, calibration, trends, cards)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

VerdictLiteral = Literal["pass", "fail", "na"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreSummary(BaseModel):
    """One row of the review list: the score after overrides are taken into account."""

    score_id: str
    contact_id: str
    agent_id: str | None
    team: str | None
    channel: str | None
    language: str | None
    scorecard: str
    scorecard_revision: int
    score: float | None  # effective (after overrides)
    auto_score: float | None = None  # as scored automatically
    auto_fail: bool
    status: str
    error: str | None = None
    scored_at: datetime
    failed_items: list[str] = []
    overridden_items: list[str] = []
    open_disputes: int = 0


class EvidenceOut(BaseModel):
    turn: int
    start: float
    end: float
    speaker: str
    matched: list[str] = []
    check: str = ""
    note: str = ""


class OverrideOut(BaseModel):
    id: int
    item_id: str
    old_verdict: str
    new_verdict: str
    comment: str
    analyst_id: str
    created_at: datetime


class ItemOut(BaseModel):
    item_id: str
    auto_verdict: str
    verdict: str  # effective: the latest override, else the automatic verdict
    score: float | None
    weight: float
    auto_fail: bool
    note: str
    evidence: list[EvidenceOut]
    overrides: list[OverrideOut] = []


class DisputeOut(BaseModel):
    id: int
    score_id: str
    item_id: str | None
    agent_id: str
    reason: str
    status: str
    resolution: str | None
    resolved_by: str | None
    created_at: datetime
    resolved_at: datetime | None


class TurnOut(BaseModel):
    index: int
    speaker: str
    start: float
    end: float
    text: str
    emotion: str | None = None  # the turn's label when the emotion engine ran on it


class CallEmotionOut(BaseModel):
    """The customer's emotion over the whole call (``emotion.result`` with scope "call")."""

    label: str
    sentiment: float
    trend: str | None = None
    peak: str | None = None
    escalate: bool = False


class ScoreDetail(ScoreSummary):
    """A contact's score with items, evidence, overrides, disputes and the transcript."""

    items: list[ItemOut]
    disputes: list[DisputeOut] = []
    transcript: list[TurnOut] = []
    transcript_error: str | None = None
    recording_url: str | None = None
    customer_emotion: CallEmotionOut | None = None


class OverrideIn(_In):
    item_id: str = Field(min_length=1, max_length=64)
    verdict: VerdictLiteral
    comment: str = Field(min_length=1, max_length=4000)


class DisputeIn(_In):
    reason: str = Field(min_length=1, max_length=4000)
    item_id: str | None = Field(default=None, max_length=64)


class ResolveIn(_In):
    accept: bool
    resolution: str = Field(min_length=1, max_length=4000)
    verdict: VerdictLiteral | None = None


class CalibrationIn(_In):
    """One analyst's blind verdicts on one contact (a resubmission replaces them)."""

    contact_id: str = Field(min_length=1, max_length=64)
    verdicts: dict[str, VerdictLiteral] = Field(min_length=1)
    comment: str | None = None


class PairAgreement(BaseModel):
    raters: tuple[str, str]
    n: int
    agreement: float | None
    kappa: float | None


class ItemAgreement(BaseModel):
    item_id: str
    mean_kappa_analysts: float | None
    mean_kappa_auto: float | None
    between_analysts: list[PairAgreement]
    analyst_vs_auto: list[PairAgreement]


class CalibrationOut(BaseModel):
    calibration: str
    contacts: list[str]
    analysts: list[str]
    items: list[ItemAgreement]


class TrendPoint(BaseModel):
    day: str  # YYYY-MM-DD (UTC)
    group: str  # the agent / team id, or "all"
    contacts: int
    average: float | None


class ScorecardText(BaseModel):
    name: str
    revision: int
    yaml_text: str
    source: Literal["store", "default"]


class ScorecardIn(_In):
    yaml_text: str = Field(min_length=1, max_length=500_000)
