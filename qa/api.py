"""QA review API: scores with evidence, overrides, disputes, calibration, trends, scorecards.

Mounted under ``/api/v1``. Analysts and supervisors see every score; an agent sees only
the scores of their own contacts (``agent_id`` = username, as routing assigns it) and may
open disputes on them. The list and the trends show the *effective* score: the automatic
verdicts with the latest override of each item applied, re-weighted like ``qa.score``.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal
from core.deps import CurrentPrincipal, SessionDep, require_roles
from core.domain import Role
from core.errors import ForbiddenError, NotFoundError, ValidationFailed
from core.events import EmotionResult
from core.store.tables.contacts import ContactRow
from core.store.tables.qa import QaCalibrationScore, QaDispute, QaOverride, QaScore
from core.store.timeline import read_timeline
from qa import repo
from qa.calibration import AUTO, calibrate
from qa.errors import QaError, ScorecardError
from qa.schemas import (
    CalibrationIn,
    CalibrationOut,
    CallEmotionOut,
    DisputeIn,
    DisputeOut,
    EvidenceOut,
    ItemAgreement,
    ItemOut,
    OverrideIn,
    OverrideOut,
    PairAgreement,
    ResolveIn,
    ScorecardIn,
    ScorecardText,
    ScoreDetail,
    ScoreSummary,
    TrendPoint,
    TurnOut,
)
from qa.scorecard import DEFAULT_PATH, parse_scorecard
from qa.subscriber import transcript_from_events

REVIEWERS = (Role.QA_ANALYST, Role.SUPERVISOR)
READERS = (*REVIEWERS, Role.AGENT)
TIMELINE_TYPES = {"contact.started", "routing.assigned", "transcript.final", "emotion.result"}
LIST_CAP = 5000  # rows read before the item-verdict filter; the page shows far fewer

router = APIRouter(prefix="/qa", tags=["qa"])


def _is_reviewer(p: Principal) -> bool:
    return p.has_any(frozenset(REVIEWERS))


def _own_only(p: Principal) -> str | None:
    """The agent id a caller is restricted to (None for reviewers)."""
    return None if _is_reviewer(p) else p.username


async def _overrides(session: AsyncSession, score_ids: list[str]) -> dict[str, list[QaOverride]]:
    out: dict[str, list[QaOverride]] = defaultdict(list)
    if not score_ids:
        return out
    rows = await session.scalars(
        select(QaOverride).where(QaOverride.score_id.in_(score_ids)).order_by(QaOverride.id)
    )
    for o in rows.all():
        out[o.score_id].append(o)
    return out


def _effective(row: QaScore, overrides: list[QaOverride]) -> tuple[dict[str, str], float | None]:
    """Verdicts after overrides and the score re-weighted over the applicable items."""
    verdicts = {i.item_id: i.verdict for i in row.items}
    for o in overrides:
        verdicts[o.item_id] = o.new_verdict
    if not overrides or row.status != "scored":
        return verdicts, row.score
    applicable = [i for i in row.items if verdicts[i.item_id] != "na"]
    weight = sum(i.weight for i in applicable)
    if not weight:
        return verdicts, None
    passed = sum(i.weight for i in applicable if verdicts[i.item_id] == "pass")
    return verdicts, round(100.0 * passed / weight, 2)


def _summary(row: QaScore, overrides: list[QaOverride], open_disputes: int = 0) -> dict[str, Any]:
    verdicts, score = _effective(row, overrides)
    auto_fail = any(i.auto_fail and verdicts[i.item_id] == "fail" for i in row.items)
    return {
        "score_id": row.id,
        "contact_id": row.contact_id,
        "agent_id": row.agent_id,
        "team": row.team,
        "channel": row.channel,
        "language": row.language,
        "scorecard": row.scorecard_name,
        "scorecard_revision": row.scorecard_revision,
        "score": score,
        "auto_score": row.score,
        "auto_fail": auto_fail if row.status == "scored" else row.auto_fail,
        "status": row.status,
        "error": row.error,
        "scored_at": row.scored_at,
        "failed_items": sorted(k for k, v in verdicts.items() if v == "fail"),
        "overridden_items": sorted({o.item_id for o in overrides}),
        "open_disputes": open_disputes,
    }


def _day_bounds(
    date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    lo = datetime.combine(date_from, time.min, tzinfo=UTC) if date_from else None
    hi = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC) if date_to else None
    return lo, hi


async def _score_or_404(session: AsyncSession, score_id: str, p: Principal) -> QaScore:
    row = await session.get(QaScore, score_id)
    if row is None:
        raise NotFoundError(f"score {score_id} not found")
    own = _own_only(p)
    if own is not None and row.agent_id != own:
        raise ForbiddenError("agents may only see the scores of their own contacts")
    return row


@router.get(
    "/scores",
    response_model=list[ScoreSummary],
    dependencies=[require_roles(*READERS)],
)
async def list_scores(
    session: SessionDep,
    principal: CurrentPrincipal,
    min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    item: str | None = None,
    verdict: Literal["pass", "fail", "na"] | None = None,
    agent: str | None = None,
    team: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    status: Literal["scored", "unscorable"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Scores newest first, filtered by effective score range, item verdict, agent, team
    and day (UTC); ``item`` alone keeps contacts that have that item, ``item`` with
    ``verdict`` those whose effective verdict matches."""
    stmt = select(QaScore).order_by(QaScore.scored_at.desc()).limit(LIST_CAP)
    own = _own_only(principal)
    if own is not None:
        stmt = stmt.where(QaScore.agent_id == own)
    elif agent:
        stmt = stmt.where(QaScore.agent_id == agent)
    if team:
        stmt = stmt.where(QaScore.team == team)
    if status:
        stmt = stmt.where(QaScore.status == status)
    lo, hi = _day_bounds(date_from, date_to)
    if lo is not None:
        stmt = stmt.where(QaScore.scored_at >= lo)
    if hi is not None:
        stmt = stmt.where(QaScore.scored_at < hi)
    rows = (await session.scalars(stmt)).all()
    overrides = await _overrides(session, [r.id for r in rows])
    disputes: dict[str, int] = defaultdict(int)
    if rows:
        for sid in (
            await session.scalars(
                select(QaDispute.score_id).where(
                    QaDispute.score_id.in_([r.id for r in rows]), QaDispute.status == "open"
                )
            )
        ).all():
            disputes[sid] += 1
    out = []
    for row in rows:
        s = _summary(row, overrides.get(row.id, []), disputes.get(row.id, 0))
        if min_score is not None and (s["score"] is None or s["score"] < min_score):
            continue
        if max_score is not None and (s["score"] is None or s["score"] > max_score):
            continue
        if item:
            verdicts, _ = _effective(row, overrides.get(row.id, []))
            if item not in verdicts or (verdict is not None and verdicts[item] != verdict):
                continue
        out.append(s)
        if len(out) >= limit:
            break
    return out


