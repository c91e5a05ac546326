"""CLI: `hotline staffing`, `hotline route` (what-if) and `hotline simulate`.

Each command is its own one-command Typer app so the CLI can mount it at top level
(``cli.add_typer(staffing_app, name="staffing")``); ``app`` groups all three under
``hotline routing …`` as well.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from core.domain import AgentStatus, Channel
from core.errors import HotlineError
from routing.config import queue_from_dict
from routing.decide import decide
from routing.erlang import erlang_c_metrics, staffing
from routing.errors import InvalidScenario
from routing.model import AgentSnapshot, ContactRequest, Policy, QueueConfig
from routing.simulate import bank_arrivals, poisson_arrivals, simulate

# the what-if clock: a fixed instant so `route` answers are reproducible
SCENARIO_NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

staffing_app = typer.Typer(help="Agents needed for a service-level target (Erlang C / A).")
route_app = typer.Typer(help="What-if routing: which agent gets each scenario's call, and why.")
simulate_app = typer.Typer(help="Discrete-event simulation through the real router.")
app = typer.Typer(help="Routing (ACD) tools.")
app.add_typer(staffing_app, name="staffing")
app.add_typer(route_app, name="route")
app.add_typer(simulate_app, name="simulate")


def _round(x: float, nd: int) -> float | None:
    return None if math.isinf(x) or math.isnan(x) else round(x, nd)


@staffing_app.callback(invoke_without_command=True)
def staffing_command(
    calls_per_hour: float = typer.Option(..., "--calls-per-hour", help="Offered calls per hour"),
    aht: float = typer.Option(..., "--aht", help="Average handle time, seconds"),
    answer_within: float = typer.Option(20.0, "--answer-within", help="SL threshold, seconds"),
    target_sl: float = typer.Option(0.8, "--target-sl", help="Share answered within threshold"),
    patience: float | None = typer.Option(
        None, "--patience", help="Mean caller patience in s (uses Erlang A)"
    ),
    max_occupancy: float | None = typer.Option(None, "--max-occupancy"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Print the fewest agents that meet the target, with SL, ASA and occupancy."""
    try:
        m = staffing(
            calls_per_hour,
            aht,
            answer_within,
            target_sl,
            patience_s=patience,
            max_occupancy=max_occupancy,
        )
    except HotlineError as e:
        typer.echo(f"error [{e.code}]: {e.message}", err=True)
        raise typer.Exit(2) from e
    out: dict[str, Any] = {
        "agents": m.agents,
        "service_level": _round(m.service_level, 4),
        "asa_s": _round(m.asa_s, 2),
        "occupancy": _round(m.occupancy, 4),
        "traffic_erlangs": _round(m.traffic_erlangs, 3),
        "p_wait": _round(m.p_wait, 4),
        "model": "erlang_a" if patience else "erlang_c",
    }
    if patience:
        out["abandon_rate"] = _round(m.abandon_rate, 4)
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(
        f"{m.agents} agents → SL {m.service_level:.1%} within {answer_within:.0f}s, "
        f"ASA {m.asa_s:.1f}s, occupancy {m.occupancy:.1%} "
        f"({m.traffic_erlangs:.2f} Erlangs, {out['model']})"
    )


def _agent(d: dict[str, Any], now: datetime) -> AgentSnapshot:
    if not isinstance(d, dict) or "id" not in d:
        raise InvalidScenario("every agent needs an 'id'")
    idle = d.get("idle_since_s")
    assigned = d.get("last_assigned_s")
    capacity = d.get("capacity") or {"voice": 1, "chat": 3}
    try:
        status = AgentStatus(d.get("state", "available"))
        cap = {Channel(k): int(v) for k, v in capacity.items()}
    except ValueError as e:
        raise InvalidScenario(f"agent {d['id']}: {e}") from e
    return AgentSnapshot(
        id=str(d["id"]),
        skills=dict(d.get("skills") or {}),
        languages=frozenset(d.get("languages") or ()),
        state=status,
        capacity=cap,
        idle_since=now - timedelta(seconds=float(idle)) if idle is not None else None,
        last_assigned_at=now - timedelta(seconds=float(assigned)) if assigned is not None else None,
        region=d.get("region"),
        is_bot_pool=bool(d.get("is_bot_pool", False)),
    )


def _contact(d: dict[str, Any], queue_id: str, now: datetime) -> ContactRequest:
    if not isinstance(d, dict):
        raise InvalidScenario("'call' must be an object")
    needed = d.get("skills_needed") or {}
    if isinstance(needed, list):
        needed = {s: 1 for s in needed}
    try:
        channel = Channel(d.get("channel", "voice"))
    except ValueError as e:
        raise InvalidScenario(str(e)) from e
    return ContactRequest(
        id=str(d.get("id", "call")),
        enqueued_at=now - timedelta(seconds=float(d.get("waited_s", 0))),
        queue_id=queue_id,
        channel=channel,
        skills_needed=needed,
        language=d.get("language"),
        priority=int(d.get("priority", 0)),
        vip=bool(d.get("vip", False)),
        last_agent=d.get("last_agent"),
        caller_area=d.get("caller_area"),
    )


