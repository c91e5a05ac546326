"""`hotline staffing`, `hotline route` and `hotline simulate` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from routing.commands import app, route_app, simulate_app, staffing_app

runner = CliRunner()

AGENTS = [
    {
        "id": "a1",
        "skills": {"billing": 5},
        "state": "available",
        "idle_since_s": 30,
        "languages": ["en"],
    },
    {
        "id": "a2",
        "skills": {"billing": 8},
        "state": "available",
        "idle_since_s": 90,
        "languages": ["en", "zh"],
    },
    {
        "id": "a3",
        "skills": {"sales": 9},
        "state": "available",
        "idle_since_s": 900,
        "languages": ["en"],
    },
    {
        "id": "a4",
        "skills": {"billing": 9},
        "state": "busy",
        "idle_since_s": 999,
        "languages": ["zh"],
    },
]


def scenario(policy: str, **call) -> str:  # type: ignore[no-untyped-def]
    return json.dumps({"agents": AGENTS, "call": call, "policy": policy})


def run_route(tmp_path: Path, lines: list[str], *extra: str):  # type: ignore[no-untyped-def]
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return runner.invoke(route_app, ["--scenarios", str(f), *extra])


def test_route_one_line_per_scenario(tmp_path: Path) -> None:
    lines = [
        scenario("longest_idle", skills_needed=["billing"], language="en"),
        scenario("skill_level", skills_needed=["billing"], language="en"),
        scenario("round_robin", skills_needed=["sales"]),
        scenario("last_agent_first", skills_needed=["billing"], last_agent="a1"),
        scenario("longest_idle", skills_needed=["billing"], language="zh"),
        scenario("longest_idle", skills_needed=["mortgage"]),
    ]
    r = run_route(tmp_path, lines, "--json")
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in r.output.splitlines()]
    assert [o["agent"] for o in out] == ["a2", "a2", "a3", "a1", "a2", None]
    assert all(o["reason"] for o in out)
    assert "returning to last agent a1" in out[3]["reason"]
    assert "mortgage" in out[5]["reason"]


def test_route_bad_lines_error_and_continue(tmp_path: Path) -> None:
    lines = [
        "{not json",
        json.dumps({"agents": [{"id": "a1", "skills": {"billing": 11}}], "call": {}}),
        json.dumps({"agents": AGENTS, "call": {}, "policy": "fastest"}),
        json.dumps({"agents": AGENTS}),
        json.dumps({"agents": [{"id": "a1", "state": "asleep"}], "call": {}}),
        scenario("longest_idle", skills_needed=["billing"]),
    ]
    r = run_route(tmp_path, lines, "--json")
    assert r.exit_code == 1
    out = [json.loads(x) for x in r.output.splitlines()]
    assert len(out) == 6
    codes = [o.get("error", {}).get("code") for o in out]
    assert codes == [
        "invalid_json",
        "skill_level_out_of_range",
        "unknown_strategy",
        "invalid_scenario",
        "invalid_scenario",
        None,
    ]
    assert out[-1]["agent"] == "a2"


def test_route_text_output(tmp_path: Path) -> None:
    r = run_route(tmp_path, [scenario("longest_idle", skills_needed=["billing"])])
    assert r.exit_code == 0
    assert r.output.startswith("1: a2 — longest_idle: a2 idle 90s")


def test_staffing_json_and_text() -> None:
    args = [
        "--calls-per-hour",
        "200",
        "--aht",
        "180",
        "--answer-within",
        "20",
        "--target-sl",
        "0.8",
    ]
    r = runner.invoke(staffing_app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["agents"] == 14
    assert out["service_level"] >= 0.8
    assert set(out) >= {"agents", "service_level", "asa_s", "occupancy"}
    text = runner.invoke(app, ["staffing", *args])
    assert text.exit_code == 0 and text.output.startswith("14 agents")
    a = json.loads(runner.invoke(staffing_app, [*args, "--patience", "120", "--json"]).output)
    assert a["model"] == "erlang_a" and a["agents"] < 14 and "abandon_rate" in a


def test_staffing_bad_input_is_a_clear_error() -> None:
    r = runner.invoke(
        staffing_app, ["--calls-per-hour", "200", "--aht", "180", "--target-sl", "1.5"]
    )
    assert r.exit_code == 2
    assert "invalid_input" in r.output


def test_simulate_json() -> None:
    r = runner.invoke(
        simulate_app,
        ["--agents", "14", "--calls-per-hour", "200", "--aht", "180", "--hours", "2", "--json"],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["offered"] > 300 and out["answered"] == out["offered"]
    assert out["erlang_c"]["service_level"] == 0.8884
