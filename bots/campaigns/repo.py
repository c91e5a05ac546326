"""Campaign queries as keyword-only functions over an AsyncSession (no state, no commits
except where a function says so)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bots.campaigns.config import parse_config
from bots.campaigns.contact_lists import ParsedContact
from bots.campaigns.dispositions import CONNECTED, CONVERSIONS, Disposition
from bots.campaigns.errors import CampaignStateError
from core.errors import NotFoundError
from core.store.tables.campaigns import CallAttemptRow, CampaignContactRow, CampaignRow

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "launch": (frozenset({"draft"}), "running"),
    "pause": (frozenset({"running"}), "paused"),
    "resume": (frozenset({"paused"}), "running"),
    "stop": (frozenset({"draft", "running", "paused"}), "stopped"),
}


async def create_campaign(
    session: AsyncSession,
    *,
    name: str,
    script: dict,
    settings: dict,
    now: datetime,
    language: str = "en",
    template: str | None = None,
    created_by: str | None = None,
) -> CampaignRow:
    parse_config(settings, where=f"campaign {name!r}")
    row = CampaignRow(
        id=uuid.uuid4().hex,
        name=name,
        template=template,
        language=language,
        script=script,
        settings=settings,
        status="draft",
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get_campaign(session: AsyncSession, campaign_id: str) -> CampaignRow:
    row = await session.get(CampaignRow, campaign_id)
    if row is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    return row


async def existing_numbers(session: AsyncSession, *, campaign_id: str) -> set[str]:
    q = select(CampaignContactRow.phone_e164).where(CampaignContactRow.campaign_id == campaign_id)
    return set((await session.execute(q)).scalars())


async def add_contacts(
    session: AsyncSession, *, campaign_id: str, contacts: list[ParsedContact], now: datetime
) -> int:
    for c in contacts:
        session.add(
            CampaignContactRow(
                id=uuid.uuid4().hex,
                campaign_id=campaign_id,
                phone_e164=c.phone_e164,
                name=c.name,
                variables=c.variables,
                region=c.region,
                time_zones=c.time_zones,
                row_number=c.row,
                status="pending",
                next_attempt_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    return len(contacts)


async def transition(
    session: AsyncSession, *, campaign_id: str, action: str, now: datetime
) -> CampaignRow:
    """Apply launch/pause/resume/stop atomically (compare-and-set on the status)."""
    if action not in TRANSITIONS:
        raise CampaignStateError(f"unknown action {action!r}")
    allowed, target = TRANSITIONS[action]
    row = await get_campaign(session, campaign_id)
    if row.status not in allowed:
        raise CampaignStateError(f"cannot {action} a campaign that is {row.status}")
    values: dict = {"status": target, "updated_at": now, "version": row.version + 1}
    if action == "launch":
        values["started_at"] = now
    res = await session.execute(
        update(CampaignRow)
        .where(CampaignRow.id == campaign_id, CampaignRow.version == row.version)
        .values(**values)
    )
    if res.rowcount != 1:
        raise CampaignStateError(f"campaign {campaign_id} changed concurrently; retry")
    await session.refresh(row)
    return row


async def stats(session: AsyncSession, *, campaign_id: str, now: datetime) -> dict:
    """Live dashboard numbers (dialed, connected, contact rate, conversions, abandon rate)."""
    a = CallAttemptRow
    conn = [d.value for d in CONNECTED]
    conv = [d.value for d in CONVERSIONS]
    q = select(
        func.count(a.id).filter(a.call_id.is_not(None)),
        func.count(a.id).filter(a.disposition.in_(conn)),
        func.count(a.id).filter(a.disposition.in_(conv)),
        func.count(a.id).filter(a.handoff.is_(True)),
        func.count(a.id).filter(a.abandoned.is_(True)),
        func.count(a.id).filter(a.answered_at.is_not(None)),
        func.count(a.id).filter(a.ended_at.is_(None), a.call_id.is_not(None)),
        func.count(a.id).filter(a.disposition == Disposition.VOICEMAIL.value),
    ).where(a.campaign_id == campaign_id)
    dialed, connected, conversions, handoffs, abandoned, answered, live, vm = (
        await session.execute(q)
    ).one()
    c = CampaignContactRow
    by_status = dict(
        (
            await session.execute(
                select(c.status, func.count(c.id))
                .where(c.campaign_id == campaign_id)
                .group_by(c.status)
            )
        ).all()
    )
    disp = dict(
        (
            await session.execute(
                select(a.disposition, func.count(a.id))
                .where(a.campaign_id == campaign_id, a.disposition.is_not(None))
                .group_by(a.disposition)
            )
        ).all()
    )
    return {
        "campaign_id": campaign_id,
        "dialed": dialed,
        "connected": connected,
        "answered": answered,
        "voicemail": vm,
        "contact_rate": round(connected / dialed, 4) if dialed else 0.0,
        "conversions": conversions,
        "handoffs": handoffs,
        "abandoned": abandoned,
        "abandon_rate": round(abandoned / answered, 4) if answered else 0.0,
        "live_calls": live,
        "contacts": by_status,
        "dispositions": disp,
        "at": now.isoformat(),
    }


async def window_counts(
    session: AsyncSession, *, campaign_id: str, since: datetime
) -> tuple[int, int, int, int, int]:
    """(dialed, answered, abandoned) in the rolling window + (ringing, active) now."""
    a = CallAttemptRow
    q = select(
        func.count(a.id).filter(a.call_id.is_not(None), a.claimed_at >= since),
        func.count(a.id).filter(a.answered_at.is_not(None), a.answered_at >= since),
        func.count(a.id).filter(a.abandoned.is_(True), a.answered_at >= since),
        func.count(a.id).filter(a.status.in_(("dialing", "ringing"))),
        func.count(a.id).filter(a.status == "answered"),
    ).where(a.campaign_id == campaign_id)
    return tuple((await session.execute(q)).one())  # type: ignore[return-value]


async def export_rows(session: AsyncSession, *, campaign_id: str) -> list[dict]:
    """One row per contact with its final result and attempt count (for CSV export)."""
    c = CampaignContactRow
    rows = (
        await session.execute(
            select(c).where(c.campaign_id == campaign_id).order_by(c.row_number, c.phone_e164)
        )
    ).scalars()
    return [
        {
            "phone": r.phone_e164,
            "name": r.name,
            "status": r.status,
            "attempts": r.attempts,
            "last_disposition": r.last_disposition or "",
            "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else "",
            **{f"var_{k}": v for k, v in sorted(r.variables.items())},
        }
        for r in rows
    ]


def rolling_since(now: datetime, minutes: float) -> datetime:
    return now - timedelta(minutes=minutes)
