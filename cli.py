"""The `hotline` command line: serve, migrate, seed, models, doctor, bench and area commands."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.errors import HotlineError
from core.settings import Settings, load_settings

app = typer.Typer(help="Hotline: open-source, AI-first contact centre.", no_args_is_help=True)
models_app = typer.Typer(help="The model registry: list, verify, prepare.", no_args_is_help=True)
users_app = typer.Typer(help="Users of the demo centre.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(users_app, name="users")

BENCHMARKS = {
    "voice": "bench.voice_latency",
    "tts": "bench.tts_quality",
    "asr": "bench.asr_accuracy",
    "nlu": "bench.nlu_accuracy",
    "nlu-tuned": "bench.nlu_finetune",
    "routing": "bench.routing_decisions",
    "assist": "bench.assist_latency",
    "qa": "bench.qa_throughput",
    "bots": "bench.bots_turns",
    "outbound": "bench.outbound_dialer",
}


def _settings() -> Settings:
    try:
        return load_settings()
    except HotlineError as e:
        _fail(e)
        raise  # unreachable


def _fail(e: HotlineError) -> None:
    typer.echo(f"error: {e.message}", err=True)
    raise typer.Exit(2)


def _registry(settings: Settings):  # type: ignore[no-untyped-def]
    from models import CATALOG, Registry

    return Registry(CATALOG, models_dir=settings.models_dir)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (HOTLINE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (HOTLINE_PORT)")] = None,
) -> None:
    """Serve the API and pages (http://127.0.0.1:8000 by default)."""
    import uvicorn

    settings = _settings()
    try:
        asyncio.run(_preflight(settings))
        from app import create_app  # heavy imports (pipecat, torch) only once checks passed

        application = create_app(settings)
    except HotlineError as e:
        _fail(e)
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


async def _preflight(settings: Settings) -> None:
    """Fail fast, in one line, on an unreachable store or bus before serving anything."""
    from core.bus import open_bus
    from core.store import open_store

    store = open_store(settings.database_url)
    try:
        await store.check()
    finally:
        await store.close()
    bus = open_bus(settings.bus_url, stream=settings.bus.stream)
    try:
        await bus.start()
    finally:
        await bus.close()


@app.command()
def migrate(revision: str = "head") -> None:
    """Upgrade the database schema (Alembic) to REVISION."""
    from core.store import open_store
    from core.store.migrate import upgrade

    settings = _settings()

    async def _run() -> None:
        store = open_store(settings.database_url)
        try:
            await store.check()
            await upgrade(store, revision)
        finally:
            await store.close()

    try:
        asyncio.run(_run())
    except HotlineError as e:
        _fail(e)
    typer.echo(f"database at {revision}")


@app.command()
def seed() -> None:
    """Seed the Demo Bank centre; prints new users' one-time passwords once."""
    from bots.campaigns.seed import seed_demo_campaigns
    from bots.crm import seed_demo_crm
    from core.bus import open_bus
    from core.clock import SystemClock
    from core.store import open_store
    from core.store.seed import load_demo_center, seed_users
    from routing.config import load_queues
    from routing.seed import seed_demo_agents
    from routing.service import RoutingService

    settings = _settings()

    async def _run() -> tuple[list, int, int, int]:
        store = open_store(settings.database_url)
        bus = open_bus("memory://")  # seeding publishes nothing anyone needs to hear
        try:
            await store.check()
            users = await seed_users(store.sessions, clock=SystemClock())
            routing = RoutingService(
                sessions=store.sessions, bus=bus, clock=SystemClock(), queues=load_queues()
            )
            await routing.start()
            agents = await seed_demo_agents(routing, load_demo_center())
            customers = await seed_demo_crm(store.sessions)
            campaigns = await seed_demo_campaigns(store.sessions, clock=SystemClock())
            return users, agents, customers, len(campaigns)
        finally:
            await store.close()

    try:
        created, agents, customers, campaigns = asyncio.run(_run())
    except HotlineError as e:
        _fail(e)
    if agents or customers or campaigns:
        typer.echo(
            f"demo centre: {agents} agents/bot pools, {customers} CRM records, "
            f"{campaigns} draft campaigns added"
        )
    if not created:
        typer.echo("demo users already seeded (kept; `hotline users reset-password NAME`)")
        return
    typer.echo("Demo users (passwords shown once; only hashes are stored):")
    for u in created:
        typer.echo(f"  {u.username:<12} {u.password:<20} {', '.join(u.roles)}")


@users_app.command("reset-password")
def reset_password(username: str) -> None:
    """Give USERNAME a new random password and print it once."""
    from core.store import open_store
    from core.store.seed import reset_password as _reset

    settings = _settings()

    async def _run() -> str:
        store = open_store(settings.database_url)
        try:
            return await _reset(store.sessions, username)
        finally:
            await store.close()

    try:
        typer.echo(f"{username}: {asyncio.run(_run())}")
    except HotlineError as e:
        _fail(e)


@models_app.command("list")
def models_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every model Hotline uses: role, source package, licence, size, sha256."""
    from models import CATALOG

    rows = [
        {
            "name": e.name,
            "role": e.role,
            "package": e.requirement,
            "languages": list(e.languages),
            "licence": e.licence,
            "size_mb": round(e.size / 1e6, 1),
            "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in e.files],
        }
        for e in CATALOG
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    typer.echo(f"{'name':<24}{'role':<11}{'package':<36}{'size':>9}  licence")
    for r in rows:
        size = f"{r['size_mb']:>7.1f}MB"
        typer.echo(f"{r['name']:<24}{r['role']:<11}{r['package']:<36}{size}  {r['licence']}")


@models_app.command("verify")
def models_verify() -> None:
    """Check every model file's size and sha256 against the pins."""
    registry = _registry(_settings())
    bad = 0
    for name in registry.entries:
        res = registry.verify(name)
        typer.echo(
            f"{'ok ' if res.ok else 'BAD'} {name}"
            + ("" if res.ok else ": " + "; ".join(res.problems))
        )
        bad += not res.ok
    if bad:
        raise typer.Exit(1)


@models_app.command("prepare")
def models_prepare() -> None:
    """Verify every model and assemble split weights (idempotent)."""
    registry = _registry(_settings())
    for name in registry.entries:
        try:
            path = registry.prepare(name)
        except HotlineError as e:
            _fail(e)
        typer.echo(f"ready {name}: {path}")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@app.command()
def mask(
    text: Annotated[list[str] | None, typer.Argument(help="Text; none = stdin")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='{"text","masked"} per line')] = False,
) -> None:
    """Mask cards (Luhn), Chinese ID numbers, phones and e-mails, one line per input line."""
    from core.masking import mask_text

    lines = [" ".join(text)] if text else [line.rstrip("\n") for line in sys.stdin]
    for line in lines:
        masked = mask_text(line)
        out = {"text": line, "masked": masked} if as_json else masked
        typer.echo(json.dumps(out, ensure_ascii=False) if as_json else out)


