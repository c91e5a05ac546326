"""ARI events → call updates (Q.850 causes), on ARI's published event shapes."""

from __future__ import annotations

import pytest

from bots.dialer.asterisk_ari import parse_event
from bots.dialer.base import CallStatus


@pytest.mark.parametrize(
    ("cause", "answered", "status"),
    [
        (17, False, CallStatus.BUSY),
        (19, False, CallStatus.NO_ANSWER),
        (16, False, CallStatus.NO_ANSWER),
        (1, False, CallStatus.INVALID),
        (34, False, CallStatus.FAILED),
        (16, True, CallStatus.COMPLETED),
    ],
)
def test_channel_destroyed_causes(cause: int, answered: bool, status: CallStatus) -> None:
    seen: set[str] = set()
    chan = {"id": "att-1", "state": "Up" if answered else "Ringing"}
    if answered:
        assert parse_event({"type": "StasisStart", "channel": chan}, seen).status is (
            CallStatus.ANSWERED
        )
    upd = parse_event(
        {"type": "ChannelDestroyed", "cause": cause, "cause_txt": "x", "channel": chan}, seen
    )
    assert upd is not None and upd.status is status and upd.attempt_id == "att-1"
    assert "att-1" not in seen


def test_irrelevant_events_are_ignored() -> None:
    assert parse_event({"type": "ChannelVarset", "channel": {"id": "a"}}, set()) is None
    assert parse_event({"type": "StasisStart"}, set()) is None
