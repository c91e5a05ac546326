"""QA queries: keyword-only functions that take the session explicitly and hold no state.

Writes only ever *add* rows (scores per scorecard revision, overrides, disputes,
calibration verdicts), so nothing here can wipe an existing score.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ConflictError, NotFoundError, ValidationFailed
from core.store.tables.qa import (
    QaCalibrationScore,
    QaDispute,
    QaItemResult,
    QaOverride,
    QaScore,
)
from core.store.tables.qa import Scorecard as ScorecardRow
from qa.calibration import Rating
from qa.score import ContactScore
from qa.scorecard import parse_scorecard

VERDICTS = ("pass", "fail", "na")


async def find_score(
    session: AsyncSession,
    *,
    contact_id: str,
    scorecard: str,
    revision: int,
    event_id: str | None = None,
) -> QaScore | None:
    """The stored score of this contact by this card revision (or of this event), if any."""
    if event_id is not None:
        row = await session.scalar(select(QaScore).where(QaScore.event_id == event_id))
        if row is not None:
            return row
    return await session.scalar(
        select(QaScore).where(
            QaScore.contact_id == contact_id,
            QaScore.scorecard_name == scorecard,
            QaScore.scorecard_revision == revision,
        )
    )


def add_score(
    session: AsyncSession,
    result: ContactScore,
    *,
    contact_id: str,
    event_id: str | None = None,
    agent_id: str | None = None,
    team: str | None = None,
    channel: str | None = None,
    source: str = "auto",
) -> QaScore:
    """Stage a score row with one item row per scorecard item (caller commits)."""
    row = QaScore(
        id=uuid.uuid4().hex,
        contact_id=contact_id,
        event_id=event_id,
        scorecard_name=result.scorecard,
        scorecard_revision=result.scorecard_revision,
        score=result.score,
        auto_fail=result.auto_fail,
        agent_id=agent_id,
        team=team,
        language=result.language or None,
        channel=channel,
        source=source,
        status="scored",
        items=[
            QaItemResult(
                item_id=item_id,
                verdict=r.verdict,
                score=r.score,
                weight=r.weight,
                auto_fail=r.auto_fail,
                note=r.note,
                evidence=[e.as_dict() for e in r.evidence],
            )
            for item_id, r in result.items.items()
        ],
    )
    session.add(row)
    return row


def add_unscorable(
    session: AsyncSession,
    *,
    contact_id: str,
    scorecard: str,
    revision: int,
    error: str,
    event_id: str | None = None,
    agent_id: str | None = None,
    channel: str | None = None,
    source: str = "auto",
) -> QaScore:
    """Record that a contact could not be scored and why, so no ended contact is unaccounted."""
    row = QaScore(
        id=uuid.uuid4().hex,
        contact_id=contact_id,
        event_id=event_id,
        scorecard_name=scorecard,
        scorecard_revision=revision,
        score=None,
        agent_id=agent_id,
        channel=channel,
        source=source,
        status="unscorable",
        error=error,
    )
    session.add(row)
    return row


async def override_item(
    session: AsyncSession,
    *,
    score_id: str,
    item_id: str,
    verdict: str,
    comment: str,
    analyst_id: str,
) -> QaOverride:
    """An analyst changes one item's verdict; the automatic verdict stays for calibration."""
    if verdict not in VERDICTS:
        raise ValidationFailed(f"verdict must be one of {', '.join(VERDICTS)}")
    if not comment.strip():
        raise ValidationFailed("an override needs a comment")
    item = await session.scalar(
        select(QaItemResult).where(
            QaItemResult.score_id == score_id, QaItemResult.item_id == item_id
        )
    )
    if item is None:
        raise NotFoundError(f"score {score_id} has no item {item_id!r}")
    current = await effective_verdicts(session, score_id=score_id)
    row = QaOverride(
        score_id=score_id,
        item_id=item_id,
        old_verdict=current.get(item_id, item.verdict),
        new_verdict=verdict,
        comment=comment,
        analyst_id=analyst_id,
    )
    session.add(row)
    return row


async def effective_verdicts(session: AsyncSession, *, score_id: str) -> dict[str, str]:
    """Item verdicts after the latest override of each item."""
    items = (
        await session.scalars(select(QaItemResult).where(QaItemResult.score_id == score_id))
    ).all()
    verdicts = {i.item_id: i.verdict for i in items}
    overrides = (
        await session.scalars(
            select(QaOverride).where(QaOverride.score_id == score_id).order_by(QaOverride.id)
        )
    ).all()
    for o in overrides:
        verdicts[o.item_id] = o.new_verdict
    return verdicts