@app.command()
def doctor() -> None:
    """Check Python, models, database, bus and optional services; print fixes."""
    rows: list[tuple[str, bool, str, bool]] = []  # check, ok, fix, required
    rows.append(
        ("python 3.11", sys.version_info[:2] == (3, 11), "use python3.11 (make run does)", True)
    )
    try:
        settings = load_settings()
        rows.append(("settings", True, "", True))
    except HotlineError as e:
        rows.append(("settings", False, e.message, True))
        settings = None
    if settings is not None:
        registry = _registry(settings)
        for name in registry.entries:
            res = registry.verify(name, check_hash=False)
            rows.append((f"model {name}", res.ok, "; ".join(res.problems) or "", True))
        from core.store import open_store

        async def _db() -> bool:
            store = open_store(settings.database_url)
            try:
                return await store.ping()
            finally:
                await store.close()

        rows.append(
            ("database", asyncio.run(_db()), "check HOTLINE_DATABASE_URL / start PostgreSQL", True)
        )
        from core.bus import open_bus

        async def _bus() -> bool:
            bus = open_bus(settings.bus_url)
            try:
                await bus.start()
                return await bus.ping()
            except HotlineError:
                return False
            finally:
                await bus.close()

        rows.append(
            ("bus", asyncio.run(_bus()), "check HOTLINE_BUS_URL / start Redis or NATS", True)
        )
    for name, port in (("postgresql", 5432), ("redis", 6379), ("nats", 4222), ("rabbitmq", 5672)):
        rows.append(
            (
                f"service {name} :{port}",
                _port_open("127.0.0.1", port),
                "optional (scale-out)",
                False,
            )
        )
    rows.append(
        (
            "chromium (e2e tests)",
            Path("/usr/bin/chromium").exists(),
            "apt-get install chromium",
            False,
        )
    )
    failed = False
    for check, ok, fix, required in rows:
        mark = "ok  " if ok else ("FAIL" if required else "warn")
        typer.echo(f"{mark} {check:<34} {'' if ok else fix}")
        failed |= required and not ok
    if failed:
        raise typer.Exit(1)


@app.command()
def bench(
    name: Annotated[str, typer.Argument(help=", ".join(BENCHMARKS))],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value")] = None,
    calls: Annotated[int | None, typer.Option("--calls", help="concurrent calls/contacts")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = True,
) -> None:
    """Run a benchmark; prints one JSON object and writes bench/results/NAME.json."""
    from bench.report import finish

    if name not in BENCHMARKS:
        typer.echo(f"error: unknown benchmark {name!r}; one of {', '.join(BENCHMARKS)}", err=True)
        raise typer.Exit(2)
    try:
        module = importlib.import_module(BENCHMARKS[name])
    except ModuleNotFoundError as e:
        typer.echo(f"error: benchmark {name!r} is not available in this build ({e})", err=True)
        raise typer.Exit(2) from e
    params: dict[str, object] = {}
    for p in param or []:
        key, _, value = p.partition("=")
        try:
            params[key] = json.loads(value)
        except json.JSONDecodeError:
            params[key] = value
    if calls is not None:
        if "calls" not in inspect.signature(module.run).parameters:
            typer.echo(f"error: benchmark {name!r} takes no --calls", err=True)
            raise typer.Exit(2)
        params["calls"] = calls
    result = finish(name, module.run(**params))
    typer.echo(json.dumps(result, indent=2 if as_json else None, ensure_ascii=False))


def _mount_area_commands() -> None:
    """Area packages contribute Typer sub-apps or single commands (`hotline nlu …`)."""
    for module_name, attr, command in AREA_COMMANDS:
        sub = getattr(importlib.import_module(module_name), attr)
        if isinstance(sub, typer.Typer):
            app.add_typer(sub, name=command)
        else:
            app.command(command)(sub)


AREA_COMMANDS: list[tuple[str, str, str]] = [
    ("routing.commands", "staffing_app", "staffing"),
    ("routing.commands", "route_app", "route"),
    ("routing.commands", "simulate_app", "simulate"),
    ("asr.commands", "transcribe", "transcribe"),
    ("nlu.commands", "nlu_app", "nlu"),
    ("nlu.commands", "emotion_app", "emotion"),
    ("qa.commands", "app", "qa"),
    ("assist.commands", "app", "kb"),
    ("bots.campaigns.commands", "app", "campaigns"),
]


def main() -> None:
    app()


_mount_area_commands()

if __name__ == "__main__":
    app()
