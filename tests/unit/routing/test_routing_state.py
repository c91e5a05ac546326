"""Agent state machine: every legal move, and clear errors for the illegal ones."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.domain import AgentStatus as S
from core.domain import Channel
from routing import state
from routing.errors import (
    CapacityExceeded,
    InvalidDisposition,
    InvalidTransition,
    SkillLevelOutOfRange,
    UnknownContact,
)
from tests.unit.routing.conftest import NOW, make_agent

DISPOSITIONS = frozenset({"resolved", "follow_up"})


def test_login_offer_accept_end_wrap_up_available() -> None:
    a = make_agent("a1", state=S.OFFLINE)
    a = state.login(a, NOW)
    assert a.state is S.AVAILABLE and a.idle_since == NOW
    a = state.offer(a, "c1", Channel.VOICE, NOW)
    assert a.state is S.RINGING and a.offers == {"c1": Channel.VOICE}
    a = state.accept(a, "c1", NOW)
    assert a.state is S.BUSY and a.active == {"c1": Channel.VOICE} and not a.offers
    a = state.end_contact(a, "c1", NOW, wrap_up_s=30)
    assert a.state is S.WRAP_UP and a.wrap_up_until == NOW + timedelta(seconds=30)
    assert a.last_contact_ids == ("c1",)
    assert state.expire_wrap_up(a, NOW + timedelta(seconds=29)) is a
    done = state.expire_wrap_up(a, NOW + timedelta(seconds=30))
    assert done.state is S.AVAILABLE and done.idle_since == NOW + timedelta(seconds=30)
    later = state.finish_wrap_up(a, NOW, disposition="resolved", allowed=DISPOSITIONS)
    assert later.state is S.AVAILABLE


@pytest.mark.parametrize(
    ("start", "move"),
    [
        (S.OFFLINE, lambda a: state.take_break(a, "lunch", NOW)),
        (S.AVAILABLE, lambda a: state.login(a, NOW)),
        (
            S.AVAILABLE,
            lambda a: state.finish_wrap_up(a, NOW, disposition="resolved", allowed=DISPOSITIONS),
        ),
        (S.BREAK, lambda a: state.offer(a, "c1", Channel.VOICE, NOW)),
        (S.WRAP_UP, lambda a: state.offer(a, "c1", Channel.VOICE, NOW)),
        (S.OFFLINE, lambda a: state.offer(a, "c1", Channel.VOICE, NOW)),
    ],
)
def test_invalid_transitions_raise_clear_errors(start: S, move) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidTransition) as e:
        move(make_agent("a1", state=start))
    assert e.value.code == "invalid_transition"
    assert "a1" in e.value.message


def test_cannot_log_out_or_break_with_open_contacts() -> None:
    a = state.accept(state.offer(make_agent("a1"), "c1", Channel.VOICE, NOW), "c1", NOW)
    with pytest.raises(InvalidTransition, match="c1"):
        state.go_offline(a, NOW)
    with pytest.raises(InvalidTransition):
        state.take_break(a, "lunch", NOW)
    with pytest.raises(InvalidTransition):
        state.make_available(a, NOW)


def test_break_needs_reason_and_disposition_must_be_known() -> None:
    with pytest.raises(InvalidTransition):
        state.take_break(make_agent("a1"), "", NOW)
    a = state.end_contact(
        state.accept(state.offer(make_agent("a1"), "c1", Channel.VOICE, NOW), "c1", NOW),
        "c1",
        NOW,
        wrap_up_s=30,
    )
    with pytest.raises(InvalidDisposition):
        state.finish_wrap_up(a, NOW, disposition="made_up", allowed=DISPOSITIONS)


def test_multichannel_capacity_three_chats_then_full() -> None:
    a = make_agent("a1")
    for i in range(3):
        a = state.offer(a, f"chat{i}", Channel.CHAT, NOW)
        a = state.accept(a, f"chat{i}", NOW)
    assert a.state is S.BUSY and a.load(Channel.CHAT) == 3
    with pytest.raises(CapacityExceeded):
        state.offer(a, "chat3", Channel.CHAT, NOW)
    # busy on chats: no voice call on top
    assert not a.can_take(Channel.VOICE)
    a = state.end_contact(a, "chat0", NOW, wrap_up_s=30)
    assert a.state is S.BUSY and a.can_take(Channel.CHAT)


def test_voice_blocks_chat_and_second_call() -> None:
    a = state.accept(state.offer(make_agent("a1"), "c1", Channel.VOICE, NOW), "c1", NOW)
    assert not a.can_take(Channel.CHAT)
    assert not a.can_take(Channel.VOICE)


def test_reject_and_miss() -> None:
    a = state.offer(make_agent("a1"), "c1", Channel.VOICE, NOW)
    assert state.reject(a, "c1", NOW).state is S.AVAILABLE
    missed = state.miss(a, "c1", NOW, reason="missed")
    assert missed.state is S.BREAK and missed.state_reason == "missed"
    with pytest.raises(UnknownContact):
        state.accept(a, "other", NOW)


def test_disconnect_releases_every_contact() -> None:
    a = state.accept(state.offer(make_agent("a1"), "chat1", Channel.CHAT, NOW), "chat1", NOW)
    a = state.offer(a, "chat2", Channel.CHAT, NOW)
    off, released = state.disconnect(a, NOW)
    assert off.state is S.OFFLINE and not off.offers and not off.active
    assert set(released) == {"chat1", "chat2"}


def test_bot_pool_takes_contacts_without_ringing() -> None:
    bot = make_agent("bots", is_bot_pool=True, capacity={Channel.VOICE: 2})
    bot = state.offer(bot, "c1", Channel.VOICE, NOW)
    bot = state.offer(bot, "c2", Channel.VOICE, NOW)
    assert bot.state is S.AVAILABLE and len(bot.active) == 2
    assert not bot.can_take(Channel.VOICE)
    bot = state.end_contact(bot, "c1", NOW, wrap_up_s=30)
    assert bot.state is S.AVAILABLE and bot.can_take(Channel.VOICE)


@pytest.mark.parametrize("level", [0, 11, -1, 2.5])
def test_skill_level_out_of_range(level) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SkillLevelOutOfRange) as e:
        make_agent("a1", skills={"billing": level})
    assert e.value.code == "skill_level_out_of_range"
