"""decide(): table-driven cases per strategy and rule; indexed == linear."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from core.domain import AgentStatus as S
from core.domain import Channel
from routing.decide import decide, pick_contact, plan
from routing.errors import UnknownQueue, UnknownStrategy
from routing.index import AgentIndex
from routing.model import (
    BullseyeRing,
    BusinessHours,
    OverflowRule,
    OverflowTarget,
    Policy,
    QueueConfig,
)
from tests.unit.routing.conftest import NOW, make_agent, make_contact

A = make_agent
# (name, agents, contact kwargs, strategy, expected agent or None, reason fragment)
CASES = [
    (
        "longest idle wins",
        [A("a1", idle_s=10), A("a2", idle_s=300), A("a3", idle_s=60)],
        {},
        "longest_idle",
        "a2",
        "longest_idle: a2 idle 300s",
    ),
    (
        "unavailable agents are skipped",
        [A("a1", idle_s=10), A("a2", idle_s=300, state=S.BREAK), A("a3", idle_s=900, state=S.BUSY)],
        {},
        "longest_idle",
        "a1",
        "a1",
    ),
    (
        "most skilled in the first needed skill",
        [A("a1", skills={"billing": 4}, idle_s=999), A("a2", skills={"billing": 9}, idle_s=1)],
        {"skills_needed": {"billing": 3}},
        "skill_level",
        "a2",
        "billing level 9",
    ),
    (
        "skill minimum filters",
        [A("a1", skills={"billing": 2}, idle_s=999), A("a2", skills={"billing": 6})],
        {"skills_needed": {"billing": 5}},
        "longest_idle",
        "a2",
        "a2",
    ),
    (
        "language filters",
        [A("a1", languages=("en",), idle_s=999), A("a2", languages=("zh", "en"))],
        {"language": "zh"},
        "longest_idle",
        "a2",
        "a2",
    ),
    (
        "round robin: never-assigned first, then least recently assigned",
        [
            A("a1", last_assigned_at=NOW - timedelta(seconds=5)),
            A("a2", last_assigned_at=NOW - timedelta(seconds=500)),
        ],
        {},
        "round_robin",
        "a2",
        "round_robin: a2 least recently assigned",
    ),
    (
        "least occupied among chat-capable agents",
        [
            A("a1", state=S.BUSY, active={"x": Channel.CHAT, "y": Channel.CHAT}, idle_s=999),
            A("a2", state=S.BUSY, active={"z": Channel.CHAT}),
        ],
        {"channel": Channel.CHAT},
        "least_occupied",
        "a2",
        "least_occupied: a2",
    ),
    (
        "caller area prefers same region",
        [A("a1", region="north", idle_s=999), A("a2", region="south", idle_s=5)],
        {"caller_area": "south"},
        "caller_area",
        "a2",
        "serves region south",
    ),
    (
        "caller area falls back to anyone",
        [A("a1", region="north", idle_s=999), A("a2", region="east", idle_s=5)],
        {"caller_area": "south"},
        "caller_area",
        "a1",
        "no agent in region south",
    ),
    (
        "last agent first when available",
        [A("a1", idle_s=999), A("a2", idle_s=5)],
        {"last_agent": "a2"},
        "last_agent_first",
        "a2",
        "returning to last agent a2",
    ),
    (
        "sticky: hold for busy last agent within timeout",
        [A("a1", idle_s=999), A("a2", state=S.BUSY)],
        {"last_agent": "a2", "waited_s": 10},
        "last_agent_first",
        None,
        "holding up to 30s for last agent a2",
    ),
    (
        "sticky timeout expired: fall back to longest idle",
        [A("a1", idle_s=999), A("a2", state=S.BUSY)],
        {"last_agent": "a2", "waited_s": 31},
        "last_agent_first",
        "a1",
        "last agent a2 unavailable",
    ),
    (
        "sticky: last agent offline, no hold",
        [A("a1", idle_s=999), A("a2", state=S.OFFLINE)],
        {"last_agent": "a2"},
        "last_agent_first",
        "a1",
        "fallback",
    ),
    (
        "nobody skilled: wait with reason",
        [A("a1", skills={"sales": 5})],
        {"skills_needed": {"billing": 1}, "language": "en"},
        "longest_idle",
        None,
        "no available agent for billing≥1, language en",
    ),
    (
        "bot pools do not take human queues",
        [A("bots", is_bot_pool=True, capacity={Channel.VOICE: 50})],
        {},
        "longest_idle",
        None,
        "no available agent",
    ),
]


@pytest.mark.parametrize(
    ("agents", "ckw", "strategy", "expected", "fragment"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_strategy_table(agents, ckw, strategy, expected, fragment) -> None:  # type: ignore[no-untyped-def]
    queues = {"q": QueueConfig("q")}
    c = make_contact(**ckw)
    for pool in (agents, AgentIndex(agents)):
        d = decide(c, pool, queues, Policy(strategy=strategy), NOW)
        assert d.agent_id == expected, d.reason
        assert (d.kind == "assign") == (expected is not None)
        assert fragment in d.reason


def test_queue_strategy_used_when_policy_has_none() -> None:
    agents = [A("a1", skills={"billing": 9}, idle_s=1), A("a2", skills={"billing": 3}, idle_s=99)]
    q = {"q": QueueConfig("q", strategy="skill_level", skills={"billing": 1})}
    assert decide(make_contact(), agents, q, Policy(), NOW).agent_id == "a1"


def test_unknown_queue_and_strategy() -> None:
    with pytest.raises(UnknownQueue) as e:
        decide(make_contact(queue_id="nope"), [A("a1")], {"q": QueueConfig("q")}, Policy(), NOW)
    assert e.value.code == "unknown_queue"
    with pytest.raises(UnknownStrategy):
        decide(make_contact(), [A("a1")], {"q": QueueConfig("q")}, Policy(strategy="x"), NOW)  # type: ignore[arg-type]
    with pytest.raises(UnknownStrategy):
        QueueConfig("q", strategy="fastest")  # type: ignore[arg-type]


def test_bullseye_widens_level_then_language() -> None:
    q = {
        "q": QueueConfig(
            "q",
            skills={"billing": 8},
            bullseye=(BullseyeRing(after_s=30, level_drop=4), BullseyeRing(60, any_language=True)),
        )
    }
    agents = [A("mid", skills={"billing": 5}, languages=("en",))]
    fresh = decide(make_contact(language="en"), agents, q, Policy(), NOW)
    assert fresh.kind == "wait" and "billing≥8" in fresh.reason
    later = decide(make_contact(language="en", waited_s=31), agents, q, Policy(), NOW)
    assert later.agent_id == "mid" and later.ring == 1 and "bullseye ring 1" in later.reason
    zh = make_contact(language="zh", waited_s=45)
    assert decide(zh, agents, q, Policy(), NOW).kind == "wait"
    zh_late = make_contact(language="zh", waited_s=61)
    d = decide(zh_late, AgentIndex(agents), q, Policy(), NOW)
    assert d.agent_id == "mid" and d.ring == 2


def test_bullseye_can_drop_a_skill() -> None:
    q = {"q": QueueConfig("q", bullseye=(BullseyeRing(20, drop_skills=frozenset({"mortgage"})),))}
    agents = [A("a1", skills={"billing": 5})]
    c = make_contact(skills_needed={"mortgage": 3, "billing": 2}, waited_s=25)
    assert decide(c, agents, q, Policy(), NOW).agent_id == "a1"


@pytest.mark.parametrize(
    ("rule", "waited", "ahead", "target"),
    [
        (OverflowRule(OverflowTarget("queue", "general"), after_wait_s=60), 61, 0, "queue:general"),
        (OverflowRule(OverflowTarget("bot", "botq"), after_wait_s=60), 59, 0, None),
        (OverflowRule(OverflowTarget("voicemail"), max_queue_length=5), 0, 5, "voicemail"),
        (OverflowRule(OverflowTarget("callback"), max_queue_length=5), 0, 4, None),
    ],
)
def test_overflow_rules(rule, waited, ahead, target) -> None:  # type: ignore[no-untyped-def]
    q = {"q": QueueConfig("q", overflow=(rule,))}
    d = decide(make_contact(waited_s=waited), [], q, Policy(), NOW, queue_length=ahead)
    assert (str(d.target) if d.target else None) == target
    assert d.kind == ("overflow" if target else "wait")


def test_overflow_only_when_no_agent_and_callback_keeps_place() -> None:
    rule = OverflowRule(OverflowTarget("callback"), after_wait_s=10)
    q = {"q": QueueConfig("q", overflow=(rule,))}
    assert decide(make_contact(waited_s=99), [A("a1")], q, Policy(), NOW).kind == "assign"
    already = make_contact(waited_s=99, callback=True)
    assert decide(already, [], q, Policy(), NOW).kind == "wait"


def test_bot_first_queue_and_overflow_to_bot() -> None:
    bots = A("bots", is_bot_pool=True, capacity={Channel.VOICE: 2})
    q = {"bot": QueueConfig("bot", workers="bot"), "q": QueueConfig("q")}
    d = decide(make_contact(queue_id="bot"), [A("human", idle_s=99), bots], q, Policy(), NOW)
    assert d.agent_id == "bots"
    full = A("bots", is_bot_pool=True, capacity={Channel.VOICE: 1}, active={"x": Channel.VOICE})
    assert decide(make_contact(queue_id="bot"), [full], q, Policy(), NOW).kind == "wait"


def test_business_hours_and_holidays() -> None:
    hours = BusinessHours(
        timezone="Europe/London",
        weekly={0: ((time(9), time(17)),)},
        holidays=frozenset({date(2026, 1, 12)}),
    )
    q = {"q": QueueConfig("q", hours=hours, closed_target=OverflowTarget("voicemail"))}
    assert decide(make_contact(), [A("a1")], q, Policy(), NOW).kind == "assign"  # Mon 12:00
    evening = NOW + timedelta(hours=6)
    d = decide(make_contact(), [A("a1")], q, Policy(), evening)
    assert d.kind == "overflow" and "outside business hours" in d.reason
    holiday = NOW + timedelta(days=7)
    d = decide(make_contact(), [A("a1")], q, Policy(), holiday)
    assert d.kind == "overflow" and "holiday 2026-01-12" in d.reason


def test_seed_reshuffles_ties_reproducibly() -> None:
    agents = [A(f"a{i}", idle_s=100) for i in range(20)]
    q = {"q": QueueConfig("q")}
    no_seed = decide(make_contact(), agents, q, Policy(), NOW).agent_id
    assert no_seed == "a0"
    picks = {decide(make_contact(), agents, q, Policy(), NOW, seed=s).agent_id for s in range(10)}
    assert len(picks) > 1
    assert decide(make_contact(), agents, q, Policy(), NOW, seed=3) == decide(
        make_contact(), AgentIndex(agents), q, Policy(), NOW, seed=3
    )


def test_pick_contact_priority_then_wait() -> None:
    q = {"q": QueueConfig("q"), "vipq": QueueConfig("vipq", priority=5)}
    waiting = [
        make_contact("old", waited_s=50),
        make_contact("vip", waited_s=1, vip=True),
        make_contact("older", waited_s=60),
    ]
    agent = A("a1")
    pol = Policy(aging_per_s=0.0)
    assert pick_contact(agent, waiting, q, pol, NOW).id == "vip"
    assert pick_contact(agent, waiting[::2], q, pol, NOW).id == "older"
    prio_queue = [*waiting[::2], make_contact("qprio", queue_id="vipq")]
    assert pick_contact(agent, prio_queue, q, pol, NOW).id == "qprio"


def test_pick_contact_aging_beats_priority_eventually() -> None:
    q = {"q": QueueConfig("q")}
    pol = Policy(aging_per_s=0.1, vip_priority=10)
    low = make_contact("low", waited_s=101)
    vip = make_contact("vip", waited_s=0, vip=True)
    assert pick_contact(A("a1"), [low, vip], q, pol, NOW).id == "low"


def test_pick_contact_skips_what_agent_cannot_serve() -> None:
    q = {"q": QueueConfig("q")}
    waiting = [make_contact("zh", language="zh", waited_s=99), make_contact("en", language="en")]
    assert pick_contact(A("a1", languages=("en",)), waiting, q, Policy(), NOW).id == "en"
    assert pick_contact(A("a1", languages=("fr",)), waiting, q, Policy(), NOW) is None


def test_plan_respects_capacity_and_order() -> None:
    q = {"q": QueueConfig("q")}
    waiting = [make_contact(f"c{i}", waited_s=i) for i in range(5)]
    agents = [A("a1"), A("a2")]
    out = plan(waiting, agents, q, Policy(), NOW)
    assigned = [(c.id, d.agent_id) for c, d in out if d.kind == "assign"]
    assert [c for c, _ in assigned] == ["c4", "c3"]  # longest waiting first
    assert {a for _, a in assigned} == {"a1", "a2"}


def test_plan_keeps_sticky_hold_for_busy_last_agent() -> None:
    q = {"q": QueueConfig("q", strategy="last_agent_first", sticky_timeout_s=30)}
    waiting = [make_contact("c1", last_agent="a2", waited_s=5)]
    agents = [A("a1", idle_s=99), A("a2", state=S.BUSY, active={"x": Channel.VOICE})]
    [(_, d)] = plan(waiting, agents, q, Policy(), NOW)
    assert d.kind == "wait" and "last agent a2" in d.reason