def route_scenario(obj: Any, *, now: datetime = SCENARIO_NOW) -> dict[str, Any]:
    """Decide one what-if scenario; raises a RoutingError for bad input."""
    if not isinstance(obj, dict):
        raise InvalidScenario("a scenario must be a JSON object")
    if "agents" not in obj or "call" not in obj:
        raise InvalidScenario("a scenario needs 'agents' and 'call'")
    if not isinstance(obj["agents"], list):
        raise InvalidScenario("'agents' must be a list")
    queue = (
        queue_from_dict(obj["queue"])
        if isinstance(obj.get("queue"), dict)
        else QueueConfig("scenario", sticky_timeout_s=float(obj.get("sticky_timeout_s", 30)))
    )
    policy = Policy(strategy=obj.get("policy", "longest_idle"))
    agents = [_agent(a, now) for a in obj["agents"]]
    contact = _contact(obj["call"], queue.id, now)
    d = decide(contact, agents, {queue.id: queue}, policy, now)
    out: dict[str, Any] = {"agent": d.agent_id, "reason": d.reason, "decision": d.kind}
    if d.target is not None:
        out["target"] = str(d.target)
    return out


@route_app.callback(invoke_without_command=True)
def route_command(
    scenarios: Path = typer.Option(..., "--scenarios", help="JSONL file, one scenario a line"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One answer per scenario line; a bad line reports its error and the rest go on.

    Exits 1 when any line failed (after printing every line's result).
    """
    if not scenarios.exists():
        typer.echo(f"error [not_found]: {scenarios} does not exist", err=True)
        raise typer.Exit(2)
    failed = 0
    with scenarios.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                result: dict[str, Any] = route_scenario(json.loads(line))
            except json.JSONDecodeError as e:
                result = {"agent": None, "error": {"code": "invalid_json", "message": str(e)}}
            except HotlineError as e:
                result = {"agent": None, "error": {"code": e.code, "message": e.message}}
            except (TypeError, ValueError, KeyError, AttributeError) as e:
                msg = f"{type(e).__name__}: {e}"
                result = {"agent": None, "error": {"code": "invalid_scenario", "message": msg}}
            result = {"line": n, **result}
            failed += "error" in result
            if as_json:
                typer.echo(json.dumps(result, ensure_ascii=False))
            elif "error" in result:
                err = result["error"]
                typer.echo(f"{n}: error [{err['code']}] {err['message']}")
            else:
                typer.echo(f"{n}: {result['agent'] or '(none)'} — {result['reason']}")
    if failed:
        raise typer.Exit(1)


@simulate_app.callback(invoke_without_command=True)
def simulate_command(
    agents: int = typer.Option(..., "--agents", min=1),
    calls_per_hour: float = typer.Option(100.0, "--calls-per-hour"),
    aht: float = typer.Option(180.0, "--aht"),
    hours: float = typer.Option(8.0, "--hours"),
    answer_within: float = typer.Option(20.0, "--answer-within"),
    patience: float | None = typer.Option(None, "--patience"),
    seed: int = typer.Option(1, "--seed"),
    bank: Path | None = typer.Option(None, "--bank", help="Anonymous Bank TSV to replay"),
    date: str | None = typer.Option(None, "--date", help="YYMMDD day of --bank"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Simulate Poisson arrivals (or replay a recorded day) and compare with Erlang C."""
    if bank is not None:
        arrivals = bank_arrivals(bank, date=date)
    else:
        arrivals = poisson_arrivals(
            calls_per_hour, aht, hours * 3600, seed=seed, patience_s=patience
        )
    r = simulate(arrivals, agents, answer_within_s=answer_within)
    out: dict[str, Any] = {"source": str(bank) if bank else "poisson", **r.as_dict()}
    if bank is None:
        ec = erlang_c_metrics(calls_per_hour, aht, agents, answer_within)
        out["erlang_c"] = {
            "service_level": _round(ec.service_level, 4),
            "asa_s": _round(ec.asa_s, 2),
        }
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(
        f"{r.offered} offered, SL {r.service_level:.1%}, ASA {r.asa_s:.1f}s, "
        f"abandon {r.abandon_rate:.1%}, occupancy {r.occupancy:.1%}"
    )
    if "erlang_c" in out:
        typer.echo(f"Erlang C: SL {out['erlang_c']['service_level']:.1%}")
