"""Every event type round-trips through JSON, refuses unknown fields and is frozen."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from core import events as ev
from core.domain import AgentStatus, Channel, Speaker

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SAMPLES: list[ev.Event] = [
    ev.ContactStarted(contact_id="c1", at=NOW, channel=Channel.VOICE, language="zh"),
    ev.ContactEnded(contact_id="c1", at=NOW, reason="hangup", duration_s=12.5),
    ev.ContactError(contact_id="c1", at=NOW, code="audio_decode_failed", message="bad frame"),
    ev.AudioSegment(
        contact_id="c1",
        at=NOW,
        speaker=Speaker.CUSTOMER,
        start_s=0,
        end_s=1.2,
        sample_rate_hz=16000,
    ),
    ev.TranscriptPartial(contact_id="c1", at=NOW, speaker=Speaker.CUSTOMER, text="my card"),
    ev.TranscriptFinal(
        contact_id="c1",
        at=NOW,
        speaker=Speaker.CUSTOMER,
        text="我的卡丢了",
        words=(ev.Word(text="卡", start_s=0.1, end_s=0.3),),
    ),
    ev.NluResult(
        contact_id="c1",
        at=NOW,
        text="lost card",
        intent=ev.IntentScore(name="report_lost_card", confidence=0.97),
        entities=(ev.Entity(entity="card_last4", value="1234"),),
    ),
    ev.EmotionResult(
        contact_id="c1", at=NOW, label="angry", confidence=0.8, sentiment=-0.7, escalate=True
    ),
    ev.BotReply(contact_id="c1", at=NOW, text="I have blocked the card."),
    ev.HandoffRequested(contact_id="c1", at=NOW, reason="customer_request", slots={"a": "b"}),
    ev.RoutingQueued(contact_id="c1", at=NOW, queue="cards", position=2, ewt_s=40),
    ev.RoutingAssigned(contact_id="c1", at=NOW, queue="cards", agent_id="a1"),
    ev.AgentState(at=NOW, agent_id="a1", state=AgentStatus.BREAK, reason="lunch"),
    ev.AssistSuggestion(contact_id="c1", at=NOW, kind="knowledge", title="Lost card"),
    ev.QaScored(contact_id="c1", at=NOW, scorecard="default", score=87.5),
    ev.TicketCreated(contact_id="c1", at=NOW, ticket_id="t1", title="Dispute"),
    ev.TicketUpdated(contact_id="c1", at=NOW, ticket_id="t1", status="closed"),
    ev.HelpRequested(contact_id="c1", at=NOW, request_id="h1", agent_id="a1", reason="angry"),
    ev.HelpUpdated(
        contact_id="c1", at=NOW, request_id="h1", status="joined", agent_id="a1", mode="listen"
    ),
    ev.StageTimed(contact_id="c1", at=NOW, stage="asr", started_at=NOW, duration_ms=120.0),
]


def test_samples_cover_every_event_type() -> None:
    assert {s.type for s in SAMPLES} == set(ev.EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_round_trip(event: ev.Event) -> None:
    back = ev.parse_event(ev.dump_event(event))
    assert type(back) is type(event)
    assert back == event


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.type)
def test_class_name_matches_type(event: ev.Event) -> None:
    noun, verb = event.type.split(".")
    expected = "".join(p.capitalize() for p in noun.split("_")) + "".join(
        p.capitalize() for p in verb.split("_")
    )
    assert type(event).__name__ == expected


def test_unknown_field_refused() -> None:
    data = SAMPLES[0].model_dump(mode="json") | {"surprise": 1}
    with pytest.raises(ValidationError):
        ev.parse_event(data)


def test_unknown_type_refused() -> None:
    with pytest.raises(ValidationError):
        ev.parse_event({"type": "contact.exploded", "id": "x"})


def test_events_are_frozen() -> None:
    with pytest.raises(ValidationError):
        SAMPLES[0].language = "en"  # type: ignore[misc]
