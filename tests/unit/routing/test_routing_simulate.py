"""The simulator runs the real router and agrees with Erlang C on Poisson input."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.domain import AgentStatus, Channel
from routing.erlang import erlang_c_metrics
from routing.model import AgentSnapshot, OverflowRule, OverflowTarget, QueueConfig
from routing.simulate import Arrival, bank_arrivals, poisson_arrivals, simulate
from tests.unit.routing.conftest import NOW

BANK = (
    Path(__file__).resolve().parents[4]
    / "shared/data/anonymous_bank/data_anonymous_bank_february.txt"
)


def test_agrees_with_erlang_c_within_two_points() -> None:
    """10 Erlangs on 14 agents, 80/20: ~60 000 Poisson calls through decide()."""
    arrivals = poisson_arrivals(200, 180, 300 * 3600, seed=11)
    r = simulate(arrivals, 14, answer_within_s=20, warmup_s=3600)
    ec = erlang_c_metrics(200, 180, 14, 20)
    assert r.offered > 55_000 and r.answered == r.offered
    assert abs(r.service_level - ec.service_level) <= 0.02
    assert abs(r.occupancy - ec.occupancy) <= 0.02
    assert r.asa_s == pytest.approx(ec.asa_s, abs=2.0)


def test_abandonment_and_overflow_are_counted() -> None:
    arrivals = [Arrival(float(i), 100.0, patience_s=5.0) for i in range(10)]
    r = simulate(arrivals, 1)
    assert r.answered == 1 and r.abandoned == 9 and r.abandon_rate == 0.9
    q = {
        "default": QueueConfig(
            "default", overflow=(OverflowRule(OverflowTarget("voicemail"), max_queue_length=2),)
        )
    }
    r = simulate([Arrival(float(i), 100.0) for i in range(6)], 1, queues=q)
    assert r.answered == 3 and r.overflowed == 3


def test_skills_route_to_the_right_agents() -> None:
    agents = [
        AgentSnapshot(
            "billing",
            skills={"billing": 5},
            state=AgentStatus.AVAILABLE,
            capacity={Channel.VOICE: 1},
            idle_since=NOW,
        ),
        AgentSnapshot(
            "sales",
            skills={"sales": 5},
            state=AgentStatus.AVAILABLE,
            capacity={Channel.VOICE: 1},
            idle_since=NOW,
        ),
    ]
    arrivals = [Arrival(float(i), 10.0, skills_needed={"billing": 1}) for i in range(3)]
    r = simulate(arrivals, agents, start=NOW)
    # all three go to the one billing agent, one after another: waits 0, 9, 18 s
    assert r.answered == 3 and r.asa_s == pytest.approx(9.0)


@pytest.mark.skipif(not BANK.exists(), reason="shared Anonymous Bank data absent")
def test_replays_anonymous_bank_day() -> None:
    arrivals = bank_arrivals(BANK, date="990201")
    assert 1000 < len(arrivals) < 3000
    few = simulate(arrivals, 4)
    many = simulate(arrivals, 12)
    assert few.offered == many.offered == len(arrivals)
    assert many.service_level > few.service_level
    assert many.abandon_rate <= few.abandon_rate
