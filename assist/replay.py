"""Recorded calls: a YAML list of a contact's events, turned back into typed events.

Used to replay demo calls through the bus in tests and in ``bench/assist_latency.py``, and
handy for reproducing a customer's call in a shell. Ids are deterministic
(``<contact>-e<nn>``) so a replay is reproducible and a redelivery is recognisable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from assist.errors import AssistConfigInvalid
from core.clock import Clock
from core.events import Event, parse_event


@dataclass(frozen=True)
class RecordedCall:
    contact_id: str
    language: str
    events: tuple[Event, ...]
    expect: dict[str, Any] = field(default_factory=dict)


def load_recorded_call(
    path: Path, *, clock: Clock, contact_id: str | None = None, step_s: float = 2.0
) -> RecordedCall:
    """Read a recorded call; ``contact_id`` renames it (to replay one call many times)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        cid = contact_id or data["contact_id"]
        start = clock.now()
        events = tuple(
            parse_event(
                {
                    **raw,
                    "id": f"{cid}-e{i:02d}",
                    "contact_id": cid,
                    "at": (start + timedelta(seconds=i * step_s)).isoformat(),
                }
            )
            for i, raw in enumerate(data["events"])
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        raise AssistConfigInvalid(f"{path}: not a recorded call: {e}".splitlines()[0]) from e
    return RecordedCall(cid, data.get("language", "en"), events, data.get("expect") or {})
