"""Position in line, EWT and the spoken/chat announcement."""

from __future__ import annotations

import math

from core.domain import AgentStatus as S
from routing.ewt import QueuePosition, announcement, estimated_wait_s, queue_position
from routing.model import Policy, QueueConfig
from tests.unit.routing.conftest import NOW, make_agent, make_contact


def test_estimated_wait() -> None:
    assert estimated_wait_s(0, 2, 300, available=1) == 0.0
    assert estimated_wait_s(3, 2, 300) == 600.0
    assert math.isinf(estimated_wait_s(0, 0, 300))


def test_position_follows_service_order() -> None:
    q = {"q": QueueConfig("q", aht_s=240)}
    waiting = [
        make_contact("a", waited_s=100),
        make_contact("b", waited_s=50),
        make_contact("vip", waited_s=1, vip=True),
    ]
    agents = [make_agent("x", state=S.BUSY), make_agent("y", state=S.BUSY)]
    pos = queue_position("b", waiting, agents, q, Policy(aging_per_s=0.0), NOW)
    assert (pos.position, pos.ahead) == (3, 2)
    assert pos.ewt_s == 3 * 240 / 2
    first = queue_position("vip", waiting, agents, q, Policy(aging_per_s=0.0), NOW)
    assert first.position == 1


def test_announcements() -> None:
    pos = QueuePosition("c", "q", 3, 2, 150.0)
    assert announcement(pos) == "You are number 3 in line. The expected wait is about 2 minutes."
    assert "2位" in announcement(pos, "zh-CN") and "3分钟" in announcement(
        QueuePosition("c", "q", 3, 2, 170.0), "zh"
    )
    assert "No agent" in announcement(QueuePosition("c", "q", 1, 0, math.inf))
