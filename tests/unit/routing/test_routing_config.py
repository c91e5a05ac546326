"""Queue configs round-trip through plain data; errors name the queue."""

from __future__ import annotations

import pytest

from routing.config import QueueConfigError, queue_from_dict, queue_to_dict, queues_from_document

DOC = {
    "version": 1,
    "queues": [
        {
            "id": "billing",
            "skills": {"billing": 3},
            "priority": 1,
            "strategy": "skill_level",
            "bullseye": [{"after_s": 60, "level_drop": 2}, {"after_s": 120, "any_language": True}],
            "overflow": [
                {"after_wait_s": 300, "target": {"kind": "callback"}},
                {"max_queue_length": 20, "target": {"kind": "bot", "queue_id": "bots"}},
            ],
            "hours": {
                "timezone": "Europe/London",
                "weekly": {"0": [["09:00", "17:00"]]},
                "holidays": ["2026-12-25"],
            },
        },
        {"id": "bots", "workers": "bot"},
    ],
}


def test_round_trip() -> None:
    queues = queues_from_document(DOC)
    for q in queues.values():
        assert queue_from_dict(queue_to_dict(q)) == q
    assert queues["billing"].bullseye[1].any_language


@pytest.mark.parametrize(
    ("patch", "code", "fragment"),
    [
        ({"skills": {"billing": 12}}, "skill_level_out_of_range", "billing"),
        ({"strategy": "fastest"}, "unknown_strategy", "fastest"),
        (
            {"overflow": [{"target": {"kind": "queue", "queue_id": "nope"}}]},
            "unknown_queue",
            "nope",
        ),
        ({"bullseye": [{"level_drop": 1}]}, "invalid_queue_config", "after_s"),
    ],
)
def test_errors_name_the_queue(patch: dict, code: str, fragment: str) -> None:
    doc = {"version": 1, "queues": [{**DOC["queues"][0], **patch}, DOC["queues"][1]]}
    with pytest.raises(QueueConfigError) as e:
        queues_from_document(doc)
    assert e.value.code == code
    assert "billing" in e.value.message and fragment in e.value.message


def test_version_required() -> None:
    with pytest.raises(QueueConfigError):
        queues_from_document({"queues": []})


def test_shipped_demo_queues_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from routing.config import load_queues

    queues = load_queues()
    assert {"default", "billing", "cards", "loans", "vip", "complaints", "bots"} <= set(queues)
    assert queues["bots"].workers == "bot"
    bad = tmp_path / "q.yaml"
    bad.write_text("version: 1\nqueues:\n  - id: x\n    skills: {a: 0}\n")
    with pytest.raises(QueueConfigError, match="queue x"):
        load_queues(bad)
