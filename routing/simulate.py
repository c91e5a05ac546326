"""Discrete-event contact-center simulator driven by the real routing decision.

Arrivals (Poisson with a seed, or replayed from recorded calls such as the Anonymous Bank
data) go through :func:`routing.decide.decide`; a freed agent takes work through
:func:`routing.decide.pick_contact`; agent moves go through :mod:`routing.state`. So the
simulated SL/ASA/abandon/occupancy are those of the code we ship, and on Poisson input
with exponential service they must agree with Erlang C (issue 7: within 2 SL points).
"""

from __future__ import annotations

import csv
import heapq
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.domain import AgentStatus, Channel
from routing import state
from routing.decide import decide, pick_contact
from routing.model import AgentSnapshot, ContactRequest, Policy, QueueConfig


@dataclass(frozen=True, slots=True)
class Arrival:
    """One offered contact: when it arrives, how long it needs, how long it will wait."""

    at_s: float
    service_s: float
    patience_s: float = math.inf
    queue_id: str = "default"
    skills_needed: Mapping[str, int] = field(default_factory=dict)
    language: str | None = None
    priority: int = 0
    vip: bool = False


@dataclass(frozen=True, slots=True)
class SimResult:
    """What a simulated run measured (calls counted after the warm-up)."""

    offered: int
    answered: int
    abandoned: int
    overflowed: int
    service_level: float
    asa_s: float
    abandon_rate: float
    occupancy: float
    decisions: int

    def as_dict(self) -> dict:
        return asdict(self)


def poisson_arrivals(
    calls_per_hour: float,
    aht_s: float,
    duration_s: float,
    *,
    seed: int,
    patience_s: float | None = None,
) -> list[Arrival]:
    """Poisson arrivals with exponential service (and patience, if given)."""
    rng = random.Random(seed)
    lam = calls_per_hour / 3600.0
    out: list[Arrival] = []
    t = rng.expovariate(lam)
    while t < duration_s:
        patience = rng.expovariate(1.0 / patience_s) if patience_s else math.inf
        out.append(Arrival(t, rng.expovariate(1.0 / aht_s), patience))
        t += rng.expovariate(lam)
    return out


def _hms(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def bank_arrivals(path: Path, *, date: str | None = None) -> list[Arrival]:
    """Replay the Anonymous Bank call records (Technion, Feb 1999) as arrivals.

    Each call enters the queue at ``q_start`` (or ``vru_exit`` when it never queued);
    served calls bring their ``ser_time``, abandoned ones their ``q_time`` as patience
    and the day's mean service time. PHANTOM rows are skipped. ``date`` is ``YYMMDD``.
    """
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["outcome"] != "PHANTOM"]
    date = date or (rows[0]["date"] if rows else None)
    rows = [r for r in rows if r["date"] == date]
    served = [
        int(r["ser_time"]) for r in rows if r["outcome"] == "AGENT" and int(r["ser_time"]) > 0
    ]
    mean_service = sum(served) / len(served) if served else 180.0
    day0 = min((_hms(r["vru_exit"]) for r in rows), default=0)
    out = []
    for r in rows:
        q_start = _hms(r["q_start"])
        at = float((q_start if q_start else _hms(r["vru_exit"])) - day0)
        prio = int(r["priority"] or 0)
        if r["outcome"] == "HANG":
            patience = max(1.0, float(r["q_time"]))
            out.append(Arrival(at, mean_service, patience_s=patience, priority=prio))
        else:
            service_s = float(r["ser_time"]) or mean_service
            out.append(Arrival(at, max(1.0, service_s), priority=prio))
    out.sort(key=lambda a: a.at_s)
    return out


def staff(n: int, start: datetime, *, languages: Iterable[str] = ("en",)) -> list[AgentSnapshot]:
    """``n`` identical available voice agents, for Erlang-style runs."""
    return [
        AgentSnapshot(
            id=f"sim{i:04d}",
            languages=frozenset(languages),
            state=AgentStatus.AVAILABLE,
            idle_since=start,
            capacity={Channel.VOICE: 1},
        )
        for i in range(n)
    ]


