"""Per-call emotion: the aggregation, and the subscriber that understands agent-handled turns."""

import pytest

from core.bus.memory import MemoryBus
from core.clock import FrozenClock
from core.domain import Speaker
from core.events import (
    ContactEnded,
    EmotionResult,
    HandoffRequested,
    NluResult,
    RoutingAssigned,
    TranscriptFinal,
)
from nlu.call_emotion import TurnEmotion, summarize_call
from nlu.subscriber import UnderstandingSubscriber


def T(label: str, sentiment: float, conf: float = 0.8, esc: bool = False) -> TurnEmotion:
    return TurnEmotion(label, conf, sentiment, esc)


def test_no_turns_no_summary():
    assert summarize_call([]) is None
    assert summarize_call([T("bored", 0.0)]) is None  # not a taxonomy label


def test_angry_call_that_calms_down_is_angry_but_improving():
    call = summarize_call(
        [T("angry", -0.8, esc=True), T("angry", -0.7), T("frustrated", -0.4), T("satisfied", 0.6)]
    )
    assert call is not None
    assert call.label == "angry"
    assert call.trend == "improving"
    assert call.peak == "angry"
    assert call.escalate
    assert call.start_sentiment == -0.8 and call.end_sentiment == 0.6
    assert call.counts == {"angry": 2, "frustrated": 1, "satisfied": 1}


def test_later_turns_weigh_more_and_trend_worsens():
    # one neutral then one frustrated turn of equal confidence: the later one wins the vote
    call = summarize_call([T("neutral", 0.1), T("frustrated", -0.5)])
    assert call is not None
    assert call.label == "frustrated"
    assert call.trend == "worsening"
    assert -0.5 < call.sentiment < -0.1  # recency-weighted: nearer the last turn
    assert not call.escalate


def test_steady_when_mood_does_not_move_and_single_turn():
    call = summarize_call([T("neutral", 0.0), T("neutral", 0.1), T("neutral", 0.05)])
    assert call is not None and (call.label, call.trend, call.peak) == ("neutral", "steady", None)
    one = summarize_call([T("satisfied", 0.9)])
    assert one is not None and one.trend == "steady" and one.confidence == 1.0


def test_tie_goes_to_the_more_severe_label():
    call = summarize_call([T("angry", -0.5, conf=0.5), T("neutral", 0.0, conf=0.25)])
    # weights 1 and 2: angry 0.5, neutral 0.5
    assert call is not None and call.label == "angry"


async def _wire(engine) -> tuple[MemoryBus, list]:
    """A started bus with the subscriber on ``engine`` and a list of what it publishes."""
    bus = MemoryBus()
    events: list = []

    async def keep(e) -> None:
        events.append(e)

    bus.subscribe("test", keep, types=["nlu.result", "emotion.result"])
    UnderstandingSubscriber(bus, lambda: engine, clock=FrozenClock()).subscribe()
    await bus.start()
    return bus, events


@pytest.fixture
async def wired(engine):
    bus, events = await _wire(engine)
    yield bus, events
    await bus.close()


async def _settle(bus: MemoryBus) -> None:
    """Drain twice: handlers publish while the first drain waits on their queues."""
    await bus.drain()
    await bus.drain()


async def _say(bus, text, speaker=Speaker.CUSTOMER, cid="c1"):
    await bus.publish(TranscriptFinal(contact_id=cid, speaker=speaker, text=text, language="en"))


async def test_bot_turns_are_left_to_the_bot_then_agent_turns_are_understood(wired):
    bus, events = wired
    # the bot's part: the dialogue service publishes its own understanding
    await _say(bus, "I lost my card")
    await bus.publish(
        EmotionResult(contact_id="c1", label="anxious", confidence=0.7, sentiment=-0.3)
    )
    await _settle(bus)
    assert [e.type for e in events] == ["emotion.result"]  # nothing of ours yet
    await bus.publish(HandoffRequested(contact_id="c1", reason="asked_for_human"))
    await _say(bus, "this is a disgrace, I am furious with your bank")
    await _say(bus, "let me check that for you", speaker=Speaker.AGENT)  # agents are not parsed
    await _settle(bus)
    ours = events[1:]
    assert [e.type for e in ours] == ["nlu.result", "emotion.result"]
    nlu = ours[0]
    assert isinstance(nlu, NluResult) and nlu.text.startswith("this is a disgrace")
    assert nlu.intent.name and nlu.ranking
    assert ours[1].label == "angry" and ours[1].scope == "utterance"
    await bus.publish(ContactEnded(contact_id="c1"))
    await _settle(bus)
    call = [e for e in events if isinstance(e, EmotionResult) and e.scope == "call"]
    assert len(call) == 1
    # two customer turns counted (the bot's anxious one and ours), not three
    assert call[0].label == "angry" and call[0].peak == "angry"


async def test_assigned_contacts_redelivery_and_junk(wired):
    bus, events = wired
    await bus.publish(RoutingAssigned(contact_id="c2", queue="general", agent_id="a1"))
    said = TranscriptFinal(
        contact_id="c2", speaker=Speaker.CUSTOMER, text="thanks, that was great", language="en"
    )
    await bus.publish(said)
    await bus.publish(said)  # a durable bus redelivers: parsed once
    await _say(bus, "...", cid="c2")  # nothing to understand: no event, no crash
    await _settle(bus)
    assert [e.type for e in events] == ["nlu.result", "emotion.result"]
    await bus.publish(ContactEnded(contact_id="c2"))
    await bus.publish(ContactEnded(contact_id="c3"))  # a contact with no turns: no summary
    await _settle(bus)
    call = events[2:]
    assert len(call) == 1 and call[0].contact_id == "c2" and call[0].label == "satisfied"


async def test_no_engine_loaded_still_summarises_bot_turns():
    bus, seen = await _wire(None)
    await bus.publish(RoutingAssigned(contact_id="c4", queue="q", agent_id="a1"))
    await _say(bus, "where is my money", cid="c4")
    await bus.publish(
        EmotionResult(contact_id="c4", label="frustrated", confidence=0.6, sentiment=-0.4)
    )
    await bus.publish(ContactEnded(contact_id="c4"))
    await _settle(bus)
    await bus.close()
    assert [(e.type, e.scope) for e in seen] == [
        ("emotion.result", "utterance"),
        ("emotion.result", "call"),
    ]
    assert seen[1].label == "frustrated"
