"""Do-not-call list (global and per campaign) and consent / opt-out evidence.

Checked at dial time, not at upload time: a number added to the DNC after the list was
loaded must still not ring. An opt-out heard in a call ("don't call me again") writes both
a DNC entry and a consent record, in one transaction, so the evidence and the block agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.store.tables.campaigns import ConsentRecordRow, DncEntryRow


async def is_blocked(session: AsyncSession, *, phone_e164: str, campaign_id: str | None) -> bool:
    """True when the number is on the global DNC or on this campaign's."""
    q = select(DncEntryRow.id).where(DncEntryRow.phone_e164 == phone_e164)
    scope = DncEntryRow.campaign_id.is_(None)
    if campaign_id:
        scope = or_(scope, DncEntryRow.campaign_id == campaign_id)
    return (await session.execute(q.where(scope).limit(1))).first() is not None


async def blocked_numbers(
    session: AsyncSession, *, phones: list[str], campaign_id: str | None
) -> set[str]:
    """The subset of ``phones`` that is blocked (one query for a batch)."""
    if not phones:
        return set()
    scope = DncEntryRow.campaign_id.is_(None)
    if campaign_id:
        scope = or_(scope, DncEntryRow.campaign_id == campaign_id)
    q = select(DncEntryRow.phone_e164).where(DncEntryRow.phone_e164.in_(phones), scope)
    return set((await session.execute(q)).scalars())


async def add_dnc(
    session: AsyncSession,
    *,
    phone_e164: str,
    now: datetime,
    campaign_id: str | None = None,
    reason: str = "",
    source: str = "manual",
) -> bool:
    """Add a number (idempotent); returns False when it was already there."""
    q = select(DncEntryRow.id).where(DncEntryRow.phone_e164 == phone_e164)
    q = q.where(
        DncEntryRow.campaign_id.is_(None)
        if campaign_id is None
        else DncEntryRow.campaign_id == campaign_id
    )
    if (await session.execute(q)).first():
        return False
    session.add(
        DncEntryRow(
            phone_e164=phone_e164,
            campaign_id=campaign_id,
            reason=reason,
            source=source,
            created_at=now,
        )
    )
    return True


async def remove_dnc(session: AsyncSession, *, phone_e164: str, campaign_id: str | None) -> int:
    q = delete(DncEntryRow).where(DncEntryRow.phone_e164 == phone_e164)
    q = q.where(
        DncEntryRow.campaign_id.is_(None)
        if campaign_id is None
        else DncEntryRow.campaign_id == campaign_id
    )
    return (await session.execute(q)).rowcount or 0


async def record_consent(
    session: AsyncSession,
    *,
    phone_e164: str,
    kind: str,
    now: datetime,
    campaign_id: str | None = None,
    source: str = "",
    note: str = "",
    attempt_id: str | None = None,
) -> None:
    """Append consent evidence; an ``opt_out`` also puts the number on the global DNC."""
    session.add(
        ConsentRecordRow(
            phone_e164=phone_e164,
            campaign_id=campaign_id,
            kind=kind,
            source=source,
            note=note,
            attempt_id=attempt_id,
            at=now,
        )
    )
    if kind == "opt_out":
        await add_dnc(
            session, phone_e164=phone_e164, now=now, reason="opt_out", source=source or "call"
        )
