"""Campaign fixtures: campaign tables on the shared store, an ARI fake + dialer, a fake runner."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bots.campaigns.dispositions import Disposition
from bots.campaigns.scheduler import CallResult, ConnectedCall
from core.store import Store
from core.store.tables.base import Base
from core.store.tables.campaigns import CAMPAIGN_TABLES


@pytest.fixture
async def cstore(store: Store) -> AsyncIterator[Store]:
    """The migrated store plus the campaign tables (their Alembic migration is the lead's)."""
    async with store.engine.begin() as conn:
        await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=list(CAMPAIGN_TABLES)))
    yield store


class ScriptedRunner:
    """The bot-conversation boundary, faked: the outcome per number comes from a script.

    Calls are held until ``release`` is set, so a test can see how many conversations run
    at once (that is what decides abandons).
    """

    def __init__(self, outcomes: dict[str, Disposition]) -> None:
        self.outcomes = outcomes
        self.release = asyncio.Event()
        self.release.set()
        self.calls: list[ConnectedCall] = []
        self.max_concurrent = 0
        self._now = 0

    async def run(self, call: ConnectedCall) -> CallResult:
        self.calls.append(call)
        self._now += 1
        self.max_concurrent = max(self.max_concurrent, self._now)
        try:
            await self.release.wait()
        finally:
            self._now -= 1
        d = self.outcomes.get(call.phone_e164, Disposition.ANSWERED_HUMAN)
        return CallResult(
            d,
            answered_by="machine" if d is Disposition.VOICEMAIL else "human",
            handoff=d is Disposition.TRANSFERRED,
        )
