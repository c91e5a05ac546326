"""Per-call trace: every stage's start and duration, kept in one record and put on the bus.

Home Assistant's ``assist_pipeline`` keeps a debug record per run; here each contact gets a
``CallTrace`` that the stages share. Entries are published as ``stage.timed`` events with
``publish_nowait`` so the audio path never waits on the bus, the store or a subscriber.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from core.bus import Bus
from core.clock import Clock
from core.events import Event, StageTimed


@dataclass(frozen=True)
class StageRecord:
    stage: str
    turn: int | None
    started_at: datetime
    duration_ms: float
    detail: str | None = None


class CallTrace:
    """Collects stage timings of one call and publishes events fire-and-forget."""

    def __init__(self, *, contact_id: str, bus: Bus | None, clock: Clock, max_records: int = 2000):
        self.contact_id = contact_id
        self.bus = bus
        self.clock = clock
        self.records: deque[StageRecord] = deque(maxlen=max_records)

    def publish(self, event: Event) -> None:
        """Hand an event to the bus without waiting (a full outbox drops and counts)."""
        if self.bus is not None:
            self.bus.publish_nowait(event)  # the bus counts its own drops

    def stage(
        self,
        stage: str,
        *,
        started_mono: float,
        ended_mono: float | None = None,
        turn: int | None = None,
        detail: str | None = None,
    ) -> StageRecord:
        """Record one stage that ran from ``started_mono`` (time.monotonic) to now or ``ended``."""
        end = time.monotonic() if ended_mono is None else ended_mono
        duration_ms = max(0.0, (end - started_mono) * 1000.0)
        now = self.clock.now()
        started_at = now.fromtimestamp(now.timestamp() - (end - started_mono), tz=now.tzinfo)
        rec = StageRecord(stage, turn, started_at, duration_ms, detail)
        self.records.append(rec)
        self.publish(
            StageTimed(
                contact_id=self.contact_id,
                at=now,
                stage=stage,
                started_at=started_at,
                duration_ms=duration_ms,
                turn=turn,
                detail=detail,
            )
        )
        return rec

    def by_turn(self) -> dict[int, dict[str, float]]:
        """Stage durations per turn: the split the latency benchmark reports."""
        out: dict[int, dict[str, float]] = {}
        for r in self.records:
            if r.turn is not None:
                out.setdefault(r.turn, {})[r.stage] = r.duration_ms
        return out
