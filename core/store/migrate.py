"""Run Alembic migrations programmatically (CLI `hotline migrate`, `make run`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import SQLAlchemyError

from core.errors import StoreError
from core.store import Store

_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str) -> Config:
    cfg = Config(str(_INI))
    cfg.set_main_option("script_location", str(_INI.parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(store: Store, revision: str = "head") -> None:
    """Upgrade the store's database (its schema/search_path included) to ``revision``."""
    cfg = alembic_config(store.engine.url.render_as_string(hide_password=False))

    def _run(conn: object) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(_run)
    except (SQLAlchemyError, OSError) as e:
        raise StoreError(
            f"migration failed on {store.url}: {type(e).__name__}: {str(e).splitlines()[0]}"
        ) from e