async def _detail(session: AsyncSession, request: Request, row: QaScore) -> dict[str, Any]:
    overrides = (await _overrides(session, [row.id])).get(row.id, [])
    disputes = (
        await session.scalars(
            select(QaDispute).where(QaDispute.score_id == row.id).order_by(QaDispute.id)
        )
    ).all()
    verdicts, _ = _effective(row, overrides)
    by_item: dict[str, list[QaOverride]] = defaultdict(list)
    for o in overrides:
        by_item[o.item_id].append(o)
    items = [
        ItemOut(
            item_id=i.item_id,
            auto_verdict=i.verdict,
            verdict=verdicts[i.item_id],
            score=i.score,
            weight=i.weight,
            auto_fail=i.auto_fail,
            note=i.note or "",
            evidence=[EvidenceOut(**e) for e in (i.evidence or [])],
            overrides=[
                OverrideOut.model_validate(o, from_attributes=True) for o in by_item[i.item_id]
            ],
        )
        for i in row.items
    ]
    open_n = sum(d.status == "open" for d in disputes)
    detail = _summary(row, overrides, open_n)
    detail["items"] = items
    detail["disputes"] = [DisputeOut.model_validate(d, from_attributes=True) for d in disputes]
    sessions = request.app.state.store.sessions
    timeline = await read_timeline(sessions, row.contact_id, types=TIMELINE_TYPES)
    overall = [e for e in timeline if isinstance(e, EmotionResult) and e.scope == "call"]
    if overall:
        e = overall[-1]
        detail["customer_emotion"] = CallEmotionOut(
            label=e.label, sentiment=e.sentiment, trend=e.trend, peak=e.peak, escalate=e.escalate
        )
    try:
        call = transcript_from_events(row.contact_id, timeline)
        detail["transcript"] = [
            TurnOut(
                index=n, speaker=t.speaker, start=t.start, end=t.end, text=t.text, emotion=t.emotion
            )
            for n, t in enumerate(call.turns)
        ]
    except QaError as e:  # the turn indices of the evidence need the scorer's transcript
        detail["transcript"], detail["transcript_error"] = [], f"{e.code}: {e.message}"
    contact = await session.get(ContactRow, row.contact_id)
    uri = contact.recording_uri if contact is not None else None
    if uri:
        remote = uri.startswith(("http://", "https://"))
        detail["recording_url"] = uri if remote else f"/api/v1/qa/scores/{row.id}/recording"
    return detail


