"""Property tests of the decision: safety (never an unavailable/unskilled/over-capacity
agent), equivalence of the indexed and linear paths, priority order, no starvation."""

from __future__ import annotations

import math
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import AgentStatus, Channel
from routing.decide import (
    decide,
    effective_priority,
    pick_contact,
    plan,
    requirements,
    waited_s,
)
from routing.index import AgentIndex, workers_match
from routing.model import (
    AgentSnapshot,
    BullseyeRing,
    ContactRequest,
    Policy,
    QueueConfig,
)
from routing.strategies import SPECS
from tests.unit.routing.conftest import NOW

SKILLS = ("billing", "sales", "tech")
LANGS = ("en", "zh", "es")

levels = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=3)


@st.composite
def agents_st(draw, n_max: int = 12) -> list[AgentSnapshot]:  # type: ignore[no-untyped-def]
    out = []
    for i in range(draw(st.integers(0, n_max))):
        state = draw(st.sampled_from(list(AgentStatus)))
        cap = {Channel.VOICE: draw(st.integers(0, 1)), Channel.CHAT: draw(st.integers(0, 3))}
        active: dict[str, Channel] = {}
        if state is AgentStatus.BUSY:
            ch = draw(st.sampled_from([Channel.VOICE, Channel.CHAT]))
            for k in range(draw(st.integers(1, max(1, cap[ch])))):
                active[f"x{i}_{k}"] = ch
        out.append(
            AgentSnapshot(
                id=f"a{i}",
                skills=draw(levels),
                languages=frozenset(draw(st.sets(st.sampled_from(LANGS), max_size=2))),
                state=state,
                capacity=cap,
                active=active,
                idle_since=NOW - timedelta(seconds=draw(st.integers(0, 3600))),
                last_assigned_at=draw(
                    st.none() | st.integers(0, 3600).map(lambda s: NOW - timedelta(seconds=s))
                ),
                region=draw(st.sampled_from(["n", "s", None])),
                is_bot_pool=draw(st.booleans()) and draw(st.booleans()),
            )
        )
    return out


@st.composite
def contact_st(draw, cid: str = "c") -> ContactRequest:  # type: ignore[no-untyped-def]
    return ContactRequest(
        id=cid,
        enqueued_at=NOW - timedelta(seconds=draw(st.integers(0, 400))),
        queue_id="q",
        channel=draw(st.sampled_from([Channel.VOICE, Channel.CHAT])),
        skills_needed=draw(levels),
        language=draw(st.sampled_from([None, *LANGS])),
        priority=draw(st.integers(0, 5)),
        vip=draw(st.booleans()),
        last_agent=draw(st.sampled_from([None, "a0", "a1"])),
        caller_area=draw(st.sampled_from(["n", "s", None])),
    )


queue_st = st.builds(
    QueueConfig,
    id=st.just("q"),
    skills=levels,
    strategy=st.sampled_from(list(SPECS)),
    workers=st.sampled_from(["human", "bot", "any"]),
    bullseye=st.sampled_from(
        [(), (BullseyeRing(60, level_drop=3), BullseyeRing(120, any_language=True))]
    ),
)


@settings(max_examples=300, deadline=None)
@given(agents=agents_st(), contact=contact_st(), queue=queue_st, seed=st.none() | st.integers(0, 9))
def test_never_assigns_unavailable_unskilled_or_full_agent(agents, contact, queue, seed) -> None:  # type: ignore[no-untyped-def]
    queues = {"q": queue}
    d = decide(contact, agents, queues, Policy(), NOW, seed=seed)
    indexed = decide(contact, AgentIndex(agents), queues, Policy(), NOW, seed=seed)
    assert d == indexed
    if d.kind != "assign":
        return
    agent = next(a for a in agents if a.id == d.agent_id)
    req = requirements(contact, queue, waited_s(contact, NOW))
    assert agent.can_take(contact.channel)
    assert agent.load(contact.channel) < agent.capacity.get(contact.channel, 0)
    assert agent.state is not AgentStatus.OFFLINE
    assert workers_match(agent, queue.workers)
    for skill, level in req.skills.items():
        assert agent.skills.get(skill, 0) >= level
    if req.language:
        assert req.language in agent.languages


