"""The campaign scheduler: claims due contacts, dials them, settles every outcome.

Restart safety comes from doing every step as a database state transition:

1. *claim*: ``UPDATE campaign_contacts SET status='dialing', lease… WHERE id=? AND
   status='pending'`` plus the ``call_attempts`` row (unique per contact and ``seq``), committed
   **before** the dialer is asked to call. Two schedulers can never claim the same contact.
2. *originate*: only for a committed claim. A dialer error puts the contact back to pending
   (not counted as an attempt) and stops this tick: nothing else is dialed on a failing dialer.
3. *settle*: one transaction ends the attempt (only if not yet ended: updates are
   idempotent) and moves the contact to pending-with-retry-time or done.

A crash between 1 and 3 leaves a leased contact. No scheduler touches it until its lease
expires; then it is settled as ``unknown`` (counted as an attempt) and retried only after the
"other" retry interval. So a restart never re-dials a contact straight away.

Time is the injected clock; ``tick()`` does one round and is what tests drive.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bots.campaigns import repo
from bots.campaigns.config import CampaignConfig, parse_config
from bots.campaigns.dispositions import NOT_AN_ATTEMPT, RETRYABLE, Disposition, retry_key
from bots.campaigns.dnc import is_blocked, record_consent
from bots.campaigns.errors import DialerError
from bots.campaigns.pacing import PacingState, decide_dials
from bots.campaigns.windows import is_callable, next_callable
from bots.dialer.base import FINAL_STATUSES, CallStatus, CallUpdate, Dialer, DialRequest
from core.bus.base import Bus
from core.clock import Clock
from core.domain import Channel, Direction
from core.events import ContactEnded, ContactStarted
from core.store.tables.campaigns import CallAttemptRow, CampaignContactRow, CampaignRow

log = structlog.get_logger("hotline.campaigns.scheduler")


@dataclass(frozen=True)
class ConnectedCall:
    """What a call runner gets when a callee answers."""

    attempt_id: str
    call_id: str
    campaign_id: str
    contact_id: str
    phone_e164: str
    name: str
    variables: dict[str, str]
    language: str
    script: dict
    config: CampaignConfig
    answered_by: str | None = None


@dataclass(frozen=True)
class CallResult:
    disposition: Disposition
    answered_by: str | None = None
    handoff: bool = False
    opt_out: bool = False
    amd_confidence: float | None = None
    note: str = ""


class CallRunner(Protocol):
    """Runs the bot conversation on an answered call (voice pipeline, test phone, a fake)."""

    async def run(self, call: ConnectedCall) -> CallResult: ...


@dataclass
class _Live:
    attempt_id: str
    campaign_id: str
    contact_id: str
    call_id: str | None = None
    task: asyncio.Task | None = None
    answered: bool = False


@dataclass
class TickReport:
    dialed: int = 0
    skipped_window: int = 0
    dnc: int = 0
    dialer_errors: int = 0
    recovered: int = 0
    completed_campaigns: list[str] = field(default_factory=list)


class CampaignScheduler:
    """One scheduler per process; several may share a database (leases keep them apart)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker,
        dialer: Dialer,
        runner: CallRunner,
        clock: Clock,
        bus: Bus | None = None,
        owner: str | None = None,
        free_agents: Callable[[], int] | None = None,
        poll_interval_s: float = 1.0,
        claim_batch: int = 50,
    ) -> None:
        self.sessions = sessions
        self.dialer = dialer
        self.runner = runner
        self.clock = clock
        self.bus = bus
        self.owner = owner or f"sched-{uuid.uuid4().hex[:8]}"
        self.free_agents = free_agents
        self.poll_interval_s = poll_interval_s
        self.claim_batch = claim_batch
        self._live: dict[str, _Live] = {}
        self._by_call: dict[str, str] = {}
        self._active: dict[str, int] = {}
        self._loop_task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        dialer.set_handler(self.handle_update)

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Run ``tick`` every ``poll_interval_s`` in a background task (the app's lifespan)."""
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop(), name=f"campaigns-{self.owner}")

    async def stop(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        for live in list(self._live.values()):
            if live.task is not None:
                live.task.cancel()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad round must not stop every campaign; logged in full
                log.exception("campaigns.tick_failed")
            await asyncio.sleep(self.poll_interval_s)

    @property
    def live_calls(self) -> int:
        return len(self._live)

    async def drain(self) -> None:
        """Wait for every running conversation task to finish (tests, shutdown)."""
        tasks = [lv.task for lv in self._live.values() if lv.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- one round ---------------------------------------------------------------------

    async def tick(self) -> TickReport:
        report = TickReport()
        async with self._lock:
            async with self.sessions() as s:
                campaigns = (
                    (await s.execute(select(CampaignRow).where(CampaignRow.status == "running")))
                    .scalars()
                    .all()
                )
            for c in campaigns:
                report.recovered += await self._recover_expired(c.id)
                cfg = parse_config(c.settings, where=f"campaign {c.name!r}")
                now = self.clock.now()
                if cfg.start_at and now < cfg.start_at:
                    continue  # scheduled for later
                if cfg.end_at and now >= cfg.end_at:
                    await self._complete(c.id)
                    report.completed_campaigns.append(c.id)
                    continue
                n = await self._pace(c.id, cfg)
                if n > 0:
                    ok = await self._dial_batch(c, cfg, n, report)
                    if not ok:
                        break  # the dialer is failing: dial nothing else this round
                if await self._finished(c.id):
                    await self._complete(c.id)
                    report.completed_campaigns.append(c.id)
        return report

    async def _complete(self, campaign_id: str) -> None:
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(CampaignRow)
                .where(CampaignRow.id == campaign_id, CampaignRow.status == "running")
                .values(status="completed", updated_at=self.clock.now())
            )

    async def dial_next(self, campaign_id: str) -> bool:
        """Preview mode: a person asked to dial the next due contact now."""
        async with self._lock:
            async with self.sessions() as s:
                c = await repo.get_campaign(s, campaign_id)
            if c.status != "running":
                return False
            cfg = parse_config(c.settings)
            async with self.sessions() as s:
                _, _, _, ringing, active = await repo.window_counts(
                    s, campaign_id=campaign_id, since=self.clock.now()
                )
            if ringing + active >= cfg.pacing.max_lines:
                return False
            report = TickReport()
            await self._dial_batch(c, cfg, 1, report)
            return report.dialed == 1

    async def _pace(self, campaign_id: str, cfg: CampaignConfig) -> int:
        now = self.clock.now()
        async with self.sessions() as s:
            dialed, answered, abandoned, ringing, active = await repo.window_counts(
                s,
                campaign_id=campaign_id,
                since=repo.rolling_since(now, cfg.pacing.abandon_window_min),
            )
        free_agents = self.free_agents() if self.free_agents else cfg.pacing.handoff_agents
        state = PacingState(
            active_calls=active,
            ringing=ringing,
            free_agents=free_agents,
            answered_in_window=answered,
            abandoned_in_window=abandoned,
            dialed_in_window=dialed,
        )
        return decide_dials(cfg.pacing, state).dial

    async def _finished(self, campaign_id: str) -> bool:
        async with self.sessions() as s:
            q = (
                select(CampaignContactRow.id)
                .where(
                    CampaignContactRow.campaign_id == campaign_id,
                    CampaignContactRow.status.in_(("pending", "dialing")),
                )
                .limit(1)
            )
            return (await s.execute(q)).first() is None

    async def _dial_batch(
        self, c: CampaignRow, cfg: CampaignConfig, n: int, report: TickReport
    ) -> bool:
        now = self.clock.now()
        async with self.sessions() as s:
            q = (
                select(CampaignContactRow)
                .where(
                    CampaignContactRow.campaign_id == c.id,
                    CampaignContactRow.status == "pending",
                    CampaignContactRow.next_attempt_at <= now,
                )
                .order_by(CampaignContactRow.next_attempt_at, CampaignContactRow.row_number)
                .limit(max(self.claim_batch, n * 4))
            )
            candidates = (await s.execute(q)).scalars().all()
        for contact in candidates:
            if report.dialed >= n:
                break
            if not is_callable(now, zones=contact.time_zones, region=contact.region, config=cfg):
                await self._defer(contact, cfg, now)
                report.skipped_window += 1
                continue
            claimed = await self._claim(c, contact, cfg, now, report)
            if claimed is None:
                continue
            if not await self._originate(c, contact, cfg, claimed, report):
                return False
            report.dialed += 1
        return True

    async def _defer(self, contact: CampaignContactRow, cfg: CampaignConfig, now: datetime) -> None:
        nxt = next_callable(now, zones=contact.time_zones, region=contact.region, config=cfg)
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(CampaignContactRow)
                .where(CampaignContactRow.id == contact.id, CampaignContactRow.status == "pending")
                .values(next_attempt_at=nxt or now + timedelta(days=1), updated_at=now)
            )

    async def _claim(
        self,
        c: CampaignRow,
        contact: CampaignContactRow,
        cfg: CampaignConfig,
        now: datetime,
        report: TickReport,
    ) -> str | None:
        """Claim + attempt row in one committed transaction; None if lost or DNC."""
        attempt_id = uuid.uuid4().hex
        async with self.sessions() as s, s.begin():
            res = await s.execute(
                update(CampaignContactRow)
                .where(CampaignContactRow.id == contact.id, CampaignContactRow.status == "pending")
                .values(
                    status="dialing",
                    lease_owner=self.owner,
                    lease_until=now + timedelta(seconds=cfg.lease_s),
                    dials=CampaignContactRow.dials + 1,
                    updated_at=now,
                )
            )
            if res.rowcount != 1:
                return None  # another scheduler got it first
            seq = contact.dials + 1
            blocked = await is_blocked(s, phone_e164=contact.phone_e164, campaign_id=c.id)
            s.add(
                CallAttemptRow(
                    id=attempt_id,
                    campaign_id=c.id,
                    contact_id=contact.id,
                    seq=seq,
                    dialer=self.dialer.name,
                    status="ended" if blocked else "dialing",
                    disposition=Disposition.DNC.value if blocked else None,
                    claimed_at=now,
                    ended_at=now if blocked else None,
                )
            )
            if blocked:
                await s.execute(
                    update(CampaignContactRow)
                    .where(CampaignContactRow.id == contact.id)
                    .values(
                        status="dnc",
                        lease_owner=None,
                        lease_until=None,
                        last_disposition=Disposition.DNC.value,
                    )
                )
                report.dnc += 1
                return None
        self._live[attempt_id] = _Live(attempt_id, c.id, contact.id)
        return attempt_id

    async def _originate(
        self,
        c: CampaignRow,
        contact: CampaignContactRow,
        cfg: CampaignConfig,
        attempt_id: str,
        report: TickReport,
    ) -> bool:
        req = DialRequest(
            attempt_id=attempt_id,
            to=contact.phone_e164,
            caller_id=cfg.caller_id,
            campaign_id=c.id,
            contact_id=contact.id,
            ring_timeout_s=cfg.pacing.ring_timeout_s,
            variables={k: str(v) for k, v in contact.variables.items()},
        )
        try:
            call_id = await self.dialer.originate(req)
        except DialerError as e:
            report.dialer_errors += 1
            invalid = e.code == "dialer_invalid_number"
            await self.settle(
                attempt_id,
                CallResult(
                    Disposition.INVALID if invalid else Disposition.DIALER_ERROR, note=e.message
                ),
            )
            log.warning("campaigns.dialer_error", attempt=attempt_id, error=e.message)
            return invalid  # an invalid number is that number's problem, not the dialer's
        live = self._live.get(attempt_id)
        if live is not None:
            live.call_id = call_id
            self._by_call[call_id] = attempt_id
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(CallAttemptRow)
                .where(CallAttemptRow.id == attempt_id, CallAttemptRow.call_id.is_(None))
                .values(call_id=call_id)
            )
        if self.bus is not None:
            self.bus.publish_nowait(
                ContactStarted(
                    contact_id=attempt_id,
                    channel=Channel.VOICE,
                    direction=Direction.OUTBOUND,
                    campaign_id=c.id,
                    at=self.clock.now(),
                )
            )
        return True

    # --- outcomes ----------------------------------------------------------------------

    async def handle_update(self, update_: CallUpdate) -> None:
        """Entry point for dialer events (websocket, status callback, test phone)."""
        attempt_id = update_.attempt_id or self._by_call.get(update_.call_id)
        if attempt_id is None:
            attempt_id = await self._attempt_for_call(update_.call_id)
            if attempt_id is None:
                return
        live = self._live.get(attempt_id)
        if live is not None and live.call_id is None and update_.call_id:
            live.call_id = update_.call_id
            self._by_call[update_.call_id] = attempt_id
        if update_.status is CallStatus.RINGING:
            await self._mark(attempt_id, status="ringing")
        elif update_.status is CallStatus.ANSWERED:
            await self._answered(attempt_id, update_)
        elif update_.status in FINAL_STATUSES:
            await self._ended(attempt_id, update_)

    async def _attempt_for_call(self, call_id: str) -> str | None:
        async with self.sessions() as s:
            q = select(CallAttemptRow.id).where(CallAttemptRow.call_id == call_id)
            return (await s.execute(q)).scalar_one_or_none()

    async def _mark(self, attempt_id: str, **values: object) -> None:
        async with self.sessions() as s, s.begin():
            await s.execute(
                update(CallAttemptRow)
                .where(CallAttemptRow.id == attempt_id, CallAttemptRow.status != "ended")
                .values(**values)
            )

    async def _answered(self, attempt_id: str, upd: CallUpdate) -> None:
        now = self.clock.now()
        async with self.sessions() as s:
            attempt = await s.get(CallAttemptRow, attempt_id)
            if attempt is None or attempt.status == "ended":
                return
            contact = await s.get(CampaignContactRow, attempt.contact_id)
            campaign = await s.get(CampaignRow, attempt.campaign_id)
        assert contact is not None and campaign is not None
        cfg = parse_config(campaign.settings)
        live = self._live.setdefault(attempt_id, _Live(attempt_id, campaign.id, contact.id))
        live.answered = True
        await self._mark(attempt_id, status="answered", answered_at=now)
        if self._active.get(campaign.id, 0) >= cfg.pacing.bot_slots:
            # Answered with no bot free: that is an abandoned call (counted against the cap).
            await self.settle(attempt_id, CallResult(Disposition.ABANDONED), abandoned=True)
            await self._hangup(upd.call_id)
            return
        self._active[campaign.id] = self._active.get(campaign.id, 0) + 1
        call = ConnectedCall(
            attempt_id=attempt_id,
            call_id=upd.call_id,
            campaign_id=campaign.id,
            contact_id=contact.id,
            phone_e164=contact.phone_e164,
            name=contact.name,
            variables=dict(contact.variables),
            language=campaign.language,
            script=campaign.script,
            config=cfg,
            answered_by=upd.answered_by,
        )
        live.task = asyncio.create_task(self._converse(call), name=f"call-{attempt_id}")

    async def _converse(self, call: ConnectedCall) -> None:
        try:
            result = await self.runner.run(call)
        except asyncio.CancelledError:
            result = CallResult(Disposition.ANSWERED_HUMAN, note="callee hung up")
        except Exception as e:  # a broken conversation still ends the attempt, with its reason
            log.exception("campaigns.runner_failed", attempt=call.attempt_id)
            result = CallResult(Disposition.FAILED, note=f"runner: {e!r}")
        finally:
            self._active[call.campaign_id] = max(0, self._active.get(call.campaign_id, 1) - 1)
        await self.settle(call.attempt_id, result)
        await self._hangup(call.call_id)

    async def _hangup(self, call_id: str | None) -> None:
        if not call_id:
            return
        try:
            await self.dialer.hangup(call_id)
        except DialerError as e:
            log.warning("campaigns.hangup_failed", call_id=call_id, error=e.message)

    async def _ended(self, attempt_id: str, upd: CallUpdate) -> None:
        live = self._live.get(attempt_id)
        if live is not None and live.task is not None and not live.task.done():
            live.task.cancel()  # callee hung up mid-conversation; _converse settles
            return
        if live is not None and live.answered:
            return  # the conversation already settled this attempt
        mapping = {
            CallStatus.BUSY: Disposition.BUSY,
            CallStatus.NO_ANSWER: Disposition.NO_ANSWER,
            CallStatus.INVALID: Disposition.INVALID,
            CallStatus.FAILED: Disposition.FAILED,
            CallStatus.COMPLETED: Disposition.NO_ANSWER,
        }
        await self.settle(attempt_id, CallResult(mapping[upd.status], note=upd.cause))

    async def settle(
        self,
        attempt_id: str,
        result: CallResult,
        *,
        abandoned: bool = False,
    ) -> bool:
        """End an attempt and move its contact on; idempotent (False if already ended)."""
        now = self.clock.now()
        d = result.disposition
        async with self.sessions() as s, s.begin():
            res = await s.execute(
                update(CallAttemptRow)
                .where(CallAttemptRow.id == attempt_id, CallAttemptRow.status != "ended")
                .values(
                    status="ended",
                    disposition=d.value,
                    ended_at=now,
                    answered_by=result.answered_by,
                    handoff=result.handoff,
                    abandoned=abandoned,
                    amd_confidence=result.amd_confidence,
                    error=result.note or None,
                )
            )
            if res.rowcount != 1:
                self._forget(attempt_id)
                return False
            attempt = await s.get(CallAttemptRow, attempt_id)
            assert attempt is not None
            contact = await s.get(CampaignContactRow, attempt.contact_id)
            campaign = await s.get(CampaignRow, attempt.campaign_id)
            assert contact is not None and campaign is not None
            cfg = parse_config(campaign.settings)
            attempts = contact.attempts + (0 if d in NOT_AN_ATTEMPT else 1)
            values: dict = {
                "attempts": attempts,
                "lease_owner": None,
                "lease_until": None,
                "last_disposition": d.value,
                "updated_at": now,
                "result": {**contact.result, "disposition": d.value, "note": result.note},
            }
            if d is Disposition.OPT_OUT or result.opt_out:
                await record_consent(
                    s,
                    phone_e164=contact.phone_e164,
                    kind="opt_out",
                    now=now,
                    campaign_id=campaign.id,
                    source="call",
                    note="asked not to be called again",
                    attempt_id=attempt_id,
                )
                values["status"] = "done"
            elif d is Disposition.INVALID:
                values["status"] = "invalid"
            elif d in RETRYABLE and attempts < cfg.retry.max_attempts:
                wait_min = cfg.retry.intervals_min.get(retry_key(d), 30.0)
                values["status"] = "pending"
                values["next_attempt_at"] = now + timedelta(minutes=wait_min)
            else:
                values["status"] = "done"
            await s.execute(
                update(CampaignContactRow)
                .where(CampaignContactRow.id == contact.id)
                .values(**values)
            )
        self._forget(attempt_id)
        if self.bus is not None:
            self.bus.publish_nowait(
                ContactEnded(contact_id=attempt_id, outcome=d.value, at=now, reason=d.value)
            )
        return True

    def _forget(self, attempt_id: str) -> None:
        live = self._live.pop(attempt_id, None)
        if live is not None and live.call_id:
            self._by_call.pop(live.call_id, None)

    async def _recover_expired(self, campaign_id: str) -> int:
        """Settle attempts whose lease expired (their scheduler died) as ``unknown``."""
        now = self.clock.now()
        async with self.sessions() as s:
            q = (
                select(CallAttemptRow.id, CallAttemptRow.call_id)
                .join(CampaignContactRow, CampaignContactRow.id == CallAttemptRow.contact_id)
                .where(
                    CallAttemptRow.campaign_id == campaign_id,
                    CallAttemptRow.status != "ended",
                    CampaignContactRow.status == "dialing",
                    CampaignContactRow.lease_until < now,
                )
            )
            stale = list((await s.execute(q)).all())
        n = 0
        for attempt_id, call_id in stale:
            if attempt_id in self._live:
                continue
            if await self.settle(
                attempt_id, CallResult(Disposition.UNKNOWN, note="lease expired (restart)")
            ):
                n += 1
                await self._hangup(call_id)  # an orphan call may still be up: end it
        return n
