"""A whole campaign against the ARI protocol fake: 200 contacts in five time zones.

Checks calling windows (callee-local, holidays), retries per outcome and max attempts, the
DNC list (pre-listed and opt-outs heard in calls), the predictive abandon cap, dispositions,
dialer errors and restart safety. Time is a FrozenClock; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bots.campaigns import repo
from bots.campaigns.config import parse_config
from bots.campaigns.contact_lists import parse_contact_list
from bots.campaigns.dispositions import Disposition
from bots.campaigns.dnc import add_dnc
from bots.campaigns.scheduler import CampaignScheduler, TickReport
from bots.campaigns.windows import is_callable
from bots.dialer.asterisk_ari import AriDialer
from core.clock import FrozenClock
from core.store.tables.campaigns import (
    CallAttemptRow,
    CampaignContactRow,
    CampaignRow,
    ConsentRecordRow,
    DncEntryRow,
)
from tests.conftest import wait_for
from tests.fakes.ari_server import AriFake
from tests.integration.campaigns.conftest import ScriptedRunner

START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # Monday: 10:00 New York, 07:00 Los Angeles
PREFIXES = {"+1212736": 4, "+1415222": 4, "+4420794": 5, "+86138123": 5, "+6129123": 4}


def synthetic_numbers(n: int) -> list[str]:
    rng = random.Random(7)
    out: list[str] = []
    while len(out) < n:
        p = list(PREFIXES)[len(out) % len(PREFIXES)]
        num = p + "".join(rng.choice("0123456789") for _ in range(PREFIXES[p]))
        if num not in out:
            out.append(num)
    return out


SETTINGS = {
    "caller_id": "+12125550100",
    "default_region": "US",
    "windows": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "20:00"}],
    "holidays": {"GB": ["2026-01-05"]},
    "retry": {
        "max_attempts": 3,
        "intervals_min": {"no_answer": 60, "busy": 15, "voicemail": 120, "other": 30},
    },
    "pacing": {"mode": "predictive", "max_lines": 24, "bot_slots": 8, "abandon_cap": 0.03},
    "lease_s": 300,
}


async def _seed(sessions, csv_bytes: bytes, clock, settings=SETTINGS) -> str:  # type: ignore[no-untyped-def]
    parsed = parse_contact_list(csv_bytes, filename="list.csv", default_region="US")
    assert not parsed.errors, parsed.errors[:3]
    async with sessions() as s, s.begin():
        c = await repo.create_campaign(
            s, name="Reminders", script={}, settings=settings, now=clock.now()
        )
        await repo.add_contacts(s, campaign_id=c.id, contacts=parsed.contacts, now=clock.now())
        await repo.transition(s, campaign_id=c.id, action="launch", now=clock.now())
    return c.id


async def _settle_round(sched: CampaignScheduler, fake: AriFake, runner: ScriptedRunner) -> None:
    """Wait until every dialed call of this round is answered-and-held or ended."""
    await wait_for(
        lambda: all(lv.answered or False for lv in sched._live.values()) if sched._live else True,
        timeout=20,
    )
    runner.release.set()
    await wait_for(lambda: sched.live_calls == 0, timeout=20)
    runner.release.clear()


async def _campaign(sessions, cid: str) -> CampaignRow:  # type: ignore[no-untyped-def]
    async with sessions() as s:
        return await repo.get_campaign(s, cid)


async def _next_due(sessions, campaign_id: str):  # type: ignore[no-untyped-def]
    async with sessions() as s:
        q = select(func.min(CampaignContactRow.next_attempt_at)).where(
            CampaignContactRow.campaign_id == campaign_id, CampaignContactRow.status == "pending"
        )
        return (await s.execute(q)).scalar_one_or_none()


async def test_200_contacts_across_time_zones(cstore) -> None:
    numbers = synthetic_numbers(200)
    rng = random.Random(11)
    outcome_by_number: dict[str, str] = {}
    disposition_by_number: dict[str, Disposition] = {}
    for num in numbers:
        r = rng.random()
        outcome_by_number[num] = (
            "busy" if r < 0.12 else "no_answer" if r < 0.27 else "invalid" if r < 0.30 else "answer"
        )
        if outcome_by_number[num] == "answer":
            d = rng.choice(
                [
                    Disposition.PROMISE_TO_PAY,
                    Disposition.PROMISE_TO_PAY,
                    Disposition.VOICEMAIL,
                    Disposition.TRANSFERRED,
                    Disposition.OPT_OUT,
                    Disposition.ANSWERED_HUMAN,
                ]
            )
            disposition_by_number[num] = d
    dnc_pre = numbers[3:200:25]  # 8 numbers on the global DNC before launch
    clock = FrozenClock(START)
    csv_bytes = (
        "phone,name,amount,due_date\n"
        + "".join(
            f"{n},Customer {i},{100 + i}.00,2026-01-{10 + i % 18:02d}\n"
            for i, n in enumerate(numbers)
        )
    ).encode()
    runner = ScriptedRunner(disposition_by_number)
    async with AriFake(outcome_by_number) as fake:
        dialer = AriDialer(base_url=fake.base_url, username="hotline", password="secret")
        await dialer.start()
        sched = CampaignScheduler(
            sessions=cstore.sessions, dialer=dialer, runner=runner, clock=clock, owner="s1"
        )
        cid = await _seed(cstore.sessions, csv_bytes, clock)
        async with cstore.sessions() as s, s.begin():
            for n in dnc_pre:
                await add_dnc(s, phone_e164=n, now=clock.now(), reason="customer request")
        runner.release.clear()
        for _ in range(400):
            report = await sched.tick()
            await _settle_round(sched, fake, runner)
            if cid in report.completed_campaigns:
                break
            if report.dialed == 0:
                due = await _next_due(cstore.sessions, cid)
                assert due is not None
                clock._now = max(clock.now() + timedelta(minutes=1), due)
            else:
                clock.advance(60)
        await dialer.close()

    async with cstore.sessions() as s:
        camp = await s.get(CampaignRow, cid)
        assert camp is not None and camp.status == "completed"
        cfg = parse_config(camp.settings)
        contacts = {
            c.phone_e164: c for c in (await s.execute(select(CampaignContactRow))).scalars()
        }
        attempts = (await s.execute(select(CallAttemptRow))).scalars().all()
        stats = await repo.stats(s, campaign_id=cid, now=clock.now())
        dnc_rows = {d.phone_e164 for d in (await s.execute(select(DncEntryRow))).scalars()}
        optouts = {r.phone_e164 for r in (await s.execute(select(ConsentRecordRow))).scalars()}

    by_contact: dict[str, list[CallAttemptRow]] = {}
    for a in attempts:
        by_contact.setdefault(a.contact_id, []).append(a)
    # windows: every real dial happened inside the callee's local window, never on a holiday
    for a in attempts:
        if a.call_id is None:
            continue
        c = next(c for c in contacts.values() if c.id == a.contact_id)
        assert is_callable(a.claimed_at, zones=c.time_zones, region=c.region, config=cfg)
        if c.region == "GB":
            assert a.claimed_at.date() != date(2026, 1, 5)
    # DNC: pre-listed numbers never rang
    for n in dnc_pre:
        assert fake.dialed[n] == 0
        assert contacts[n].status == "dnc"
    # retries: busy / no-answer numbers were tried exactly max_attempts times, spaced by policy
    for n, outcome in outcome_by_number.items():
        if n in dnc_pre:
            continue
        if outcome in {"busy", "no_answer"}:
            assert fake.dialed[n] == 3, (n, outcome)
            times = sorted(a.claimed_at for a in by_contact[contacts[n].id])
            gap = 15 if outcome == "busy" else 60
            assert all(b - a >= timedelta(minutes=gap) for a, b in itertools.pairwise(times))
            assert contacts[n].status == "done"
        elif outcome == "invalid":
            assert fake.dialed[n] == 1 and contacts[n].status == "invalid"
        elif disposition_by_number[n] is Disposition.VOICEMAIL:
            assert fake.dialed[n] == 3
        else:  # one conversation; an abandoned answer (no bot free) is retried
            abandoned = sum(a.abandoned for a in by_contact[contacts[n].id])
            assert fake.dialed[n] == 1 + abandoned, (n, disposition_by_number[n])
            assert contacts[n].last_disposition == disposition_by_number[n].value
    # opt-outs heard in calls are on the DNC with consent evidence
    opted = {
        n for n, d in disposition_by_number.items() if d is Disposition.OPT_OUT and n not in dnc_pre
    }
    assert opted and opted <= dnc_rows and opted <= optouts
    # abandon cap, and predictive really over-dialed (more lines than bot slots)
    assert stats["abandon_rate"] <= 0.03
    assert runner.max_concurrent <= 8
    assert max(Counter(a.claimed_at for a in attempts if a.call_id).values()) > 8
    assert stats["conversions"] == sum(
        1
        for n, d in disposition_by_number.items()
        if d is Disposition.PROMISE_TO_PAY and n not in dnc_pre
    )
    assert stats["dispositions"]["dnc"] == len(dnc_pre)


async def test_dialer_error_dials_nothing_else_and_keeps_the_contact(cstore) -> None:
    clock = FrozenClock(START)
    numbers = [*synthetic_numbers(5)[:1], "+12127360001", "+12127360002"]
    csv_bytes = ("phone\n" + "\n".join(numbers) + "\n").encode()
    runner = ScriptedRunner({})
    async with AriFake({numbers[0]: "error"}) as fake:
        dialer = AriDialer(base_url=fake.base_url, username="hotline", password="secret")
        await dialer.start()
        sched = CampaignScheduler(
            sessions=cstore.sessions, dialer=dialer, runner=runner, clock=clock
        )
        settings = {**SETTINGS, "pacing": {"mode": "progressive", "max_lines": 5, "bot_slots": 5}}
        cid = await _seed(cstore.sessions, csv_bytes, clock, settings)
        report = await sched.tick()
        assert report.dialer_errors == 1 and report.dialed == 0
        assert sum(fake.dialed.values()) == 0  # the round stopped at the failing dialer
        async with cstore.sessions() as s:
            c = (
                await s.execute(
                    select(CampaignContactRow).where(CampaignContactRow.phone_e164 == numbers[0])
                )
            ).scalar_one()
        assert c.status == "pending" and c.attempts == 0
        assert c.last_disposition == "dialer_error"
        fake.script[numbers[0]] = "answer"
        clock.advance(31 * 60)
        await sched.tick()
        await wait_for(lambda: sched.live_calls == 0)
        assert all(fake.dialed[n] == 1 for n in numbers), (fake.dialed, numbers)
        await dialer.close()
        assert cid


async def test_restart_mid_campaign_never_calls_a_contact_twice(cstore) -> None:
    clock = FrozenClock(START)
    numbers = [f"+1212736{i:04d}" for i in range(12)]
    csv_bytes = ("phone\n" + "\n".join(numbers) + "\n").encode()
    # s1 claims 4 (its free slots), s2 then sees them as live lines until their lease expires
    settings = {**SETTINGS, "pacing": {"mode": "progressive", "max_lines": 8, "bot_slots": 8}}
    async with AriFake() as fake:
        d1 = AriDialer(base_url=fake.base_url, username="hotline", password="secret")
        await d1.start()
        stuck = ScriptedRunner({})
        stuck.release.clear()  # conversations never finish: the process "dies" mid-call
        s1 = CampaignScheduler(
            sessions=cstore.sessions, dialer=d1, runner=stuck, clock=clock, owner="s1"
        )
        cid = await _seed(cstore.sessions, csv_bytes, clock, settings)
        s1.claim_batch = 4
        await s1._dial_batch(
            await _campaign(cstore.sessions, cid), parse_config(settings), 4, TickReport()
        )
        await wait_for(lambda: len(stuck.calls) == 4)
        first = set(fake.dialed)
        await d1.close()  # crash: s1 hears nothing more and never settles
        live_tasks = [lv.task for lv in s1._live.values() if lv.task]
        s1._live.clear()

        d2 = AriDialer(base_url=fake.base_url, username="hotline", password="secret")
        await d2.start()
        ok = ScriptedRunner({})
        s2 = CampaignScheduler(
            sessions=cstore.sessions, dialer=d2, runner=ok, clock=clock, owner="s2"
        )
        for _ in range(3):  # before the lease expires: the claimed four are left alone
            await s2.tick()
            await wait_for(lambda: s2.live_calls == 0)
            clock.advance(60)
        assert all(fake.dialed[n] == 1 for n in numbers)
        clock.advance(300)  # leases expire: settled as unknown, retried only after 30 min
        rep = await s2.tick()
        await wait_for(lambda: s2.live_calls == 0)
        assert rep.recovered == 4
        assert all(fake.dialed[n] == 1 for n in first)
        clock.advance(31 * 60)
        await s2.tick()
        await wait_for(lambda: s2.live_calls == 0)
        assert all(fake.dialed[n] == 2 for n in first)
        async with cstore.sessions() as s:
            per = Counter(
                (a.contact_id, a.seq)
                for a in (
                    await s.execute(select(CallAttemptRow).where(CallAttemptRow.campaign_id == cid))
                ).scalars()
            )
        assert max(per.values()) == 1
        for t in live_tasks:
            t.cancel()
        await asyncio.gather(*live_tasks, return_exceptions=True)
        await d2.close()


@pytest.mark.parametrize("days", [[5, 6]])
async def test_campaign_outside_all_windows_dials_nothing(cstore, days) -> None:
    clock = FrozenClock(START)
    csv_bytes = b"phone\n+12127360001\n+14152220002\n"
    settings = {**SETTINGS, "windows": [{"days": days, "start": "09:00", "end": "17:00"}]}
    async with AriFake() as fake:
        dialer = AriDialer(base_url=fake.base_url, username="hotline", password="secret")
        await dialer.start()
        sched = CampaignScheduler(
            sessions=cstore.sessions, dialer=dialer, runner=ScriptedRunner({}), clock=clock
        )
        cid = await _seed(cstore.sessions, csv_bytes, clock, settings)
        rep = await sched.tick()
        assert rep.dialed == 0 and rep.skipped_window == 2 and not fake.dialed
        due = await _next_due(cstore.sessions, cid)
        assert due is not None and due.weekday() == 5  # deferred to Saturday local morning
        await dialer.close()


async def test_schedule_start_and_end(cstore) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(START)
    settings = {
        **SETTINGS,
        "start_at": (START + timedelta(hours=1)).isoformat(),
        "end_at": (START + timedelta(hours=2)).isoformat(),
        "pacing": {"mode": "progressive", "max_lines": 1, "bot_slots": 1},
    }
    csv_bytes = b"phone\n+12127360001\n+12127360002\n"
    async with AriFake() as fake:
        dialer = AriDialer(base_url=fake.base_url, username="hotline", password="secret")
        await dialer.start()
        sched = CampaignScheduler(
            sessions=cstore.sessions, dialer=dialer, runner=ScriptedRunner({}), clock=clock
        )
        cid = await _seed(cstore.sessions, csv_bytes, clock, settings)
        assert (await sched.tick()).dialed == 0 and not fake.dialed  # not started yet
        clock.advance(3600)
        assert (await sched.tick()).dialed == 1
        await wait_for(lambda: sched.live_calls == 0)
        clock.advance(3600)  # end of schedule: completes with one contact never called
        assert cid in (await sched.tick()).completed_campaigns
        assert sum(fake.dialed.values()) == 1
        await dialer.close()


async def test_demo_seed_is_idempotent(cstore) -> None:  # type: ignore[no-untyped-def]
    from bots.campaigns.seed import seed_demo_campaigns

    clock = FrozenClock(START)
    first = await seed_demo_campaigns(cstore.sessions, clock=clock)
    assert len(first) == 3
    assert await seed_demo_campaigns(cstore.sessions, clock=clock) == []
    async with cstore.sessions() as s:
        n = (await s.execute(select(func.count(CampaignContactRow.id)))).scalar_one()
    assert n == 12


async def test_preview_pacing_dials_only_on_request(cstore) -> None:  # type: ignore[no-untyped-def]
    clock = FrozenClock(START)
    settings = {**SETTINGS, "pacing": {"mode": "preview", "max_lines": 1, "bot_slots": 1}}
    async with AriFake() as fake:
        dialer = AriDialer(base_url=fake.base_url, username="hotline", password="secret")
        await dialer.start()
        runner = ScriptedRunner({})
        runner.release.clear()
        sched = CampaignScheduler(
            sessions=cstore.sessions, dialer=dialer, runner=runner, clock=clock
        )
        cid = await _seed(cstore.sessions, b"phone\n+12127360001\n+12127360002\n", clock, settings)
        assert (await sched.tick()).dialed == 0 and not fake.dialed
        assert await sched.dial_next(cid)
        await wait_for(lambda: len(runner.calls) == 1)
        assert not await sched.dial_next(cid)  # the one line is busy
        runner.release.set()
        await wait_for(lambda: sched.live_calls == 0)
        assert await sched.dial_next(cid)
        await wait_for(lambda: sched.live_calls == 0)
        assert sorted(fake.dialed.values()) == [1, 1]
        await dialer.close()