def open_dispute(
    session: AsyncSession, *, score_id: str, agent_id: str, reason: str, item_id: str | None = None
) -> QaDispute:
    if not reason.strip():
        raise ValidationFailed("a dispute needs a reason")
    row = QaDispute(score_id=score_id, item_id=item_id, agent_id=agent_id, reason=reason)
    session.add(row)
    return row


async def resolve_dispute(
    session: AsyncSession,
    *,
    dispute_id: int,
    accept: bool,
    resolution: str,
    analyst_id: str,
    verdict: str | None = None,
) -> QaDispute:
    """Close a dispute; accepting one with a verdict also records an override of that item."""
    row = await session.get(QaDispute, dispute_id)
    if row is None:
        raise NotFoundError(f"dispute {dispute_id} not found")
    if row.status != "open":
        raise ConflictError(f"dispute {dispute_id} is already {row.status}")
    row.status = "accepted" if accept else "rejected"
    row.resolution = resolution
    row.resolved_by = analyst_id
    row.resolved_at = datetime.now(UTC)
    if accept and verdict is not None and row.item_id is not None:
        await override_item(
            session,
            score_id=row.score_id,
            item_id=row.item_id,
            verdict=verdict,
            comment=f"dispute {dispute_id}: {resolution}",
            analyst_id=analyst_id,
        )
    return row


def add_calibration_verdict(
    session: AsyncSession,
    *,
    calibration: str,
    contact_id: str,
    analyst_id: str,
    item_id: str,
    verdict: str,
    comment: str | None = None,
) -> QaCalibrationScore:
    if verdict not in VERDICTS:
        raise ValidationFailed(f"verdict must be one of {', '.join(VERDICTS)}")
    row = QaCalibrationScore(
        session=calibration,
        contact_id=contact_id,
        analyst_id=analyst_id,
        item_id=item_id,
        verdict=verdict,
        comment=comment,
    )
    session.add(row)
    return row


async def calibration_ratings(
    session: AsyncSession, *, calibration: str, scorecard: str | None = None
) -> list[Rating]:
    """Analysts' verdicts of a calibration session plus the automatic ones ("auto") for
    the same contacts (latest automatic score of each contact by ``scorecard`` if given)."""
    rows = (
        await session.scalars(
            select(QaCalibrationScore).where(QaCalibrationScore.session == calibration)
        )
    ).all()
    ratings = [Rating(r.contact_id, r.analyst_id, r.item_id, r.verdict) for r in rows]
    contacts = {r.contact_id for r in rows}
    if not contacts:
        return ratings
    stmt = select(QaScore).where(QaScore.contact_id.in_(contacts), QaScore.status == "scored")
    if scorecard is not None:
        stmt = stmt.where(QaScore.scorecard_name == scorecard)
    latest: dict[str, QaScore] = {}
    for s in (await session.scalars(stmt.order_by(QaScore.scored_at))).all():
        latest[s.contact_id] = s
    for s in latest.values():
        ratings += [Rating(s.contact_id, "auto", i.item_id, i.verdict) for i in s.items]
    return ratings


async def save_scorecard(
    session: AsyncSession, *, yaml_text: str, created_by: str | None = None, activate: bool = True
) -> ScorecardRow:
    """Store a new revision of a card after validating it; an invalid card raises
    ScorecardError and nothing is written, so the active card and all scores stay."""
    card = parse_scorecard(yaml_text, source="scorecard upload")
    exists = await session.scalar(
        select(ScorecardRow).where(
            ScorecardRow.name == card.name, ScorecardRow.revision == card.revision
        )
    )
    if exists is not None:
        raise ConflictError(
            f"scorecard {card.name} revision {card.revision} exists; bump `revision`"
        )
    if activate:
        for old in (
            await session.scalars(select(ScorecardRow).where(ScorecardRow.name == card.name))
        ).all():
            old.active = False
    row = ScorecardRow(
        name=card.name,
        revision=card.revision,
        yaml_text=yaml_text,
        active=activate,
        created_by=created_by,
    )
    session.add(row)
    return row


async def active_scorecard_text(session: AsyncSession, *, name: str = "default") -> str | None:
    return await session.scalar(
        select(ScorecardRow.yaml_text).where(ScorecardRow.name == name, ScorecardRow.active)
    )