@router.get(
    "/scores/{score_id}", response_model=ScoreDetail, dependencies=[require_roles(*READERS)]
)
async def get_score(
    score_id: str, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """One score: items with evidence (turn, times, matched words), overrides, disputes and
    the transcript rebuilt the way the scorer saw it, so evidence turn indices line up."""
    row = await _score_or_404(session, score_id, principal)
    return await _detail(session, request, row)


@router.get(
    "/contacts/{contact_id}/score",
    response_model=ScoreDetail,
    dependencies=[require_roles(*READERS)],
)
async def get_contact_score(
    contact_id: str, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """The latest score of a contact (by any scorecard revision)."""
    sid = await session.scalar(
        select(QaScore.id)
        .where(QaScore.contact_id == contact_id)
        .order_by(QaScore.scored_at.desc())
        .limit(1)
    )
    if sid is None:
        raise NotFoundError(f"contact {contact_id} has no score")
    row = await _score_or_404(session, sid, principal)
    return await _detail(session, request, row)


@router.get("/scores/{score_id}/recording", dependencies=[require_roles(*READERS)])
async def get_recording(
    score_id: str, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> FileResponse:
    """The contact's stored recording (only files under the data directory are served)."""
    row = await _score_or_404(session, score_id, principal)
    contact = await session.get(ContactRow, row.contact_id)
    uri = (contact.recording_uri if contact else None) or ""
    path = await asyncio.to_thread(_local_file, uri, Path(request.app.state.settings.data_dir))
    if path is None:
        raise NotFoundError(f"no stored recording for contact {row.contact_id}")
    return FileResponse(path)


def _local_file(uri: str, root: Path) -> Path | None:
    """The recording's path if it is a file inside ``root`` (never serve anything else)."""
    if not uri:
        return None
    path = Path(uri.removeprefix("file://")).resolve()
    return path if path.is_file() and path.is_relative_to(root.resolve()) else None


@router.post(
    "/scores/{score_id}/overrides",
    response_model=ScoreDetail,
    dependencies=[require_roles(*REVIEWERS)],
)
async def override(
    score_id: str,
    body: OverrideIn,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> dict[str, Any]:
    """Change one item's verdict with a comment; the automatic verdict is kept."""
    row = await _score_or_404(session, score_id, principal)
    await repo.override_item(
        session,
        score_id=row.id,
        item_id=body.item_id,
        verdict=body.verdict,
        comment=body.comment,
        analyst_id=principal.username,
    )
    await session.commit()
    return await _detail(session, request, row)


@router.post(
    "/scores/{score_id}/disputes",
    response_model=DisputeOut,
    status_code=201,
    dependencies=[require_roles(Role.AGENT, *REVIEWERS)],
)
async def open_dispute(
    score_id: str, body: DisputeIn, session: SessionDep, principal: CurrentPrincipal
) -> QaDispute:
    """An agent contests a score of one of their contacts (optionally one item)."""
    row = await _score_or_404(session, score_id, principal)
    if body.item_id is not None and body.item_id not in {i.item_id for i in row.items}:
        raise NotFoundError(f"score {score_id} has no item {body.item_id!r}")
    dispute = repo.open_dispute(
        session,
        score_id=row.id,
        agent_id=row.agent_id or principal.username,
        reason=body.reason,
        item_id=body.item_id,
    )
    await session.commit()
    await session.refresh(dispute)
    return dispute


@router.get("/disputes", response_model=list[DisputeOut], dependencies=[require_roles(*READERS)])
async def list_disputes(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Literal["open", "accepted", "rejected"] | None = None,
) -> list[QaDispute]:
    stmt = select(QaDispute).order_by(QaDispute.id.desc())
    if status:
        stmt = stmt.where(QaDispute.status == status)
    if (own := _own_only(principal)) is not None:
        stmt = stmt.where(QaDispute.agent_id == own)
    return list((await session.scalars(stmt)).all())


@router.post(
    "/disputes/{dispute_id}/resolve",
    response_model=DisputeOut,
    dependencies=[require_roles(Role.QA_ANALYST)],
)
async def resolve_dispute(
    dispute_id: int, body: ResolveIn, session: SessionDep, principal: CurrentPrincipal
) -> QaDispute:
    """Accept or reject; accepting with a verdict also overrides the disputed item."""
    row = await repo.resolve_dispute(
        session,
        dispute_id=dispute_id,
        accept=body.accept,
        resolution=body.resolution,
        analyst_id=principal.username,
        verdict=body.verdict,
    )
    await session.commit()
    await session.refresh(row)
    return row


@router.put(
    "/calibrations/{calibration}/verdicts",
    response_model=dict[str, int],
    dependencies=[require_roles(Role.QA_ANALYST)],
)
async def submit_calibration(
    calibration: str, body: CalibrationIn, session: SessionDep, principal: CurrentPrincipal
) -> dict[str, int]:
    """The caller's verdicts on one contact for a calibration session (replaces earlier
    verdicts of the same analyst on the same items)."""
    await session.execute(
        delete(QaCalibrationScore).where(
            QaCalibrationScore.session == calibration,
            QaCalibrationScore.contact_id == body.contact_id,
            QaCalibrationScore.analyst_id == principal.username,
            QaCalibrationScore.item_id.in_(list(body.verdicts)),
        )
    )
    for item_id, verdict in body.verdicts.items():
        repo.add_calibration_verdict(
            session,
            calibration=calibration,
            contact_id=body.contact_id,
            analyst_id=principal.username,
            item_id=item_id,
            verdict=verdict,
            comment=body.comment,
        )
    await session.commit()
    return {"stored": len(body.verdicts)}


@router.get(
    "/calibrations/{calibration}",
    response_model=CalibrationOut,
    dependencies=[require_roles(*REVIEWERS)],
)
async def calibration_agreement(
    calibration: str, session: SessionDep, scorecard: str | None = None
) -> CalibrationOut:
    """Per item: Cohen's kappa between every analyst pair and each analyst vs the
    automatic verdicts (kappa is null when undefined, e.g. everyone said pass)."""
    ratings = await repo.calibration_ratings(session, calibration=calibration, scorecard=scorecard)
    report = calibrate(ratings)
    items = []
    for item_id in sorted(report.between_analysts.keys() | report.analyst_vs_auto.keys()):
        pairs = report.between_analysts.get(item_id, {})
        vs_auto = report.analyst_vs_auto.get(item_id, {})
        items.append(
            ItemAgreement(
                item_id=item_id,
                mean_kappa_analysts=report.mean_kappa_analysts.get(item_id),
                mean_kappa_auto=report.mean_kappa_auto.get(item_id),
                between_analysts=[
                    PairAgreement(raters=k, n=a.n, agreement=a.agreement, kappa=a.kappa)
                    for k, a in pairs.items()
                ],
                analyst_vs_auto=[
                    PairAgreement(raters=(k, AUTO), n=a.n, agreement=a.agreement, kappa=a.kappa)
                    for k, a in vs_auto.items()
                ],
            )
        )
    return CalibrationOut(
        calibration=calibration,
        contacts=sorted({r.contact_id for r in ratings}),
        analysts=sorted({r.rater for r in ratings if r.rater != AUTO}),
        items=items,
    )


@router.get("/trends", response_model=list[TrendPoint], dependencies=[require_roles(*READERS)])
async def trends(
    session: SessionDep,
    principal: CurrentPrincipal,
    by: Literal["agent", "team", "all"] = "agent",
    agent: str | None = None,
    team: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[TrendPoint]:
    """Average effective score per day (UTC) per agent, per team or overall."""
    stmt = select(QaScore).where(QaScore.status == "scored").order_by(QaScore.scored_at)
    if (own := _own_only(principal)) is not None:
        stmt = stmt.where(QaScore.agent_id == own)
    elif agent:
        stmt = stmt.where(QaScore.agent_id == agent)
    if team:
        stmt = stmt.where(QaScore.team == team)
    lo, hi = _day_bounds(date_from, date_to)
    if lo is not None:
        stmt = stmt.where(QaScore.scored_at >= lo)
    if hi is not None:
        stmt = stmt.where(QaScore.scored_at < hi)
    rows = (await session.scalars(stmt)).all()
    overrides = await _overrides(session, [r.id for r in rows])
    buckets: dict[tuple[str, str], list[float | None]] = defaultdict(list)
    for row in rows:
        group = {"agent": row.agent_id, "team": row.team, "all": "all"}[by] or "unassigned"
        _, score = _effective(row, overrides.get(row.id, []))
        buckets[(row.scored_at.date().isoformat(), group)].append(score)
    out = []
    for (day, group), scores in sorted(buckets.items()):
        defined = [s for s in scores if s is not None]
        avg = round(sum(defined) / len(defined), 2) if defined else None
        out.append(TrendPoint(day=day, group=group, contacts=len(scores), average=avg))
    return out


@router.get(
    "/scorecards/{name}", response_model=ScorecardText, dependencies=[require_roles(*READERS)]
)
async def get_scorecard(name: str, session: SessionDep) -> ScorecardText:
    """The active card's YAML from the store, else the shipped default."""
    text = await repo.active_scorecard_text(session, name=name)
    source: Literal["store", "default"] = "store"
    if text is None:
        text, source = DEFAULT_PATH.read_text(encoding="utf-8"), "default"
    card = parse_scorecard(text, source=source)
    if card.name != name:
        raise NotFoundError(f"no scorecard {name!r}")
    return ScorecardText(name=card.name, revision=card.revision, yaml_text=text, source=source)


@router.put(
    "/scorecards/{name}",
    response_model=ScorecardText,
    dependencies=[require_roles(Role.QA_ANALYST)],
)
async def put_scorecard(
    name: str, body: ScorecardIn, session: SessionDep, principal: CurrentPrincipal
) -> ScorecardText:
    """Store a new revision after full validation; an invalid card is refused (422 with
    the scorecard_* code) and nothing is written, so the active card and all scores stay."""
    try:
        card = parse_scorecard(body.yaml_text, source="scorecard upload")
    except ScorecardError as e:
        raise ValidationFailed(e.message, code=e.code) from e
    if card.name != name:
        raise ValidationFailed(f"the card is named {card.name!r}, not {name!r}")
    await repo.save_scorecard(session, yaml_text=body.yaml_text, created_by=principal.username)
    await session.commit()
    return ScorecardText(
        name=card.name, revision=card.revision, yaml_text=body.yaml_text, source="store"
    )
