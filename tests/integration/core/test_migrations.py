"""Every table the code defines is created by the migrations, on SQLite and PostgreSQL alike."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.store import Store
from core.store.schema import metadata


async def test_migrations_match_the_tables(store: Store) -> None:
    def diff(conn):  # type: ignore[no-untyped-def]
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        return [
            d
            for d in compare_metadata(ctx, metadata)
            if not (
                isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version"
            )
        ]

    async with store.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == [], f"tables and migrations disagree; write a migration: {changes[:5]}"