@settings(max_examples=150, deadline=None)
@given(agents=agents_st(), waiting=st.lists(contact_st(), max_size=15), queue=queue_st)
def test_plan_never_overfills_or_double_assigns(agents, waiting, queue) -> None:  # type: ignore[no-untyped-def]
    waiting = [ContactRequest(**{**_fields(c), "id": f"c{i}"}) for i, c in enumerate(waiting)]
    out = plan(waiting, agents, {"q": queue}, Policy(), NOW)
    assert len({c.id for c, _ in out}) == len(waiting)
    by_agent = {a.id: a for a in agents}
    added: dict[tuple[str, Channel], int] = {}
    for c, d in out:
        if d.kind == "assign":
            key = (d.agent_id, c.channel)
            added[key] = added.get(key, 0) + 1
    for (aid, ch), n in added.items():
        a = by_agent[aid]
        assert a.load(ch) + n <= a.capacity.get(ch, 0)
        if ch is Channel.VOICE and not a.is_bot_pool:
            assert n == 1 and a.total_load == 0


def _fields(c: ContactRequest) -> dict:
    return {f: getattr(c, f) for f in c.__dataclass_fields__}


@settings(max_examples=200, deadline=None)
@given(waiting=st.lists(contact_st(), min_size=1, max_size=12), aging=st.sampled_from([0.0, 0.1]))
def test_freed_agent_gets_highest_priority_then_oldest(waiting, aging) -> None:  # type: ignore[no-untyped-def]
    waiting = [ContactRequest(**{**_fields(c), "id": f"c{i}"}) for i, c in enumerate(waiting)]
    generalist = AgentSnapshot(
        id="g",
        skills={s: 10 for s in SKILLS},
        languages=frozenset(LANGS),
        state=AgentStatus.AVAILABLE,
        capacity={Channel.VOICE: 1, Channel.CHAT: 3},
        idle_since=NOW,
    )
    queues = {"q": QueueConfig("q")}
    pol = Policy(aging_per_s=aging)
    got = pick_contact(generalist, waiting, queues, pol, NOW)
    assert got is not None
    best = max(effective_priority(c, queues["q"], pol, NOW) for c in waiting)
    assert math.isclose(effective_priority(got, queues["q"], pol, NOW), best)
    ties = [c for c in waiting if math.isclose(effective_priority(c, queues["q"], pol, NOW), best)]
    assert got.enqueued_at == min(c.enqueued_at for c in ties)


@settings(max_examples=60, deadline=None)
@given(
    newcomers=st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=140, max_size=200),
    dt_s=st.integers(10, 30),
    own=st.integers(0, 20),
)
def test_never_starves_a_waiting_contact(newcomers, dt_s, own) -> None:  # type: ignore[no-untyped-def]
    """Overload: two newcomers of any priority arrive per step and one agent frees up, so
    the line only grows. The first contact is still served within the bound the aging
    rate guarantees: only contacts arriving less than (30 - own) / aging seconds after
    it can outrank it (max priority 20 + VIP 10)."""
    pol = Policy(aging_per_s=0.1, vip_priority=10)
    queues = {"q": QueueConfig("q")}
    agent = AgentSnapshot(
        id="a", state=AgentStatus.AVAILABLE, capacity={Channel.VOICE: 1}, idle_since=NOW
    )
    waiting = {"first": ContactRequest("first", NOW, queue_id="q", priority=own)}
    outrank_steps = math.ceil((20 + 10 - own) / (pol.aging_per_s * dt_s))
    bound = 2 * outrank_steps + 2
    now = NOW
    for step in range(len(newcomers) // 2):
        now = now + timedelta(seconds=dt_s)
        for k in (0, 1):
            prio, vip = newcomers[2 * step + k]
            cid = f"n{step}_{k}"
            waiting[cid] = ContactRequest(cid, now, queue_id="q", priority=prio, vip=vip)
        got = pick_contact(agent, waiting.values(), queues, pol, now)
        assert got is not None
        del waiting[got.id]
        if got.id == "first":
            assert step <= bound
            return
    raise AssertionError(f"first contact never served in {len(newcomers) // 2} steps")
