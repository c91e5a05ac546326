"""`hotline campaigns templates | seed | export CAMPAIGN_ID` — campaign chores from the shell."""

from __future__ import annotations

import asyncio
import csv
import sys
from typing import Annotated

import typer

app = typer.Typer(help="Outbound campaigns: templates, demo seed, CSV export.")


@app.command("templates")
def templates() -> None:
    """List the shipped campaign templates."""
    from bots.campaigns.scripts import list_templates

    for t in list_templates():
        typer.echo(f"{t.name}\t{t.language}\t{t.title}")


def _store():  # type: ignore[no-untyped-def]
    from core.settings import load_settings
    from core.store import open_store

    return open_store(load_settings().database_url)


@app.command("seed")
def seed() -> None:
    """Create the demo campaigns (drafts with the demo contact list) if missing."""
    from bots.campaigns.seed import seed_demo_campaigns
    from core.clock import SystemClock

    async def go() -> list[str]:
        store = _store()
        try:
            return await seed_demo_campaigns(store.sessions, clock=SystemClock())
        finally:
            await store.close()

    ids = asyncio.run(go())
    typer.echo(f"created {len(ids)} demo campaign(s)")


@app.command("export")
def export(campaign_id: Annotated[str, typer.Argument(help="campaign id")]) -> None:
    """Write one CSV row per contact (status, attempts, last disposition) to stdout."""
    from bots.campaigns import repo

    async def go() -> list[dict]:
        store = _store()
        try:
            async with store.sessions() as s:
                await repo.get_campaign(s, campaign_id)
                return await repo.export_rows(s, campaign_id=campaign_id)
        finally:
            await store.close()

    rows = asyncio.run(go())
    fields = list(dict.fromkeys(k for r in rows for k in r)) or ["phone"]
    w = csv.DictWriter(sys.stdout, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
