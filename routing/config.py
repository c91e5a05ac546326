"""Queue configuration as plain data (YAML/JSON) and back, with errors naming the item.

Admins edit queues as YAML (STYLE.md, "content as data"); the service stores the same
dict in the ``queues`` table. Reader and writer come in a pair so configs round-trip.

    version: 1
    queues:
      - id: billing
        skills: {billing: 3}
        priority: 1
        strategy: longest_idle
        bullseye: [{after_s: 60, level_drop: 2}, {after_s: 120, any_language: true}]
        overflow: [{after_wait_s: 300, target: {kind: callback}}]
        hours: {timezone: Europe/London, weekly: {0: [["09:00", "17:00"]]}, holidays: [2026-12-25]}
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any

import yaml

from routing.errors import RoutingError
from routing.model import (
    BullseyeRing,
    BusinessHours,
    OverflowRule,
    OverflowTarget,
    QueueConfig,
)

FORMAT_VERSION = 1


class QueueConfigError(RoutingError):
    code = "invalid_queue_config"


def _target(d: dict) -> OverflowTarget:
    return OverflowTarget(d["kind"], d.get("queue_id"))


def queue_from_dict(d: dict[str, Any]) -> QueueConfig:
    """Build one queue; any problem raises QueueConfigError naming the queue."""
    qid = d.get("id", "?")
    try:
        hours = None
        if d.get("hours"):
            h = d["hours"]
            hours = BusinessHours(
                timezone=h.get("timezone", "UTC"),
                weekly={
                    int(day): tuple(
                        (time.fromisoformat(a), time.fromisoformat(b)) for a, b in spans
                    )
                    for day, spans in (h.get("weekly") or {}).items()
                },
                holidays=frozenset(
                    x if isinstance(x, date) else date.fromisoformat(x)
                    for x in h.get("holidays", ())
                ),
            )
        kwargs: dict[str, Any] = {
            "id": d["id"],
            "skills": dict(d.get("skills") or {}),
            "priority": int(d.get("priority", 0)),
            "strategy": d.get("strategy", "longest_idle"),
            "bullseye": tuple(
                BullseyeRing(
                    after_s=float(r["after_s"]),
                    level_drop=int(r.get("level_drop", 0)),
                    drop_skills=frozenset(r.get("drop_skills", ())),
                    any_language=bool(r.get("any_language", False)),
                )
                for r in d.get("bullseye", ())
            ),
            "overflow": tuple(
                OverflowRule(
                    target=_target(r["target"]),
                    after_wait_s=r.get("after_wait_s"),
                    max_queue_length=r.get("max_queue_length"),
                )
                for r in d.get("overflow", ())
            ),
            "hours": hours,
        }
        for name in ("sticky_timeout_s", "sl_threshold_s", "aht_s"):
            if name in d:
                kwargs[name] = float(d[name])
        if "workers" in d:
            kwargs["workers"] = d["workers"]
        if "closed_target" in d:
            kwargs["closed_target"] = _target(d["closed_target"])
        return QueueConfig(**kwargs)
    except RoutingError as e:
        raise QueueConfigError(f"queue {qid}: {e.message}", code=e.code) from e
    except (KeyError, TypeError, ValueError) as e:
        raise QueueConfigError(f"queue {qid}: {type(e).__name__}: {e}") from e


def queue_to_dict(q: QueueConfig) -> dict[str, Any]:
    """The inverse of :func:`queue_from_dict` (JSON-safe)."""
    out: dict[str, Any] = {
        "id": q.id,
        "skills": dict(q.skills),
        "priority": q.priority,
        "strategy": q.strategy,
        "workers": q.workers,
        "sticky_timeout_s": q.sticky_timeout_s,
        "sl_threshold_s": q.sl_threshold_s,
        "aht_s": q.aht_s,
        "closed_target": {"kind": q.closed_target.kind, "queue_id": q.closed_target.queue_id},
        "bullseye": [
            {
                "after_s": r.after_s,
                "level_drop": r.level_drop,
                "drop_skills": sorted(r.drop_skills),
                "any_language": r.any_language,
            }
            for r in q.bullseye
        ],
        "overflow": [
            {
                "target": {"kind": r.target.kind, "queue_id": r.target.queue_id},
                "after_wait_s": r.after_wait_s,
                "max_queue_length": r.max_queue_length,
            }
            for r in q.overflow
        ],
        "hours": None,
    }
    if q.hours is not None:
        out["hours"] = {
            "timezone": q.hours.timezone,
            "weekly": {
                str(day): [[a.isoformat(), b.isoformat()] for a, b in spans]
                for day, spans in q.hours.weekly.items()
            },
            "holidays": sorted(x.isoformat() for x in q.hours.holidays),
        }
    return out


def queues_from_document(doc: dict[str, Any], *, source: str = "queues") -> dict[str, QueueConfig]:
    """Read a versioned ``{version, queues: [...]}`` document (e.g. parsed YAML)."""
    if doc.get("version") != FORMAT_VERSION:
        raise QueueConfigError(f"{source}: version must be {FORMAT_VERSION}")
    queues = [queue_from_dict(d) for d in doc.get("queues", ())]
    out = {q.id: q for q in queues}
    for q in queues:
        for t in (*(r.target for r in q.overflow), q.closed_target):
            if t.queue_id is not None and t.queue_id not in out:
                raise QueueConfigError(
                    f"{source}: queue {q.id} overflows to missing queue {t.queue_id!r}",
                    code="unknown_queue",
                )
    return out


def load_queues(path: Path | None = None) -> dict[str, QueueConfig]:
    """Read queues from a YAML file (default: the demo ``routing/queues.yaml``)."""
    path = path or Path(__file__).with_name("queues.yaml")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise QueueConfigError(f"{path}: cannot read queues ({type(e).__name__})") from e
    if not isinstance(doc, dict):
        raise QueueConfigError(f"{path}: expected a mapping with version and queues")
    return queues_from_document(doc, source=str(path))
