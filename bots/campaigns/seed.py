"""Demo data: one draft campaign per shipped template, each with the demo contact list.

Idempotent (a template that already has a campaign is skipped), so ``make run`` can call it
on every start. ``+12127360100`` in the list is the browser test phone's default number.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bots.campaigns import repo
from bots.campaigns.config import parse_config
from bots.campaigns.contact_lists import parse_contact_list
from bots.campaigns.scripts import TEMPLATES_DIR, list_templates
from core.clock import Clock
from core.store.tables.campaigns import CampaignRow

DEMO_LIST = TEMPLATES_DIR / "demo_contacts.csv"


async def seed_demo_campaigns(sessions: async_sessionmaker, *, clock: Clock) -> list[str]:
    """Create the missing demo campaigns (drafts); returns the ids created."""
    created: list[str] = []
    async with sessions() as s, s.begin():
        have = set((await s.scalars(select(CampaignRow.template))).all())
        for tpl in list_templates():
            if tpl.name in have:
                continue
            cfg = parse_config(tpl.settings, where=tpl.name)
            row = await repo.create_campaign(
                s,
                name=f"Demo: {tpl.title}",
                script=tpl.script.model_dump(mode="json"),
                settings=tpl.settings,
                language=tpl.language,
                template=tpl.name,
                created_by="seed",
                now=clock.now(),
            )
            parsed = parse_contact_list(
                DEMO_LIST.read_bytes(),
                filename=DEMO_LIST.name,
                default_region=cfg.default_region,
                default_time_zone=cfg.default_time_zone,
            )
            await repo.add_contacts(
                s, campaign_id=row.id, contacts=parsed.contacts, now=clock.now()
            )
            created.append(row.id)
    return created