def simulate(
    arrivals: Sequence[Arrival],
    agents: Sequence[AgentSnapshot] | int,
    *,
    queues: Mapping[str, QueueConfig] | None = None,
    policy: Policy | None = None,
    answer_within_s: float = 20.0,
    warmup_s: float = 0.0,
    wrap_up_s: float = 0.0,
    start: datetime | None = None,
) -> SimResult:
    """Run every arrival through the router until the last contact is done."""
    start = start or datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    queues = queues or {"default": QueueConfig("default")}
    policy = policy or Policy()
    pool = {a.id: a for a in (staff(agents, start) if isinstance(agents, int) else agents)}
    n_agents = len(pool)
    events: list[tuple[float, int, str, str]] = []
    seq = 0

    def push(t: float, kind: str, key: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, key))

    for i, a in enumerate(arrivals):
        push(a.at_s, "arrive", str(i))
    waiting: dict[str, ContactRequest] = {}
    service: dict[str, float] = {}
    offered = answered = within = abandoned = overflowed = decisions = 0
    wait_sum = 0.0
    busy = 0
    busy_area = 0.0
    last_t = warmup_s
    end_t = arrivals[-1].at_s if arrivals else 0.0

    def measured(cid: str) -> bool:
        return arrivals[int(cid)].at_s >= warmup_s

    def start_service(agent_id: str, c: ContactRequest, t: float) -> None:
        nonlocal answered, within, wait_sum, busy
        now = start + timedelta(seconds=t)
        a = state.offer(pool[agent_id], c.id, c.channel, now)
        pool[agent_id] = state.accept(a, c.id, now)
        busy += 1
        push(t + service[c.id], "done", f"{agent_id}|{c.id}")
        if measured(c.id):
            w = t - arrivals[int(c.id)].at_s
            answered += 1
            wait_sum += w
            within += w <= answer_within_s + 1e-9

    while events:
        t, _, kind, key = heapq.heappop(events)
        if warmup_s <= t <= end_t:
            busy_area += busy * (t - last_t)
            last_t = t
        elif t > end_t and last_t < end_t:
            busy_area += busy * (end_t - last_t)
            last_t = end_t
        now = start + timedelta(seconds=t)
        if kind == "arrive":
            a = arrivals[int(key)]
            c = ContactRequest(
                id=key,
                enqueued_at=now,
                queue_id=a.queue_id,
                skills_needed=a.skills_needed,
                language=a.language,
                priority=a.priority,
                vip=a.vip,
            )
            service[key] = a.service_s
            offered += measured(key)
            decisions += 1
            d = decide(c, list(pool.values()), queues, policy, now, queue_length=len(waiting))
            if d.kind == "assign" and d.agent_id:
                start_service(d.agent_id, c, t)
            elif d.kind == "overflow":
                overflowed += measured(key)
            else:
                waiting[key] = c
                if math.isfinite(a.patience_s):
                    push(t + a.patience_s, "abandon", key)
        elif kind == "abandon":
            if waiting.pop(key, None) is not None:
                abandoned += measured(key)
        elif kind in ("done", "wrapped"):
            agent_id, cid = key.split("|")
            if kind == "done":
                busy -= 1
                pool[agent_id] = state.end_contact(pool[agent_id], cid, now, wrap_up_s=wrap_up_s)
                if wrap_up_s > 0:
                    push(t + wrap_up_s, "wrapped", key)
                    continue
            else:
                pool[agent_id] = state.expire_wrap_up(pool[agent_id], now)
            decisions += 1
            nxt = pick_contact(pool[agent_id], waiting.values(), queues, policy, now)
            if nxt is not None:
                del waiting[nxt.id]
                start_service(agent_id, nxt, t)
    span = max(1e-9, end_t - warmup_s)
    return SimResult(
        offered=offered,
        answered=answered,
        abandoned=abandoned,
        overflowed=overflowed,
        service_level=within / offered if offered else 1.0,
        asa_s=wait_sum / answered if answered else 0.0,
        abandon_rate=abandoned / offered if offered else 0.0,
        occupancy=busy_area / (n_agents * span) if n_agents else 0.0,
        decisions=decisions,
    )
