"""The store: SQLAlchemy 2 (async) tables, migrations and the contact timeline."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from core.errors import StoreError
from core.store.engine import make_engine, make_sessionmaker, ping

__all__ = ["Store", "open_store"]


class Store:
    """Engine + session factory, built once in the composition root and passed down."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.sessions: async_sessionmaker = make_sessionmaker(engine)

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    async def ping(self) -> bool:
        try:
            return await ping(self.engine)
        except (SQLAlchemyError, OSError):
            return False

    async def check(self) -> None:
        """Raise a StoreError naming the setting when the database cannot be reached."""
        try:
            await ping(self.engine)
        except (SQLAlchemyError, OSError) as e:
            raise StoreError(
                f"database_url ({self.url}): cannot connect ({type(e).__name__}); "
                "start the database or fix HOTLINE_DATABASE_URL"
            ) from e

    async def close(self) -> None:
        await self.engine.dispose()


def open_store(url: str, *, schema: str | None = None) -> Store:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return Store(make_engine(url, schema=schema))
